#include "dataset/manifest_reader.h"

#include <algorithm>

namespace osprey::dataset {

ChunkReader ObjectChunkReader(const storage::ObjectStore& store, std::string bucket,
                              std::string key, int64_t size) {
  return [&store, bucket = std::move(bucket), key = std::move(key), size](
             int64_t offset, size_t max_bytes) -> Result<std::string> {
    std::string out;
    if (offset >= size) return out;
    int64_t length = std::min<int64_t>(static_cast<int64_t>(max_bytes), size - offset);
    Status s = store.ReadObject(bucket, key, offset, length, [&out](std::string_view chunk) {
      out.append(chunk);
      return true;
    });
    if (!s.ok()) return s;
    return out;
  };
}

ChunkReader StringChunkReader(std::string_view data) {
  return [data](int64_t offset, size_t max_bytes) -> Result<std::string> {
    if (offset >= static_cast<int64_t>(data.size())) return std::string();
    return std::string(data.substr(static_cast<size_t>(offset), max_bytes));
  };
}

ManifestLineReader::ManifestLineReader(ChunkReader read, size_t max_line_bytes,
                                       size_t chunk_bytes)
    : read_(std::move(read)), max_line_bytes_(max_line_bytes), chunk_bytes_(chunk_bytes) {}

bool ManifestLineReader::Refill() {
  if (eof_ || !status_.ok()) return false;
  Result<std::string> chunk = read_(offset_, chunk_bytes_);
  if (!chunk.ok()) {
    status_ = chunk.status();
    return false;
  }
  if (chunk->empty()) {
    eof_ = true;
    return false;
  }
  bool first = offset_ == 0;
  offset_ += static_cast<int64_t>(chunk->size());
  if (first && chunk->compare(0, 3, "\xEF\xBB\xBF") == 0) chunk->erase(0, 3);
  buffer_.erase(0, pos_);
  pos_ = 0;
  buffer_ += *chunk;
  return true;
}

bool ManifestLineReader::Next(ManifestLine& line) {
  line = ManifestLine{next_index_, "", false};
  bool any = false;  // saw at least one byte or the newline of this line
  while (true) {
    size_t newline = buffer_.find('\n', pos_);
    size_t end = newline == std::string::npos ? buffer_.size() : newline;
    size_t take = end - pos_;
    if (!line.too_long) {
      if (line.text.size() + take > max_line_bytes_ + 1) {  // +1: a trailing '\r' is allowed
        line.too_long = true;
        line.text.clear();
      } else {
        line.text.append(buffer_, pos_, take);
      }
    }
    any |= take > 0;
    pos_ = end;
    if (newline != std::string::npos) {
      ++pos_;
      break;
    }
    if (!Refill()) {
      if (!status_.ok() || !any) return false;
      break;  // last line without a final newline
    }
  }
  if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
  ++next_index_;
  return true;
}

}  // namespace osprey::dataset

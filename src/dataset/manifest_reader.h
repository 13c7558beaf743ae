// ManifestLineReader: splits a manifest into lines while reading it in bounded chunks, so memory
// stays O(chunk + max line) whatever the file holds (SECURITY §6 item 8: one endless line, 1 GB
// files). Handles LF and CRLF endings, a UTF-8 BOM at the start, and a missing final newline.
// Not thread-safe; one reader per import.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/object_store.h"

namespace osprey::dataset {

// Reads up to `max_bytes` starting at `offset`; returns "" at the end of the data.
using ChunkReader = std::function<Result<std::string>(int64_t offset, size_t max_bytes)>;

// Reads an object of `size` bytes from the store, chunk by chunk.
ChunkReader ObjectChunkReader(const storage::ObjectStore& store, std::string bucket,
                              std::string key, int64_t size);
// Reads from memory. REQUIRES: `data` outlives the reader.
ChunkReader StringChunkReader(std::string_view data);

struct ManifestLine {
  int64_t index = 0;        // 0-based line number
  std::string text;         // without the line ending; truncated when too_long
  bool too_long = false;    // the line exceeded max_line_bytes (its text is not kept)
};

class ManifestLineReader {
 public:
  ManifestLineReader(ChunkReader read, size_t max_line_bytes, size_t chunk_bytes = 1 << 20);

  // Fills `line` with the next line; returns false at the end or on a read error (see status()).
  bool Next(ManifestLine& line);
  const Status& status() const { return status_; }
  int64_t bytes_read() const { return offset_; }

 private:
  bool Refill();

  ChunkReader read_;
  size_t max_line_bytes_;
  size_t chunk_bytes_;
  std::string buffer_;
  size_t pos_ = 0;
  int64_t offset_ = 0;
  int64_t next_index_ = 0;
  bool eof_ = false;
  Status status_;
};

}  // namespace osprey::dataset

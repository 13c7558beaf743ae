// LocalObjectStore's multipart uploads. Each upload is a private directory under <root>/.uploads
// holding its description and its parts, each part written temp -> fsync -> rename like an
// object. Completion copies the chosen parts (kernel-side where possible) into one temp file and
// commits it exactly like a PUT, so the object appears whole or not at all; the upload directory
// is removed afterwards (a crash in between leaves a stale upload, never a torn object).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

#include "auth/crypto.h"
#include "common/ids.h"
#include "storage/file_util.h"
#include "storage/local_object_store.h"
#include "storage/object_meta.h"

namespace osprey::storage {
namespace fs = std::filesystem;

namespace {
constexpr char kUploadMeta[] = "upload.meta";

Status NoSuchUpload(std::string_view upload_id) {
  return Status::NotFound("The specified upload does not exist: " + std::string(upload_id));
}

// Upload ids are our own UUIDs; anything else is refused before it gets near a path.
bool ValidUploadId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f') || c == '-';
  });
}

std::string PartName(int part_number) {
  char name[16];
  std::snprintf(name, sizeof(name), "%05d", part_number);
  return name;
}

std::string ReadSmallFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<UploadInfo> ReadUpload(const fs::path& dir) {
  std::string text = ReadSmallFile(dir / kUploadMeta);
  if (text.empty()) return std::nullopt;
  ObjectInfo info;
  uint64_t inode = 0;
  std::map<std::string, std::string> extra;
  DecodeObjectMeta(text, &info, &inode, &extra);
  UploadInfo upload;
  upload.upload_id = dir.filename().string();
  upload.bucket = extra["bucket"];
  upload.key = extra["key"];
  upload.initiated_ms = info.last_modified_ms;
  upload.options.content_type = info.content_type;
  upload.options.user_metadata = info.user_metadata;
  return upload;
}

std::string NormalizeEtag(std::string_view etag) {
  std::string out;
  for (char c : etag) {
    if (c != '"') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

Result<fs::path> LocalObjectStore::UploadDir(std::string_view bucket, std::string_view key,
                                             std::string_view upload_id) const {
  if (!ValidUploadId(upload_id)) return NoSuchUpload(upload_id);
  fs::path dir = root_ / ".uploads" / std::string(upload_id);
  std::optional<UploadInfo> upload = ReadUpload(dir);
  if (!upload || upload->bucket != bucket || upload->key != key) return NoSuchUpload(upload_id);
  return dir;
}

Result<std::string> LocalObjectStore::CreateMultipartUpload(std::string_view bucket,
                                                            std::string_view key,
                                                            const PutOptions& options) {
  OSPREY_RETURN_IF_ERROR(ObjectDir(bucket, key).status());
  if (!BucketExists(bucket)) {
    return Status::NotFound("The specified bucket does not exist: " + std::string(bucket));
  }
  std::string upload_id = NewUuid();
  fs::path dir = root_ / ".uploads" / upload_id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create upload directory: " + ec.message());
  ObjectInfo info;
  info.content_type = options.content_type;
  info.user_metadata = options.user_metadata;
  info.last_modified_ms = clock_.NowMillis();
  std::string meta = MetaLine("bucket", bucket) + MetaLine("key", key) + EncodeObjectMeta(info, 0);
  OSPREY_RETURN_IF_ERROR(WriteFileAtomic(root_ / ".tmp", dir / kUploadMeta, meta));
  return upload_id;
}

Result<PartInfo> LocalObjectStore::UploadPart(std::string_view bucket, std::string_view key,
                                              std::string_view upload_id, int part_number,
                                              const ObjectProducer& producer) {
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return Status::InvalidArgument("Part number must be an integer between 1 and 10000.");
  }
  OSPREY_ASSIGN_OR_RETURN(fs::path dir, UploadDir(bucket, key, upload_id));
  OSPREY_ASSIGN_OR_RETURN(TempFile data_file, TempFile::Create(root_ / ".tmp"));
  auth::Md5Hasher md5;
  PartInfo part;
  part.part_number = part_number;
  OSPREY_RETURN_IF_ERROR(producer([&](std::string_view chunk) {
    md5.Update(chunk);
    part.size += static_cast<int64_t>(chunk.size());
    return data_file.Append(chunk);
  }));
  part.etag = md5.FinishHex();
  part.last_modified_ms = clock_.NowMillis();
  ObjectInfo meta;
  meta.size = part.size;
  meta.etag = part.etag;
  meta.last_modified_ms = part.last_modified_ms;
  OSPREY_ASSIGN_OR_RETURN(TempFile meta_file, TempFile::Create(root_ / ".tmp"));
  OSPREY_RETURN_IF_ERROR(meta_file.Append(EncodeObjectMeta(meta, data_file.inode())));
  const std::string name = PartName(part_number);
  if (!data_file.Commit(dir / name).ok()) return NoSuchUpload(upload_id);  // aborted meanwhile
  OSPREY_RETURN_IF_ERROR(meta_file.Commit(dir / (name + ".meta")));
  return part;
}

Result<std::vector<PartInfo>> LocalObjectStore::ListParts(std::string_view bucket,
                                                          std::string_view key,
                                                          std::string_view upload_id) const {
  OSPREY_ASSIGN_OR_RETURN(fs::path dir, UploadDir(bucket, key, upload_id));
  std::vector<PartInfo> parts;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 5 || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    struct stat st;
    if (::stat(entry.path().c_str(), &st) != 0) continue;
    Result<ObjectInfo> meta =
        ReadObjectMeta(dir / (name + ".meta"), entry.path(), name, static_cast<uint64_t>(st.st_ino),
                       static_cast<int64_t>(st.st_size));
    if (!meta.ok()) continue;
    parts.push_back(PartInfo{std::stoi(name), meta->size, meta->etag, meta->last_modified_ms});
  }
  std::sort(parts.begin(), parts.end(),
            [](const PartInfo& a, const PartInfo& b) { return a.part_number < b.part_number; });
  return parts;
}

Result<ObjectInfo> LocalObjectStore::CompleteMultipartUpload(
    std::string_view bucket, std::string_view key, std::string_view upload_id,
    const std::vector<CompletedPart>& parts) {
  if (!BucketExists(bucket)) {
    return Status::NotFound("The specified bucket does not exist: " + std::string(bucket));
  }
  OSPREY_ASSIGN_OR_RETURN(fs::path dir, UploadDir(bucket, key, upload_id));
  std::optional<UploadInfo> upload = ReadUpload(dir);
  if (!upload) return NoSuchUpload(upload_id);
  if (parts.empty()) {
    return Status::InvalidArgument("You must specify at least one part.");
  }
  OSPREY_ASSIGN_OR_RETURN(std::vector<PartInfo> stored, ListParts(bucket, key, upload_id));
  std::map<int, PartInfo> by_number;
  for (PartInfo& part : stored) by_number[part.part_number] = std::move(part);
  std::vector<std::string> etags;
  int previous = 0;
  for (const CompletedPart& wanted : parts) {
    if (wanted.part_number <= previous) {
      return Status::InvalidArgument("The list of parts was not in ascending order.");
    }
    previous = wanted.part_number;
    auto it = by_number.find(wanted.part_number);
    if (it == by_number.end() || it->second.etag != NormalizeEtag(wanted.etag)) {
      return Status::InvalidArgument("One or more of the specified parts could not be found.");
    }
    etags.push_back(it->second.etag);
  }
  OSPREY_ASSIGN_OR_RETURN(fs::path object_dir, ObjectDir(bucket, key));
  OSPREY_ASSIGN_OR_RETURN(TempFile data_file, TempFile::Create(root_ / ".tmp"));
  ObjectInfo info;
  for (const CompletedPart& wanted : parts) {
    const PartInfo& part = by_number[wanted.part_number];
    int fd = ::open((dir / PartName(part.part_number)).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NoSuchUpload(upload_id);
    Status copied = data_file.AppendFrom(fd, part.size);
    ::close(fd);
    OSPREY_RETURN_IF_ERROR(copied);
    info.size += part.size;
  }
  info.key = std::string(key);
  info.etag = MultipartEtag(etags);
  info.content_type = upload->options.content_type;
  info.user_metadata = upload->options.user_metadata;
  info.last_modified_ms = clock_.NowMillis();
  OSPREY_RETURN_IF_ERROR(CommitObject(object_dir, data_file, info));
  std::error_code ec;
  fs::remove_all(dir, ec);
  return info;
}

Status LocalObjectStore::AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                              std::string_view upload_id) {
  OSPREY_ASSIGN_OR_RETURN(fs::path dir, UploadDir(bucket, key, upload_id));
  std::error_code ec;
  fs::remove(dir / kUploadMeta, ec);  // first, so a half-removed upload is no upload
  fs::remove_all(dir, ec);
  if (ec) return Status::Internal("cannot remove upload: " + ec.message());
  return Status::Ok();
}

Result<std::vector<UploadInfo>> LocalObjectStore::ListMultipartUploads(
    std::string_view bucket, std::string_view prefix) const {
  if (!BucketExists(bucket)) {
    return Status::NotFound("The specified bucket does not exist: " + std::string(bucket));
  }
  std::vector<UploadInfo> uploads;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ / ".uploads", ec)) {
    std::optional<UploadInfo> upload = ReadUpload(entry.path());
    if (!upload || upload->bucket != bucket || upload->key.rfind(prefix, 0) != 0) continue;
    uploads.push_back(std::move(*upload));
  }
  std::sort(uploads.begin(), uploads.end(), [](const UploadInfo& a, const UploadInfo& b) {
    return a.key != b.key ? a.key < b.key : a.initiated_ms < b.initiated_ms;
  });
  return uploads;
}

}  // namespace osprey::storage

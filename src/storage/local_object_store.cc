#include "storage/local_object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "auth/crypto.h"
#include "storage/file_util.h"
#include "storage/object_meta.h"

namespace osprey::storage {
namespace fs = std::filesystem;

namespace {
constexpr char kDataFile[] = ".osprey.obj";
constexpr char kMetaFile[] = ".osprey.meta";
constexpr char kBucketMarker[] = ".osprey.bucket";
constexpr char kReservedPrefix[] = ".osprey";

Status NoSuchBucket(std::string_view bucket) {
  return Status::NotFound("The specified bucket does not exist: " + std::string(bucket));
}
Status NoSuchKey(std::string_view key) {
  return Status::NotFound("The specified key does not exist: " + std::string(key));
}

// Splits a key into path segments, refusing the ones that could leave the bucket directory or
// collide with our own files.
Result<std::vector<std::string>> KeySegments(std::string_view key) {
  OSPREY_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::vector<std::string> segments;
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    std::string_view seg =
        key.substr(start, slash == std::string_view::npos ? key.size() - start : slash - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return Status::InvalidArgument(
          "Object keys with empty, '.' or '..' path segments are not supported by this store.");
    }
    if (seg.size() > 255) return Status::InvalidArgument("A key segment is longer than 255 bytes.");
    if (seg.find('\\') != std::string_view::npos) {
      return Status::InvalidArgument("Object keys with backslashes are not supported.");
    }
    if (seg.substr(0, sizeof(kReservedPrefix) - 1) == kReservedPrefix) {
      return Status::InvalidArgument("Key segments starting with '.osprey' are reserved.");
    }
    segments.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

}  // namespace

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(const fs::path& root,
                                                                 const Clock& clock) {
  std::error_code ec;
  fs::create_directories(root / ".tmp", ec);
  if (!ec) fs::create_directories(root / ".uploads", ec);
  if (ec) return Status::Internal("cannot create " + root.string() + ": " + ec.message());
  // Anything in .tmp is a write that never committed (crash or kill): drop it.
  for (const auto& entry : fs::directory_iterator(root / ".tmp", ec)) {
    fs::remove_all(entry.path(), ec);
  }
  return std::unique_ptr<LocalObjectStore>(new LocalObjectStore(fs::absolute(root), clock));
}

Result<fs::path> LocalObjectStore::BucketDir(std::string_view bucket) const {
  OSPREY_RETURN_IF_ERROR(ValidateBucketName(bucket));
  return root_ / std::string(bucket);
}

Result<fs::path> LocalObjectStore::ObjectDir(std::string_view bucket, std::string_view key) const {
  OSPREY_ASSIGN_OR_RETURN(fs::path dir, BucketDir(bucket));
  OSPREY_ASSIGN_OR_RETURN(std::vector<std::string> segments, KeySegments(key));
  for (const auto& seg : segments) dir /= seg;
  return dir;
}

Status LocalObjectStore::CreateBucket(std::string_view bucket) {
  OSPREY_ASSIGN_OR_RETURN(fs::path dir, BucketDir(bucket));
  if (fs::exists(dir / kBucketMarker)) {
    return Status::AlreadyExists("Bucket already exists: " + std::string(bucket));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create bucket directory: " + ec.message());
  return WriteFileAtomic(root_ / ".tmp", dir / kBucketMarker,
                         std::to_string(clock_.NowMillis()) + "\n");
}

Status LocalObjectStore::DeleteBucket(std::string_view bucket) {
  OSPREY_ASSIGN_OR_RETURN(fs::path dir, BucketDir(bucket));
  if (!BucketExists(bucket)) return NoSuchBucket(bucket);
  OSPREY_ASSIGN_OR_RETURN(ListResult any, ListObjects(bucket, ListOptions{"", "", 1, ""}));
  if (!any.objects.empty()) {
    return Status::InUse("The bucket you tried to delete is not empty: " + std::string(bucket));
  }
  std::error_code ec;
  fs::remove(dir / kBucketMarker, ec);  // first, so a half-deleted bucket is not a bucket
  fs::remove_all(dir, ec);
  if (ec) return Status::Internal("cannot delete bucket directory: " + ec.message());
  return Status::Ok();
}

bool LocalObjectStore::BucketExists(std::string_view bucket) const {
  Result<fs::path> dir = BucketDir(bucket);
  return dir.ok() && fs::exists(*dir / kBucketMarker);
}

Result<std::vector<BucketInfo>> LocalObjectStore::ListBuckets() const {
  std::vector<BucketInfo> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    std::string name = entry.path().filename().string();
    if (!ValidateBucketName(name).ok() || !fs::exists(entry.path() / kBucketMarker)) continue;
    std::ifstream in(entry.path() / kBucketMarker);
    BucketInfo info{name, 0};
    in >> info.creation_ms;
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const BucketInfo& a, const BucketInfo& b) { return a.name < b.name; });
  return out;
}

Result<ObjectInfo> LocalObjectStore::PutObject(std::string_view bucket, std::string_view key,
                                               std::string_view data, const PutOptions& options) {
  return PutObjectStream(
      bucket, key, [data](const ChunkWriter& write) { return write(data); }, options);
}

Result<ObjectInfo> LocalObjectStore::PutObjectStream(std::string_view bucket, std::string_view key,
                                                     const ObjectProducer& producer,
                                                     const PutOptions& options) {
  OSPREY_ASSIGN_OR_RETURN(fs::path dir, ObjectDir(bucket, key));
  if (!BucketExists(bucket)) return NoSuchBucket(bucket);
  OSPREY_ASSIGN_OR_RETURN(TempFile data_file, TempFile::Create(root_ / ".tmp"));
  auth::Md5Hasher md5;
  int64_t size = 0;
  OSPREY_RETURN_IF_ERROR(producer([&](std::string_view chunk) {
    if (options.etag_override.empty()) md5.Update(chunk);
    size += static_cast<int64_t>(chunk.size());
    return data_file.Append(chunk);
  }));
  ObjectInfo info;
  info.key = std::string(key);
  info.size = size;
  info.etag = options.etag_override.empty() ? md5.FinishHex() : options.etag_override;
  info.content_type = options.content_type;
  info.last_modified_ms = clock_.NowMillis();
  info.user_metadata = options.user_metadata;
  OSPREY_RETURN_IF_ERROR(CommitObject(dir, data_file, info));
  return info;
}

Status LocalObjectStore::CommitObject(const fs::path& dir, TempFile& data, const ObjectInfo& info) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create object directory: " + ec.message());
  // The meta names the data file's inode, so a crash between the two renames is detected on
  // read (see ReadMeta) instead of pairing new bytes with an old ETag.
  OSPREY_ASSIGN_OR_RETURN(TempFile meta_file, TempFile::Create(root_ / ".tmp"));
  OSPREY_RETURN_IF_ERROR(meta_file.Append(EncodeObjectMeta(info, data.inode())));
  // Both files are synced before either rename and the directory is synced once after both:
  // whichever renames a crash keeps, the inode check pairs meta and data correctly.
  OSPREY_RETURN_IF_ERROR(data.Sync());
  OSPREY_RETURN_IF_ERROR(meta_file.Sync());
  OSPREY_RETURN_IF_ERROR(data.RenameTo(dir / kDataFile));
  OSPREY_RETURN_IF_ERROR(meta_file.RenameTo(dir / kMetaFile));
  return FsyncDir(dir);
}

Result<ObjectInfo> LocalObjectStore::HeadObject(std::string_view bucket,
                                                std::string_view key) const {
  if (!BucketExists(bucket)) return NoSuchBucket(bucket);
  Result<fs::path> dir = ObjectDir(bucket, key);
  if (!dir.ok()) return NoSuchKey(key);  // a key we cannot store cannot exist either
  struct stat st;
  if (::stat((*dir / kDataFile).c_str(), &st) != 0) return NoSuchKey(key);
  return ReadObjectMeta(*dir / kMetaFile, *dir / kDataFile, std::string(key),
                        static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_size));
}

Result<std::string> LocalObjectStore::GetObject(std::string_view bucket,
                                                std::string_view key) const {
  OSPREY_ASSIGN_OR_RETURN(ObjectInfo info, HeadObject(bucket, key));
  std::string out;
  out.reserve(static_cast<size_t>(info.size));
  OSPREY_RETURN_IF_ERROR(ReadObject(bucket, key, 0, info.size, [&](std::string_view chunk) {
    out.append(chunk);
    return true;
  }));
  return out;
}

namespace {

// Reads through a descriptor opened once, so the bytes stay those of the opened inode.
Status ReadRange(int fd, int64_t offset, int64_t length, const ReadSink& sink) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::Internal("stat failed: " + ErrnoText(errno));
  if (offset < 0 || length < 0 || offset + length > st.st_size) {
    return Status::InvalidArgument("The requested range is not satisfiable.");
  }
  std::string buffer(static_cast<size_t>(std::min<int64_t>(length, 1 << 20)), '\0');
  while (length > 0) {
    ssize_t n = ::pread(fd, buffer.data(), std::min<size_t>(buffer.size(), length), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Internal("read failed: " + ErrnoText(errno));
    if (!sink(std::string_view(buffer.data(), static_cast<size_t>(n)))) break;
    offset += n;
    length -= n;
  }
  return Status::Ok();
}

class LocalObjectReader : public ObjectReader {
 public:
  explicit LocalObjectReader(int fd) : fd_(fd) {}
  ~LocalObjectReader() override { ::close(fd_); }
  void set_info(ObjectInfo info) { info_ = std::move(info); }
  const ObjectInfo& info() const override { return info_; }
  Status Read(int64_t offset, int64_t length, const ReadSink& sink) const override {
    return ReadRange(fd_, offset, length, sink);
  }

 private:
  int fd_;
  ObjectInfo info_;
};

}  // namespace

Status LocalObjectStore::ReadObject(std::string_view bucket, std::string_view key, int64_t offset,
                                    int64_t length, const ReadSink& sink) const {
  if (!BucketExists(bucket)) return NoSuchBucket(bucket);
  Result<fs::path> dir = ObjectDir(bucket, key);
  if (!dir.ok()) return NoSuchKey(key);
  int fd = ::open((*dir / kDataFile).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return NoSuchKey(key);
  Status status = ReadRange(fd, offset, length, sink);
  ::close(fd);
  return status;
}

Result<std::shared_ptr<ObjectReader>> LocalObjectStore::OpenObject(std::string_view bucket,
                                                                   std::string_view key) const {
  if (!BucketExists(bucket)) return NoSuchBucket(bucket);
  Result<fs::path> dir = ObjectDir(bucket, key);
  if (!dir.ok()) return NoSuchKey(key);
  int fd = ::open((*dir / kDataFile).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return NoSuchKey(key);
  auto reader = std::make_shared<LocalObjectReader>(fd);  // owns fd from here on
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::Internal("stat failed: " + ErrnoText(errno));
  OSPREY_ASSIGN_OR_RETURN(
      ObjectInfo info,
      ReadObjectMeta(*dir / kMetaFile, *dir / kDataFile, std::string(key),
                     static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_size)));
  reader->set_info(std::move(info));
  return std::shared_ptr<ObjectReader>(std::move(reader));
}

Status LocalObjectStore::DeleteObject(std::string_view bucket, std::string_view key) {
  if (!BucketExists(bucket)) return NoSuchBucket(bucket);
  Result<fs::path> dir = ObjectDir(bucket, key);
  if (!dir.ok()) return Status::Ok();
  std::error_code ec;
  // Data first: an object without data does not exist, whatever its meta says.
  fs::remove(*dir / kDataFile, ec);
  fs::remove(*dir / kMetaFile, ec);
  // Prune now-empty directories up to the bucket, so listings stay cheap.
  fs::path bucket_dir = root_ / std::string(bucket);
  for (fs::path p = *dir; p != bucket_dir && fs::is_empty(p, ec); p = p.parent_path()) {
    fs::remove(p, ec);
  }
  return Status::Ok();
}

}  // namespace osprey::storage

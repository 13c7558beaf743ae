// LocalObjectStore: an ObjectStore on a local folder, one directory per bucket.
//
// On-disk layout (human-browsable, so users can take their data with them):
//   <root>/<bucket>/.osprey.bucket                 bucket marker (creation time)
//   <root>/<bucket>/<seg1>/.../<segN>/.osprey.obj  the bytes of key "seg1/.../segN"
//   <root>/<bucket>/<seg1>/.../<segN>/.osprey.meta its size, ETag, content type, user metadata
//   <root>/.tmp/                                   writes in progress (same file system)
//   <root>/.uploads/<upload-id>/upload.meta        a multipart upload: bucket, key, options
//   <root>/.uploads/<upload-id>/<00001>[.meta]     its parts (same data+meta scheme as objects)
// Each object is a directory, so keys "a" and "a/b" can coexist as in S3. Keys are never
// concatenated into paths unchecked: empty, "." and ".." segments, backslashes, segments over 255
// bytes and segments starting with ".osprey" are refused with kInvalidArgument (documented in
// docs/design/storage.md). Writes go temp file -> fsync -> rename -> fsync(dir).
// Thread-safe: concurrent PUTs to one key end with one complete winner (rename is atomic).
#pragma once

#include <filesystem>
#include <memory>

#include "common/clock.h"
#include "storage/object_store.h"

namespace osprey::storage {

class TempFile;  // storage/file_util.h

class LocalObjectStore : public ObjectStore {
 public:
  // Creates `root` if needed and removes stale temporary files left by a crash.
  static Result<std::unique_ptr<LocalObjectStore>> Open(const std::filesystem::path& root,
                                                        const Clock& clock = Clock::Real());

  Status CreateBucket(std::string_view bucket) override;
  Status DeleteBucket(std::string_view bucket) override;
  bool BucketExists(std::string_view bucket) const override;
  Result<std::vector<BucketInfo>> ListBuckets() const override;
  Result<ObjectInfo> PutObject(std::string_view bucket, std::string_view key, std::string_view data,
                               const PutOptions& options) override;
  Result<ObjectInfo> PutObjectStream(std::string_view bucket, std::string_view key,
                                     const ObjectProducer& producer,
                                     const PutOptions& options) override;
  Result<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key) const override;
  Result<std::string> GetObject(std::string_view bucket, std::string_view key) const override;
  Status ReadObject(std::string_view bucket, std::string_view key, int64_t offset, int64_t length,
                    const ReadSink& sink) const override;
  Result<std::shared_ptr<ObjectReader>> OpenObject(std::string_view bucket,
                                                   std::string_view key) const override;
  Status DeleteObject(std::string_view bucket, std::string_view key) override;
  Result<ListResult> ListObjects(std::string_view bucket,
                                 const ListOptions& options) const override;

  Result<std::string> CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                            const PutOptions& options) override;
  Result<PartInfo> UploadPart(std::string_view bucket, std::string_view key,
                              std::string_view upload_id, int part_number,
                              const ObjectProducer& producer) override;
  Result<std::vector<PartInfo>> ListParts(std::string_view bucket, std::string_view key,
                                          std::string_view upload_id) const override;
  Result<ObjectInfo> CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                             std::string_view upload_id,
                                             const std::vector<CompletedPart>& parts) override;
  Status AbortMultipartUpload(std::string_view bucket, std::string_view key,
                              std::string_view upload_id) override;
  Result<std::vector<UploadInfo>> ListMultipartUploads(std::string_view bucket,
                                                       std::string_view prefix) const override;

  // The directory holding key's files, after validation. Exposed for tests.
  Result<std::filesystem::path> ObjectDir(std::string_view bucket, std::string_view key) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  LocalObjectStore(std::filesystem::path root, const Clock& clock)
      : root_(std::move(root)), clock_(clock) {}
  Result<std::filesystem::path> BucketDir(std::string_view bucket) const;
  // Renames a fully written data file into place as bucket/key with `info` as its meta.
  // REQUIRES: `data` holds info.size bytes; `dir` is ObjectDir(bucket, key).
  Status CommitObject(const std::filesystem::path& dir, TempFile& data, const ObjectInfo& info);
  // The upload's directory after checking the id's syntax and that it belongs to bucket/key.
  Result<std::filesystem::path> UploadDir(std::string_view bucket, std::string_view key,
                                          std::string_view upload_id) const;

  std::filesystem::path root_;
  const Clock& clock_;
};

}  // namespace osprey::storage

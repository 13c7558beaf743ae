// ObjectStore: buckets of immutable-once-written objects (the S3 data model), the interface all
// other subsystems use for training images, manifests, evaluation files and model artifacts.
// Implementations must be thread-safe. A PutObject is atomic: readers see the old object or the
// complete new one, never a partial write, also after a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace osprey::storage {

struct BucketInfo {
  std::string name;
  int64_t creation_ms = 0;
};

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  std::string etag;  // lowercase hex MD5 of the bytes (multipart: "<md5>-<parts>"), no quotes
  std::string content_type;  // as given at PUT time ("" if none)
  int64_t last_modified_ms = 0;
  std::map<std::string, std::string> user_metadata;  // x-amz-meta-* without the prefix
};

struct PutOptions {
  std::string content_type;
  std::map<std::string, std::string> user_metadata;
  std::string etag_override;  // set by multipart completion; empty = MD5 of the bytes
};

struct ListOptions {
  std::string prefix;
  std::string start_after;  // exclusive; keys are returned in byte order
  size_t max_keys = 1000;
  // When set, keys with `delimiter` after the prefix are rolled up into one common prefix (the
  // key up to and including the delimiter), as S3 does; a prefix <= start_after is skipped.
  std::string delimiter;
};

struct ListResult {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;  // byte order; count towards max_keys
  bool truncated = false;
  std::string last_returned;  // the greatest key or common prefix returned ("" if none)
};

// Multipart uploads (S3 CreateMultipartUpload/UploadPart/CompleteMultipartUpload).
struct PartInfo {
  int part_number = 0;
  int64_t size = 0;
  std::string etag;  // lowercase hex MD5 of the part, no quotes
  int64_t last_modified_ms = 0;
};

struct UploadInfo {
  std::string upload_id;
  std::string bucket;
  std::string key;
  int64_t initiated_ms = 0;
  PutOptions options;  // content type and user metadata the object will get
};

struct CompletedPart {
  int part_number = 0;
  std::string etag;  // as the client sent it; quotes are ignored
};

inline constexpr int kMaxPartNumber = 10000;

// Pushes the next piece of an object's bytes; returns a non-OK status to abort the PUT.
using ChunkWriter = std::function<Status(std::string_view chunk)>;
// Produces an object's bytes by calling `write` repeatedly; a non-OK return aborts the PUT and
// leaves nothing visible.
using ObjectProducer = std::function<Status(const ChunkWriter& write)>;
// Receives a piece of an object's bytes while reading; return false to stop.
using ReadSink = std::function<bool(std::string_view chunk)>;

// An object opened for reading: its info and bytes are pinned when it is opened, so a later
// overwrite or delete of the key changes neither (a GET never mixes two versions). Read() is
// thread-safe; the reader may outlive the request that opened it.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual const ObjectInfo& info() const = 0;
  // Streams bytes [offset, offset+length) to `sink`. Returns kInvalidArgument if the range lies
  // outside the object, kInternal on an I/O error.
  virtual Status Read(int64_t offset, int64_t length, const ReadSink& sink) const = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Returns kInvalidArgument for a name that breaks S3's bucket naming rules, kAlreadyExists if
  // the bucket exists.
  virtual Status CreateBucket(std::string_view bucket) = 0;
  // Returns kNotFound if absent, kInUse if it still holds objects.
  virtual Status DeleteBucket(std::string_view bucket) = 0;
  virtual bool BucketExists(std::string_view bucket) const = 0;
  virtual Result<std::vector<BucketInfo>> ListBuckets() const = 0;

  // Stores bytes under bucket/key atomically, replacing any previous object. Returns
  // kNotFound if the bucket does not exist, kInvalidArgument for a key the store cannot hold.
  virtual Result<ObjectInfo> PutObject(std::string_view bucket, std::string_view key,
                                       std::string_view data, const PutOptions& options) = 0;
  // As PutObject, with bytes pulled from `producer` without buffering the whole object.
  virtual Result<ObjectInfo> PutObjectStream(std::string_view bucket, std::string_view key,
                                             const ObjectProducer& producer,
                                             const PutOptions& options) = 0;
  // Returns kNotFound if the bucket or key does not exist.
  virtual Result<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key) const = 0;
  // Reads the whole object into memory; for small objects (manifests, images, JSON).
  virtual Result<std::string> GetObject(std::string_view bucket, std::string_view key) const = 0;
  // Streams bytes [offset, offset+length) of the object to `sink`. Returns kNotFound if absent,
  // kInvalidArgument if the range lies outside the object.
  virtual Status ReadObject(std::string_view bucket, std::string_view key, int64_t offset,
                            int64_t length, const ReadSink& sink) const = 0;
  // Opens the object for consistent reads (see ObjectReader). Returns kNotFound if the bucket or
  // key does not exist. The default pins only the info; LocalObjectStore pins the bytes too.
  virtual Result<std::shared_ptr<ObjectReader>> OpenObject(std::string_view bucket,
                                                           std::string_view key) const;
  // Deleting an absent key is OK (as in S3); an absent bucket is kNotFound.
  virtual Status DeleteObject(std::string_view bucket, std::string_view key) = 0;
  // Keys in byte order. Returns kNotFound if the bucket does not exist.
  virtual Result<ListResult> ListObjects(std::string_view bucket,
                                         const ListOptions& options) const = 0;

  // ---- Multipart uploads. Parts are staged privately; nothing is visible under the key until
  // CompleteMultipartUpload commits the whole object atomically. The defaults below refuse
  // (kInvalidArgument) so stores without multipart support need not implement them.

  // Starts an upload and returns its id. Returns kNotFound if the bucket does not exist,
  // kInvalidArgument for a key the store cannot hold.
  virtual Result<std::string> CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                    const PutOptions& options);
  // Stores (or replaces) part `part_number` (1..kMaxPartNumber) of an upload. Returns kNotFound if
  // the upload does not exist for this bucket and key; a failed producer stores nothing.
  virtual Result<PartInfo> UploadPart(std::string_view bucket, std::string_view key,
                                      std::string_view upload_id, int part_number,
                                      const ObjectProducer& producer);
  // Parts in ascending part-number order. Returns kNotFound for an unknown upload.
  virtual Result<std::vector<PartInfo>> ListParts(std::string_view bucket, std::string_view key,
                                                  std::string_view upload_id) const;
  // Concatenates `parts` (strictly ascending, each present with a matching ETag, else
  // kInvalidArgument) into the object atomically; ETag = hex MD5 of the parts' binary MD5s + "-N".
  // The upload is gone afterwards. Returns kNotFound for an unknown upload.
  virtual Result<ObjectInfo> CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                                     std::string_view upload_id,
                                                     const std::vector<CompletedPart>& parts);
  // Drops an upload and its parts. Returns kNotFound for an unknown upload.
  virtual Status AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                      std::string_view upload_id);
  // Uploads in progress in `bucket` whose key starts with `prefix`, by key then initiation time.
  virtual Result<std::vector<UploadInfo>> ListMultipartUploads(std::string_view bucket,
                                                               std::string_view prefix) const;
};

// The multipart ETag: hex MD5 of the concatenated binary MD5s of the parts, then "-<count>".
// REQUIRES: every part etag is 32 hex digits.
std::string MultipartEtag(const std::vector<std::string>& part_etags);

// S3 bucket naming rules: 3..63 chars of [a-z0-9.-], starting and ending with a letter or
// digit, no "..", not an IPv4 address.
Status ValidateBucketName(std::string_view bucket);
// Keys: 1..1024 bytes of valid UTF-8 without NUL or control characters. (Store-specific limits
// are checked by each implementation.)
Status ValidateObjectKey(std::string_view key);

}  // namespace osprey::storage

// ObjectStore: buckets of immutable-once-written objects (the S3 data model), the interface all
// other subsystems use for training images, manifests, evaluation files and model artifacts.
// Implementations must be thread-safe. A PutObject is atomic: readers see the old object or the
// complete new one, never a partial write, also after a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
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
  std::string etag;          // lowercase hex MD5 of the bytes (multipart: "<md5>-<parts>"), no quotes
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
};

struct ListResult {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
};

// Pushes the next piece of an object's bytes; returns a non-OK status to abort the PUT.
using ChunkWriter = std::function<Status(std::string_view chunk)>;
// Produces an object's bytes by calling `write` repeatedly; a non-OK return aborts the PUT and
// leaves nothing visible.
using ObjectProducer = std::function<Status(const ChunkWriter& write)>;
// Receives a piece of an object's bytes while reading; return false to stop.
using ReadSink = std::function<bool(std::string_view chunk)>;

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
  // Deleting an absent key is OK (as in S3); an absent bucket is kNotFound.
  virtual Status DeleteObject(std::string_view bucket, std::string_view key) = 0;
  // Keys in byte order. Returns kNotFound if the bucket does not exist.
  virtual Result<ListResult> ListObjects(std::string_view bucket,
                                         const ListOptions& options) const = 0;
};

// S3 bucket naming rules: 3..63 chars of [a-z0-9.-], starting and ending with a letter or
// digit, no "..", not an IPv4 address.
Status ValidateBucketName(std::string_view bucket);
// Keys: 1..1024 bytes of valid UTF-8 without NUL or control characters. (Store-specific limits
// are checked by each implementation.)
Status ValidateObjectKey(std::string_view key);

}  // namespace osprey::storage

// Default (refusing) multipart methods of ObjectStore, and the multipart ETag rule.
#include "storage/object_store.h"

#include "auth/crypto.h"

namespace osprey::storage {
namespace {

Status Unsupported() {
  return Status::InvalidArgument("Multipart uploads are not supported by this object store.");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

}  // namespace

namespace {
class HeadThenReadReader : public ObjectReader {
 public:
  HeadThenReadReader(const ObjectStore& store, std::string bucket, ObjectInfo info)
      : store_(store), bucket_(std::move(bucket)), info_(std::move(info)) {}
  const ObjectInfo& info() const override { return info_; }
  Status Read(int64_t offset, int64_t length, const ReadSink& sink) const override {
    return store_.ReadObject(bucket_, info_.key, offset, length, sink);
  }

 private:
  const ObjectStore& store_;
  std::string bucket_;
  ObjectInfo info_;
};
}  // namespace

Result<std::shared_ptr<ObjectReader>> ObjectStore::OpenObject(std::string_view bucket,
                                                              std::string_view key) const {
  OSPREY_ASSIGN_OR_RETURN(ObjectInfo info, HeadObject(bucket, key));
  return std::shared_ptr<ObjectReader>(
      std::make_shared<HeadThenReadReader>(*this, std::string(bucket), std::move(info)));
}

Result<std::string> ObjectStore::CreateMultipartUpload(std::string_view, std::string_view,
                                                       const PutOptions&) {
  return Unsupported();
}
Result<PartInfo> ObjectStore::UploadPart(std::string_view, std::string_view, std::string_view, int,
                                         const ObjectProducer&) {
  return Unsupported();
}
Result<std::vector<PartInfo>> ObjectStore::ListParts(std::string_view, std::string_view,
                                                     std::string_view) const {
  return Unsupported();
}
Result<ObjectInfo> ObjectStore::CompleteMultipartUpload(std::string_view, std::string_view,
                                                        std::string_view,
                                                        const std::vector<CompletedPart>&) {
  return Unsupported();
}
Status ObjectStore::AbortMultipartUpload(std::string_view, std::string_view, std::string_view) {
  return Unsupported();
}
Result<std::vector<UploadInfo>> ObjectStore::ListMultipartUploads(std::string_view,
                                                                  std::string_view) const {
  return Unsupported();
}

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
// (multipart ETags are not an MD5 of the object; every S3-compatible store reproduces this rule).
std::string MultipartEtag(const std::vector<std::string>& part_etags) {
  std::string binary;
  binary.reserve(part_etags.size() * 16);
  for (const std::string& etag : part_etags) {
    for (size_t i = 0; i + 1 < etag.size(); i += 2) {
      binary += static_cast<char>(HexValue(etag[i]) * 16 + HexValue(etag[i + 1]));
    }
  }
  return auth::Md5Hex(binary) + "-" + std::to_string(part_etags.size());
}

}  // namespace osprey::storage

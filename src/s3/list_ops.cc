// ListObjects (v1), ListObjectsV2 and ListMultipartUploads.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
#include <charconv>

#include "auth/crypto.h"
#include "s3/operations.h"
#include "s3/xml.h"

namespace osprey::s3 {
namespace {

constexpr size_t kMaxKeys = 1000;

// max-keys: 0..1000 (larger values are capped, as S3 does); garbage is InvalidArgument.
std::optional<size_t> MaxKeys(const S3Target& target, std::string_view name) {
  if (!target.Has(name)) return kMaxKeys;
  std::string text = target.Param(name);
  int64_t value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return std::min<size_t>(static_cast<size_t>(value), kMaxKeys);
}

void Owner(XmlWriter& xml) {
  xml.Open("Owner");
  xml.Element("ID", "osprey");
  xml.Element("DisplayName", "osprey");
  xml.Close("Owner");
}

}  // namespace

http::HttpResponse ListObjects(S3Call& call) {
  const S3Target& t = call.target;
  const bool v2 = t.Param("list-type") == "2";
  const bool url = t.Param("encoding-type") == "url";
  if (t.Has("encoding-type") && !url) {
    return call.Error("InvalidArgument", "Invalid Encoding Method specified in Request");
  }
  std::optional<size_t> max_keys = MaxKeys(t, "max-keys");
  if (!max_keys)
    return call.Error("InvalidArgument",
                      "Provided max-keys not an integer or within integer range");
  storage::ListOptions options;
  options.prefix = t.Param("prefix");
  options.delimiter = t.Param("delimiter");
  options.max_keys = *max_keys;
  if (v2) {
    options.start_after = t.Param("start-after");
    if (t.Has("continuation-token")) {
      Result<std::string> token = auth::Base64Decode(t.Param("continuation-token"));
      if (!token.ok() || token->empty()) {
        return call.Error("InvalidArgument", "The continuation token provided is incorrect");
      }
      options.start_after = *token;
    }
  } else {
    options.start_after = t.Param("marker");
  }
  Result<storage::ListResult> result = call.store.ListObjects(t.bucket, options);
  if (!result.ok()) return call.StoreError(result.status(), Missing::kBucket);
  auto enc = [url](std::string_view s) { return url ? UrlEncodeKey(s) : std::string(s); };

  XmlWriter xml("ListBucketResult");
  xml.Element("Name", t.bucket);
  xml.Element("Prefix", enc(options.prefix));
  if (!options.delimiter.empty()) xml.Element("Delimiter", enc(options.delimiter));
  xml.Element("MaxKeys", std::to_string(*max_keys));
  if (url) xml.Element("EncodingType", "url");
  xml.Element("IsTruncated", result->truncated ? "true" : "false");
  if (v2) {
    xml.Element("KeyCount",
                std::to_string(result->objects.size() + result->common_prefixes.size()));
    if (t.Has("continuation-token"))
      xml.Element("ContinuationToken", t.Param("continuation-token"));
    if (t.Has("start-after")) xml.Element("StartAfter", enc(t.Param("start-after")));
    if (result->truncated) {
      xml.Element("NextContinuationToken", auth::Base64Encode(result->last_returned));
    }
  } else {
    xml.Element("Marker", enc(options.start_after));
    if (result->truncated) xml.Element("NextMarker", enc(result->last_returned));
  }
  const bool owner = !v2 || t.Param("fetch-owner") == "true";
  for (const storage::ObjectInfo& object : result->objects) {
    xml.Open("Contents");
    xml.Element("Key", enc(object.key));
    xml.Element("LastModified", IsoTime(object.last_modified_ms));
    xml.Element("ETag", Quoted(object.etag));
    xml.Element("Size", std::to_string(object.size));
    if (owner) Owner(xml);
    xml.Element("StorageClass", "STANDARD");
    xml.Close("Contents");
  }
  for (const std::string& prefix : result->common_prefixes) {
    xml.Open("CommonPrefixes");
    xml.Element("Prefix", enc(prefix));
    xml.Close("CommonPrefixes");
  }
  return call.Xml(xml.Finish());
}

http::HttpResponse ListMultipartUploads(S3Call& call) {
  const S3Target& t = call.target;
  std::optional<size_t> max_uploads = MaxKeys(t, "max-uploads");
  if (!max_uploads) return call.Error("InvalidArgument", "Invalid max-uploads");
  Result<std::vector<storage::UploadInfo>> uploads =
      call.store.ListMultipartUploads(t.bucket, t.Param("prefix"));
  if (!uploads.ok()) return call.StoreError(uploads.status(), Missing::kBucket);
  XmlWriter xml("ListMultipartUploadsResult");
  xml.Element("Bucket", t.bucket);
  xml.Element("KeyMarker", "");
  xml.Element("UploadIdMarker", "");
  xml.Element("Prefix", t.Param("prefix"));
  xml.Element("MaxUploads", std::to_string(*max_uploads));
  const bool truncated = uploads->size() > *max_uploads;
  xml.Element("IsTruncated", truncated ? "true" : "false");
  size_t count = 0;
  for (const storage::UploadInfo& upload : *uploads) {
    if (count++ == *max_uploads) break;
    xml.Open("Upload");
    xml.Element("Key", upload.key);
    xml.Element("UploadId", upload.upload_id);
    xml.Open("Initiator");
    xml.Element("ID", "osprey");
    xml.Element("DisplayName", "osprey");
    xml.Close("Initiator");
    Owner(xml);
    xml.Element("StorageClass", "STANDARD");
    xml.Element("Initiated", IsoTime(upload.initiated_ms));
    xml.Close("Upload");
  }
  return call.Xml(xml.Finish());
}

}  // namespace osprey::s3

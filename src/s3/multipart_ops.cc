// Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "s3/operations.h"
#include "s3/xml.h"

namespace osprey::s3 {
namespace {

std::optional<int> ParseInt(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A missing bucket is NoSuchBucket; any other kNotFound is NoSuchUpload.
http::HttpResponse UploadError(S3Call& call, const Status& status) {
  if (status.code() == StatusCode::kNotFound && !call.store.BucketExists(call.target.bucket)) {
    return call.StoreError(status, Missing::kBucket);
  }
  return call.StoreError(status, Missing::kUpload);
}

std::string NormalizeEtag(std::string_view etag) {
  std::string out;
  for (char c : etag) {
    if (c != '"') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

http::HttpResponse CreateMultipartUpload(S3Call& call) {
  S3Error error;
  if (!call.ReadSmallBody(&error).ok()) return call.Error(error);
  storage::PutOptions options;
  if (const std::string* type = call.http.Header("content-type")) options.content_type = *type;
  for (const auto& [name, value] : call.http.headers) {
    if (name.rfind("x-amz-meta-", 0) == 0) options.user_metadata[name.substr(11)] = value;
  }
  Result<std::string> id =
      call.store.CreateMultipartUpload(call.target.bucket, call.target.key, options);
  if (!id.ok()) return call.StoreError(id.status(), Missing::kBucket);
  XmlWriter xml("InitiateMultipartUploadResult");
  xml.Element("Bucket", call.target.bucket);
  xml.Element("Key", call.target.key);
  xml.Element("UploadId", *id);
  return call.Xml(xml.Finish());
}

http::HttpResponse UploadPart(S3Call& call) {
  std::optional<int> number = ParseInt(call.target.Param("partNumber"));
  if (!number || *number < 1 || *number > storage::kMaxPartNumber) {
    return call.Error("InvalidArgument",
                      "Part number must be an integer between 1 and 10000, "
                      "inclusive");
  }
  const std::string upload_id = call.target.Param("uploadId");
  S3Error error;
  storage::PartInfo part;
  Result<storage::ObjectInfo> stored = StoreBody(
      call,
      [&](const storage::ObjectProducer& producer) -> Result<storage::ObjectInfo> {
        Result<storage::PartInfo> uploaded = call.store.UploadPart(
            call.target.bucket, call.target.key, upload_id, *number, producer);
        if (!uploaded.ok()) return uploaded.status();
        part = *uploaded;
        return storage::ObjectInfo{};
      },
      &error);
  if (!stored.ok()) {
    if (error.code == "NoSuchKey") return UploadError(call, stored.status());
    return call.Error(error);
  }
  http::HttpResponse response = call.Empty(200);
  response.SetHeader("ETag", Quoted(part.etag));
  return response;
}

http::HttpResponse CompleteMultipartUpload(S3Call& call) {
  const S3Target& t = call.target;
  const std::string upload_id = t.Param("uploadId");
  S3Error error;
  Result<std::string> body = call.ReadSmallBody(&error);
  if (!body.ok()) return call.Error(error);
  Result<XmlNode> doc = ParseXml(*body);
  if (!doc.ok() || doc->name != "CompleteMultipartUpload") {
    return call.Error("MalformedXML",
                      "The XML you provided was not well-formed or did not "
                      "validate against our published schema.");
  }
  std::vector<storage::CompletedPart> wanted;
  for (const XmlNode& child : doc->children) {
    if (child.name != "Part") continue;
    const XmlNode* number = child.Child("PartNumber");
    const XmlNode* etag = child.Child("ETag");
    std::optional<int> parsed = number ? ParseInt(number->text) : std::nullopt;
    if (!parsed || etag == nullptr)
      return call.Error("MalformedXML", "A Part needs PartNumber and ETag.");
    wanted.push_back({*parsed, etag->text});
  }
  if (wanted.empty()) {
    return call.Error("MalformedXML", "You must specify at least one part.");
  }
  Result<std::vector<storage::PartInfo>> stored = call.store.ListParts(t.bucket, t.key, upload_id);
  if (!stored.ok()) return UploadError(call, stored.status());
  std::map<int, storage::PartInfo> by_number;
  for (const storage::PartInfo& part : *stored) by_number[part.part_number] = part;
  for (size_t idx = 0; idx < wanted.size(); ++idx) {
    if (idx > 0 && wanted[idx].part_number <= wanted[idx - 1].part_number) {
      return call.Error("InvalidPartOrder",
                        "The list of parts was not in ascending order. The "
                        "parts list must be specified in order of the part "
                        "number.");
    }
    auto it = by_number.find(wanted[idx].part_number);
    if (it == by_number.end() || it->second.etag != NormalizeEtag(wanted[idx].etag)) {
      return call.Error("InvalidPart",
                        "One or more of the specified parts could not be found. "
                        "The part might not have been uploaded, or the specified "
                        "ETag might not have matched the part's ETag.");
    }
    if (idx + 1 < wanted.size() && it->second.size < call.options.min_part_bytes) {
      return call.Error("EntityTooSmall",
                        "Your proposed upload is smaller than the minimum "
                        "allowed object size.");
    }
  }
  Result<storage::ObjectInfo> done =
      call.store.CompleteMultipartUpload(t.bucket, t.key, upload_id, wanted);
  if (!done.ok()) return UploadError(call, done.status());
  XmlWriter xml("CompleteMultipartUploadResult");
  const std::string* host = call.http.Header("host");
  xml.Element("Location", "http://" + (host ? *host : std::string("localhost")) + "/" + t.bucket +
                              "/" + UrlEncodeKey(t.key));
  xml.Element("Bucket", t.bucket);
  xml.Element("Key", t.key);
  xml.Element("ETag", Quoted(done->etag));
  return call.Xml(xml.Finish());
}

http::HttpResponse AbortMultipartUpload(S3Call& call) {
  Status status = call.store.AbortMultipartUpload(call.target.bucket, call.target.key,
                                                  call.target.Param("uploadId"));
  if (!status.ok()) return UploadError(call, status);
  return call.Empty(204);
}

http::HttpResponse ListParts(S3Call& call) {
  const S3Target& t = call.target;
  const std::string upload_id = t.Param("uploadId");
  Result<std::vector<storage::PartInfo>> parts = call.store.ListParts(t.bucket, t.key, upload_id);
  if (!parts.ok()) return UploadError(call, parts.status());
  int marker =
      t.Has("part-number-marker") ? ParseInt(t.Param("part-number-marker")).value_or(0) : 0;
  int max_parts = t.Has("max-parts") ? ParseInt(t.Param("max-parts")).value_or(1000) : 1000;
  max_parts = std::clamp(max_parts, 0, 1000);
  std::vector<const storage::PartInfo*> page;
  bool truncated = false;
  for (const storage::PartInfo& part : *parts) {
    if (part.part_number <= marker) continue;
    if (static_cast<int>(page.size()) == max_parts) {
      truncated = true;
      break;
    }
    page.push_back(&part);
  }
  XmlWriter xml("ListPartsResult");
  xml.Element("Bucket", t.bucket);
  xml.Element("Key", t.key);
  xml.Element("UploadId", upload_id);
  xml.Element("PartNumberMarker", std::to_string(marker));
  xml.Element("NextPartNumberMarker",
              std::to_string(page.empty() ? marker : page.back()->part_number));
  xml.Element("MaxParts", std::to_string(max_parts));
  xml.Element("IsTruncated", truncated ? "true" : "false");
  xml.Element("StorageClass", "STANDARD");
  for (const storage::PartInfo* part : page) {
    xml.Open("Part");
    xml.Element("PartNumber", std::to_string(part->part_number));
    xml.Element("LastModified", IsoTime(part->last_modified_ms));
    xml.Element("ETag", Quoted(part->etag));
    xml.Element("Size", std::to_string(part->size));
    xml.Close("Part");
  }
  return call.Xml(xml.Finish());
}

}  // namespace osprey::s3

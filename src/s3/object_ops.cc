// Object operations: PutObject, CopyObject, GetObject/HeadObject (with Range), DeleteObject,
// DeleteObjects. https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html etc.
#include <variant>

#include "s3/operations.h"
#include "s3/payload.h"
#include "s3/xml.h"

namespace osprey::s3 {
namespace {

constexpr std::string_view kMetaPrefix = "x-amz-meta-";
constexpr size_t kMaxDeleteKeys = 1000;

storage::PutOptions OptionsFromHeaders(const http::HttpRequest& request) {
  storage::PutOptions options;
  if (const std::string* type = request.Header("content-type")) options.content_type = *type;
  for (const auto& [name, value] : request.headers) {
    if (name.rfind(kMetaPrefix, 0) == 0)
      options.user_metadata[name.substr(kMetaPrefix.size())] = value;
  }
  return options;
}

}  // namespace

// Streams the verified body into the store; the object appears only if every check passed.
Result<storage::ObjectInfo> StoreBody(
    S3Call& call,
    const std::function<Result<storage::ObjectInfo>(const storage::ObjectProducer&)>& put,
    S3Error* error) {
  const http::HttpRequest& http = call.http;
  if (http.Header("content-length") == nullptr && http.Header("transfer-encoding") == nullptr &&
      http.Header("x-amz-decoded-content-length") == nullptr) {
    *error = MakeError("MissingContentLength", "You must provide the Content-Length HTTP header.");
    return Status::InvalidArgument(error->message);
  }
  auto created =
      PayloadReader::Create(http, call.auth, call.declared_hash, call.options.max_object_bytes);
  if (auto* failure = std::get_if<S3Error>(&created)) {
    *error = *failure;
    return Status::InvalidArgument(failure->message);
  }
  auto& reader = std::get<std::unique_ptr<PayloadReader>>(created);
  Result<storage::ObjectInfo> stored =
      put([&](const storage::ChunkWriter& write) { return reader->Read(call.http, write); });
  if (!stored.ok()) {
    *error = reader->error() ? *reader->error() : FromStatus(stored.status(), Missing::kKey);
  }
  return stored;
}

http::HttpResponse PutObject(S3Call& call) {
  const S3Target& t = call.target;
  storage::PutOptions options = OptionsFromHeaders(call.http);
  S3Error error;
  Result<storage::ObjectInfo> stored = StoreBody(
      call,
      [&](const storage::ObjectProducer& producer) {
        return call.store.PutObjectStream(t.bucket, t.key, producer, options);
      },
      &error);
  if (!stored.ok()) return call.Error(error);
  http::HttpResponse response = call.Empty(200);
  response.SetHeader("ETag", Quoted(stored->etag));
  return response;
}

http::HttpResponse CopyObject(S3Call& call) {
  const S3Target& t = call.target;
  std::string_view source = *call.http.Header("x-amz-copy-source");
  source = source.substr(0, source.find('?'));  // ?versionId=... : we keep no versions
  if (!source.empty() && source.front() == '/') source.remove_prefix(1);
  std::optional<std::string> decoded = PercentDecode(source);
  size_t slash = decoded ? decoded->find('/') : std::string::npos;
  if (slash == std::string::npos) {
    return call.Error("InvalidArgument",
                      "Copy Source must mention the source bucket and key: "
                      "sourcebucket/sourcekey");
  }
  std::string src_bucket = decoded->substr(0, slash);
  std::string src_key = decoded->substr(slash + 1);
  Result<std::shared_ptr<storage::ObjectReader>> opened =
      call.store.OpenObject(src_bucket, src_key);
  if (!opened.ok()) return call.StoreError(opened.status(), Missing::kKey);
  const storage::ObjectReader& reader = **opened;
  const storage::ObjectInfo* src = &reader.info();
  const std::string* directive = call.http.Header("x-amz-metadata-directive");
  const bool replace = directive != nullptr && *directive == "REPLACE";
  if (src_bucket == t.bucket && src_key == t.key && !replace) {
    return call.Error("InvalidRequest",
                      "This copy request is illegal because it is trying to copy an object to "
                      "itself without changing the object's metadata, storage class, website "
                      "redirect location or encryption attributes.");
  }
  storage::PutOptions options;
  if (replace) {
    options = OptionsFromHeaders(call.http);
  } else {
    options.content_type = src->content_type;
    options.user_metadata = src->user_metadata;
  }
  Result<storage::ObjectInfo> copied = call.store.PutObjectStream(
      t.bucket, t.key,
      [&](const storage::ChunkWriter& write) {
        Status write_status;
        Status read_status = reader.Read(0, src->size, [&](std::string_view chunk) {
          write_status = write(chunk);
          return write_status.ok();
        });
        return write_status.ok() ? read_status : write_status;
      },
      options);
  if (!copied.ok()) return call.StoreError(copied.status(), Missing::kKey);
  XmlWriter xml("CopyObjectResult");
  xml.Element("LastModified", IsoTime(copied->last_modified_ms));
  xml.Element("ETag", Quoted(copied->etag));
  return call.Xml(xml.Finish());
}

http::HttpResponse GetObject(S3Call& call, bool head) {
  const S3Target& t = call.target;
  // Opened once: headers and bytes come from the same version even if the key is overwritten.
  Result<std::shared_ptr<storage::ObjectReader>> opened = call.store.OpenObject(t.bucket, t.key);
  if (!opened.ok()) return call.StoreError(opened.status(), Missing::kKey);
  std::shared_ptr<storage::ObjectReader> reader = *opened;
  const storage::ObjectInfo* info = &reader->info();
  if (const std::string* match = call.http.Header("if-none-match");
      match != nullptr && (*match == Quoted(info->etag) || *match == "*")) {
    http::HttpResponse response = call.Empty(304);
    response.SetHeader("ETag", Quoted(info->etag));
    return response;
  }
  if (const std::string* match = call.http.Header("if-match");
      match != nullptr && *match != Quoted(info->etag) && *match != "*") {
    return call.Error("PreconditionFailed",
                      "At least one of the pre-conditions you specified did not hold");
  }
  http::HttpResponse response = call.Empty(200);
  response.content_type = info->content_type.empty() ? "binary/octet-stream" : info->content_type;
  response.SetHeader("ETag", Quoted(info->etag));
  response.SetHeader("Last-Modified", HttpTime(info->last_modified_ms));
  response.SetHeader("Accept-Ranges", "bytes");
  for (const auto& [name, value] : info->user_metadata) {
    response.SetHeader("x-amz-meta-" + name, value);
  }
  // Presigned downloads may override response headers (API_GetObject, "Overriding response
  // header values").
  for (std::string_view header : {"content-type", "content-disposition", "content-encoding",
                                  "content-language", "cache-control", "expires"}) {
    std::string param = "response-" + std::string(header);
    if (!t.Has(param)) continue;
    if (header == "content-type")
      response.content_type = t.Param(param);
    else
      response.SetHeader(std::string(header), t.Param(param));
  }
  ByteRange range{0, info->size};
  const std::string* range_header = call.http.Header("range");
  RangeKind kind =
      range_header == nullptr ? RangeKind::kNone : ParseRange(*range_header, info->size, &range);
  if (kind == RangeKind::kUnsatisfiable) {
    http::HttpResponse error = call.Error("InvalidRange", "The requested range is not satisfiable");
    error.SetHeader("Content-Range", "bytes */" + std::to_string(info->size));
    return error;
  }
  int64_t offset_base = 0;
  if (kind == RangeKind::kSatisfiable) {
    response.status = 206;
    if (!call.options.http_applies_ranges) {
      response.SetHeader("Content-Range", "bytes " + std::to_string(range.start) + "-" +
                                              std::to_string(range.start + range.length - 1) + "/" +
                                              std::to_string(info->size));
      offset_base = range.start;
    } else {
      range = ByteRange{0, info->size};  // the HTTP layer cuts the range out itself
    }
  }
  (void)head;  // HEAD: same headers and length; the HTTP layer never sends the body.
  if (range.length == 0) return response;  // empty object: a plain empty body
  response.stream_length = range.length;
  response.stream = [reader, offset_base](size_t offset, size_t length,
                                          const http::BodySink& sink) {
    return reader
        ->Read(offset_base + static_cast<int64_t>(offset), static_cast<int64_t>(length),
               [&sink](std::string_view chunk) { return sink(chunk.data(), chunk.size()); })
        .ok();
  };
  return response;
}

http::HttpResponse DeleteObject(S3Call& call) {
  Status status = call.store.DeleteObject(call.target.bucket, call.target.key);
  if (!status.ok()) return call.StoreError(status, Missing::kBucket);
  return call.Empty(204);
}

http::HttpResponse DeleteObjects(S3Call& call) {
  if (call.http.Header("content-md5") == nullptr &&
      call.http.Header("x-amz-checksum-crc32") == nullptr &&
      call.http.Header("x-amz-checksum-crc32c") == nullptr &&
      call.http.Header("x-amz-checksum-sha1") == nullptr &&
      call.http.Header("x-amz-checksum-sha256") == nullptr) {
    return call.Error("InvalidRequest", "Missing required header for this request: Content-MD5");
  }
  S3Error error;
  Result<std::string> body = call.ReadSmallBody(&error);
  if (!body.ok()) return call.Error(error);
  Result<XmlNode> doc = ParseXml(*body);
  if (!doc.ok() || doc->name != "Delete") {
    return call.Error("MalformedXML",
                      "The XML you provided was not well-formed or did not "
                      "validate against our published schema.");
  }
  if (!call.store.BucketExists(call.target.bucket)) {
    return call.Error("NoSuchBucket", "The specified bucket does not exist");
  }
  const XmlNode* quiet = doc->Child("Quiet");
  const bool is_quiet = quiet != nullptr && quiet->text == "true";
  std::vector<std::string> keys;
  for (const XmlNode& child : doc->children) {
    if (child.name != "Object") continue;
    const XmlNode* key = child.Child("Key");
    if (key == nullptr) return call.Error("MalformedXML", "An Object has no Key.");
    keys.push_back(key->text);
  }
  if (keys.empty() || keys.size() > kMaxDeleteKeys) {
    return call.Error("MalformedXML", "A Delete request names 1 to 1000 objects.");
  }
  XmlWriter xml("DeleteResult");
  for (const std::string& key : keys) {
    Status status = call.store.DeleteObject(call.target.bucket, key);
    if (status.ok()) {
      if (is_quiet) continue;
      xml.Open("Deleted");
      xml.Element("Key", key);
      xml.Close("Deleted");
    } else {
      S3Error failure = FromStatus(status, Missing::kKey);
      xml.Open("Error");
      xml.Element("Key", key);
      xml.Element("Code", failure.code);
      xml.Element("Message", failure.message);
      xml.Close("Error");
    }
  }
  return call.Xml(xml.Finish());
}

}  // namespace osprey::s3

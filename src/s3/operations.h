// The S3 operations, one small function each, called by S3Handler after authentication.
// Internal to src/s3. Each returns the full HTTP response (XML body or S3 error).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "auth/sigv4.h"
#include "http/http_server.h"
#include "s3/s3_error.h"
#include "s3/s3_handler.h"
#include "s3/s3_request.h"
#include "storage/object_store.h"

namespace osprey::s3 {

struct S3Call {
  http::HttpRequest& http;
  const S3Target& target;
  storage::ObjectStore& store;
  const S3Options& options;
  const auth::AuthOutcome& auth;
  std::string declared_hash;  // the payload hash that was signed
  std::string request_id;

  http::HttpResponse Error(const S3Error& error) const;
  http::HttpResponse Error(std::string_view code, std::string message) const;
  http::HttpResponse StoreError(const Status& status, Missing missing) const;
  // 200 with an XML document.
  http::HttpResponse Xml(std::string body) const;
  // An empty response with x-amz-request-id.
  http::HttpResponse Empty(int status) const;
  // Reads a small request body (XML) with full payload verification.
  Result<std::string> ReadSmallBody(S3Error* error);
};

// "2009-10-12T17:50:30.000Z" and "Mon, 12 Oct 2009 17:50:30 GMT".
std::string IsoTime(int64_t millis);
std::string HttpTime(int64_t millis);
inline std::string Quoted(std::string_view etag) { return "\"" + std::string(etag) + "\""; }

// Streams the request body through PayloadReader into `put` (a store write); on failure fills
// `error` with the S3 error to answer (MissingContentLength, BadDigest, ..., or the store's).
Result<storage::ObjectInfo> StoreBody(
    S3Call& call,
    const std::function<Result<storage::ObjectInfo>(const storage::ObjectProducer&)>& put,
    S3Error* error);

// bucket_ops.cc
http::HttpResponse ListBuckets(S3Call& call);
http::HttpResponse CreateBucket(S3Call& call);
http::HttpResponse DeleteBucket(S3Call& call);
http::HttpResponse HeadBucket(S3Call& call);
http::HttpResponse GetBucketLocation(S3Call& call);
// list_ops.cc
http::HttpResponse ListObjects(S3Call& call);  // v1, or v2 with list-type=2
http::HttpResponse ListMultipartUploads(S3Call& call);
// object_ops.cc
http::HttpResponse PutObject(S3Call& call);
http::HttpResponse CopyObject(S3Call& call);
http::HttpResponse GetObject(S3Call& call, bool head);
http::HttpResponse DeleteObject(S3Call& call);
http::HttpResponse DeleteObjects(S3Call& call);
// multipart_ops.cc
http::HttpResponse CreateMultipartUpload(S3Call& call);
http::HttpResponse UploadPart(S3Call& call);
http::HttpResponse CompleteMultipartUpload(S3Call& call);
http::HttpResponse AbortMultipartUpload(S3Call& call);
http::HttpResponse ListParts(S3Call& call);

}  // namespace osprey::s3

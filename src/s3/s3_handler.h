// S3Handler: the S3-compatible REST surface (path-style, SigV4) over an ObjectStore, so the
// unchanged AWS CLI and SDKs can upload training data and download results. Requests are told
// apart from the Rekognition JSON API by the absence of X-Amz-Target (see cli/server_app.cc).
// Order per request: parse target -> SigV4 (header or presigned; before any side effect) ->
// operation -> XML response or S3 error. Bodies of PUT/POST are streamed (WantsStreamedBody) and
// verified while they are written to uncommitted storage; see payload.h and docs/design/s3.md.
// Thread-safe: Handle() is called concurrently; the store is thread-safe.
#pragma once

#include <cstdint>

#include "auth/sigv4.h"
#include "common/clock.h"
#include "http/http_server.h"
#include "storage/object_store.h"

namespace osprey::s3 {

struct S3Options {
  int64_t max_skew_seconds = 900;               // S3 allows 15 minutes (RequestTimeTooSkewed)
  int64_t max_object_bytes = int64_t{5} << 30;  // single PUT / part limit, as AWS (5 GiB)
  int64_t min_part_bytes = int64_t{5} << 20;    // every part but the last (EntityTooSmall)
  int64_t max_xml_body_bytes = 4 << 20;         // CompleteMultipartUpload, Delete, CreateBucket
  int64_t max_drain_bytes = 16 << 20;           // unread body of a refused request is discarded
                                                // up to this, else the connection is closed
  // True only behind an HTTP layer that slices responses to the Range header itself (cpp-httplib
  // does unless told not to); then a ranged GET hands it the whole object with status 206.
  // http/httplib_server.cc drops httplib's parsed ranges, so the handler sends exactly the
  // range with its own Content-Range.
  bool http_applies_ranges = false;
};

class S3Handler {
 public:
  // All references must outlive the handler.
  S3Handler(storage::ObjectStore& store, const auth::CredentialStore& credentials,
            const Clock& clock, S3Options options);

  http::HttpResponse Handle(http::HttpRequest& request);

  // The stream predicate for the HTTP server: S3 PUT and POST bodies are streamed to Handle().
  static bool WantsStreamedBody(const http::HttpRequest& request);

 private:
  storage::ObjectStore& store_;
  const auth::CredentialStore& credentials_;
  const Clock& clock_;
  S3Options options_;
};

}  // namespace osprey::s3

#include "s3/s3_handler.h"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstdlib>

#include "auth/crypto.h"
#include "common/ids.h"
#include "s3/operations.h"
#include "s3/payload.h"

namespace osprey::s3 {
namespace {

// Subresources we do not implement: answering them with a listing or an object would mislead.
constexpr std::array<std::string_view, 22> kUnsupportedSubresources = {"acl",
                                                                       "policy",
                                                                       "versioning",
                                                                       "tagging",
                                                                       "lifecycle",
                                                                       "cors",
                                                                       "website",
                                                                       "logging",
                                                                       "notification",
                                                                       "replication",
                                                                       "encryption",
                                                                       "object-lock",
                                                                       "versions",
                                                                       "accelerate",
                                                                       "requestPayment",
                                                                       "ownershipControls",
                                                                       "publicAccessBlock",
                                                                       "analytics",
                                                                       "metrics",
                                                                       "inventory",
                                                                       "retention",
                                                                       "legal-hold"};

bool IsPresigned(const S3Target& target) {
  return target.Has("X-Amz-Signature") || target.Has("X-Amz-Credential") ||
         target.Has("X-Amz-Algorithm");
}

S3Error AuthFailure(const auth::AuthOutcome& outcome) {
  using auth::AuthError;
  switch (outcome.error) {
    case AuthError::kMissing:
      return MakeError("AccessDenied", "Access Denied");
    case AuthError::kMalformed:
      // Presigned URLs with a bad X-Amz-Expires etc. are 403 AccessDenied (ceph/s3-tests).
      return outcome.presigned ? MakeError("AccessDenied", outcome.message)
                               : MakeError("AuthorizationHeaderMalformed", outcome.message);
    case AuthError::kUnknownKey:
      return MakeError("InvalidAccessKeyId",
                       "The AWS Access Key Id you provided does not exist in our records.");
    case AuthError::kSignatureMismatch:
      return MakeError("SignatureDoesNotMatch", outcome.message);
    case AuthError::kSkewed:
      return outcome.presigned ? MakeError("AccessDenied", outcome.message)
                               : MakeError("RequestTimeTooSkewed",
                                           "The difference between the request time and the "
                                           "current time is too large. " +
                                               outcome.message);
    case AuthError::kExpired:
      return MakeError("AccessDenied", "Request has expired");
    case AuthError::kWrongScope:
      return MakeError(
          outcome.presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed",
          outcome.message);
    case AuthError::kOk:
      break;
  }
  return MakeError("InternalError", "unexpected auth state");
}

http::HttpResponse Route(S3Call& call) {
  const S3Target& target = call.target;
  const std::string& method = call.http.method;
  for (std::string_view sub : kUnsupportedSubresources) {
    if (target.Has(sub))
      return call.Error("NotImplemented", "?" + std::string(sub) + " is not implemented.");
  }
  if (target.bucket.empty()) {
    if (method == "GET") return ListBuckets(call);
    return call.Error("MethodNotAllowed",
                      "The specified method is not allowed against this resource.");
  }
  if (target.key.empty()) {
    if (method == "PUT") return CreateBucket(call);
    if (method == "DELETE") return DeleteBucket(call);
    if (method == "HEAD") return HeadBucket(call);
    if (method == "POST" && target.Has("delete")) return DeleteObjects(call);
    if (method == "GET" && target.Has("location")) return GetBucketLocation(call);
    if (method == "GET" && target.Has("uploads")) return ListMultipartUploads(call);
    if (method == "GET") return ListObjects(call);
  } else {
    const bool copy = call.http.Header("x-amz-copy-source") != nullptr;
    if (method == "PUT" && target.Has("uploadId")) {
      if (copy) return call.Error("NotImplemented", "UploadPartCopy is not implemented.");
      return UploadPart(call);
    }
    if (method == "PUT") return copy ? CopyObject(call) : PutObject(call);
    if (method == "GET" && target.Has("uploadId")) return ListParts(call);
    if (method == "GET" || method == "HEAD") return GetObject(call, method == "HEAD");
    if (method == "DELETE" && target.Has("uploadId")) return AbortMultipartUpload(call);
    if (method == "DELETE") return DeleteObject(call);
    if (method == "POST" && target.Has("uploads")) return CreateMultipartUpload(call);
    if (method == "POST" && target.Has("uploadId")) return CompleteMultipartUpload(call);
  }
  return call.Error("MethodNotAllowed",
                    "The specified method is not allowed against this resource.");
}

}  // namespace

S3Handler::S3Handler(storage::ObjectStore& store, const auth::CredentialStore& credentials,
                     const Clock& clock, S3Options options)
    : store_(store), credentials_(credentials), clock_(clock), options_(options) {}

bool S3Handler::WantsStreamedBody(const http::HttpRequest& request) {
  return request.Header("x-amz-target") == nullptr &&
         (request.method == "PUT" || request.method == "POST");
}

http::HttpResponse S3Handler::Handle(http::HttpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  std::string request_id = NewUuid();
  // Track whether the operation consumed a streamed body; an unread one is drained below.
  bool body_read = !request.read_body;
  if (request.read_body) {
    auto inner = std::move(request.read_body);
    request.read_body = [inner, &body_read](const http::BodySink& sink) {
      body_read = true;
      return inner(sink);
    };
  }

  http::HttpResponse response;
  std::optional<S3Target> target = ParseTarget(request);
  auth::AuthOutcome outcome;
  if (!target) {
    response = ErrorResponse(MakeError("InvalidURI", "Couldn't parse the specified URI."),
                             request.path, request_id);
  } else {
    std::string declared_hash;
    if (IsPresigned(*target)) {
      declared_hash = "UNSIGNED-PAYLOAD";
    } else if (const std::string* sha = request.Header("x-amz-content-sha256")) {
      declared_hash = *sha;
    } else {
      declared_hash = request.read_body ? "" : auth::Sha256Hex(request.body);
    }
    auth::SignableRequest signable{request.method, request.target, request.headers, declared_hash};
    auth::VerifierOptions verifier{"s3", options_.max_skew_seconds, /*normalize_path=*/false,
                                   /*allow_presigned=*/true};
    outcome = auth::Verify(signable, credentials_, clock_, verifier);
    if (!outcome.ok()) {
      response = ErrorResponse(AuthFailure(outcome), request.path, request_id);
    } else if (declared_hash.empty()) {
      response = ErrorResponse(MakeError("InvalidRequest",
                                         "Missing required header for this "
                                         "request: x-amz-content-sha256"),
                               request.path, request_id);
    } else if (request.body_too_large) {
      response = ErrorResponse(MakeError("EntityTooLarge", "The request body is too large."),
                               request.path, request_id);
    } else {
      S3Call call{request, *target, store_, options_, outcome, declared_hash, request_id};
      response = Route(call);
    }
  }
  // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 6.3).
  const bool has_body =
      request.Header("content-length") != nullptr || request.Header("transfer-encoding") != nullptr;
  if (!body_read && has_body) {
    // Discard a small unread body so the connection stays usable; a large (or unknown-length)
    // one is not waited for: the connection is closed after the response instead.
    const std::string* length = request.Header("content-length");
    const int64_t cap = options_.max_drain_bytes;
    bool whole = false;
    if (length != nullptr && std::strtoll(length->c_str(), nullptr, 10) <= cap) {
      int64_t drained = 0;
      whole = request.read_body([&drained, cap](const char*, size_t size) {
        drained += static_cast<int64_t>(size);
        return drained <= cap;
      });
    }
    if (!whole) response.SetHeader("Connection", "close");
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("s3 request_id={} method={} path={} status={} latency_ms={:.3f} remote={}",
               request_id, request.method, request.path, response.status, ms, request.remote_addr);
  return response;
}

}  // namespace osprey::s3

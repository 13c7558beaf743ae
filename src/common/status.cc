#include "common/status.h"

namespace osprey {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kInUse: return "InUse";
    case StatusCode::kNotReady: return "NotReady";
    case StatusCode::kLimitExceeded: return "LimitExceeded";
    case StatusCode::kQuotaExceeded: return "QuotaExceeded";
    case StatusCode::kThrottled: return "Throttled";
    case StatusCode::kAccessDenied: return "AccessDenied";
    case StatusCode::kUnauthenticated: return "Unauthenticated";
    case StatusCode::kInvalidImage: return "InvalidImage";
    case StatusCode::kImageTooLarge: return "ImageTooLarge";
    case StatusCode::kInvalidS3Object: return "InvalidS3Object";
    case StatusCode::kInvalidPaginationToken: return "InvalidPaginationToken";
    case StatusCode::kMalformedPolicy: return "MalformedPolicy";
    case StatusCode::kInvalidPolicyRevision: return "InvalidPolicyRevision";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kInternal: return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

}  // namespace osprey

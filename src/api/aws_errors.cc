#include "api/aws_errors.h"

#include <nlohmann/json.hpp>

namespace osprey::api {

AwsError AwsErrorFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: break;
    case StatusCode::kInvalidArgument: return {"InvalidParameterException", 400};
    case StatusCode::kNotFound: return {"ResourceNotFoundException", 400};
    case StatusCode::kAlreadyExists: return {"ResourceAlreadyExistsException", 400};
    case StatusCode::kInUse: return {"ResourceInUseException", 400};
    case StatusCode::kNotReady: return {"ResourceNotReadyException", 400};
    case StatusCode::kLimitExceeded: return {"LimitExceededException", 400};
    case StatusCode::kQuotaExceeded: return {"ServiceQuotaExceededException", 400};
    case StatusCode::kThrottled: return {"ThrottlingException", 500};
    case StatusCode::kAccessDenied: return {"AccessDeniedException", 400};
    case StatusCode::kUnauthenticated: return kUnrecognizedClient;
    case StatusCode::kInvalidImage: return {"InvalidImageFormatException", 400};
    case StatusCode::kImageTooLarge: return {"ImageTooLargeException", 400};
    case StatusCode::kInvalidS3Object: return {"InvalidS3ObjectException", 400};
    case StatusCode::kInvalidPaginationToken: return {"InvalidPaginationTokenException", 400};
    case StatusCode::kMalformedPolicy: return {"MalformedPolicyDocumentException", 400};
    case StatusCode::kInvalidPolicyRevision: return {"InvalidPolicyRevisionIdException", 400};
    case StatusCode::kCancelled: break;
    case StatusCode::kInternal: break;
  }
  return {"InternalServerError", 500};
}

std::string AwsErrorBody(const AwsError& error, std::string_view message,
                         std::string_view request_id) {
  nlohmann::json body = {{"__type", error.type},
                         {"Message", message},
                         {"Code", error.type},
                         {"Logref", request_id}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace osprey::api

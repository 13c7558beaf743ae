// The single table from Status codes to AWS JSON 1.1 errors (`__type` and HTTP status), plus the
// protocol-level errors that have no StatusCode (authentication, serialization).
// Statuses per the Rekognition API reference; see rekognition-api.md §1.5 and §7.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace osprey::api {

struct AwsError {
  std::string_view type;  // the body's "__type", e.g. "ResourceNotFoundException"
  int http_status;        // 400, or 500 for faults the clients retry
};

AwsError AwsErrorFor(StatusCode code);

// Protocol errors raised before an operation runs.
inline constexpr AwsError kSerializationError{"SerializationException", 400};
inline constexpr AwsError kUnknownOperation{"UnknownOperationException", 400};
inline constexpr AwsError kMissingAuthentication{"MissingAuthenticationTokenException", 400};
inline constexpr AwsError kIncompleteSignature{"IncompleteSignatureException", 400};
inline constexpr AwsError kUnrecognizedClient{"UnrecognizedClientException", 400};
inline constexpr AwsError kInvalidSignature{"InvalidSignatureException", 400};

// The JSON body AWS sends with an error: __type, Message, Code and Logref (the request id).
std::string AwsErrorBody(const AwsError& error, std::string_view message,
                         std::string_view request_id);

}  // namespace osprey::api

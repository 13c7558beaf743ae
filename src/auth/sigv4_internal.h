// Helpers shared by sigv4_canonical.cc and sigv4_verify.cc. Private to src/auth/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/sigv4.h"

namespace osprey::auth::internal {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kTerminator = "aws4_request";

std::string AsciiLower(std::string_view s);

// Decodes every well-formed %XX escape; a '%' not followed by two hex digits stays literal.
// '+' stays '+'.
std::string PercentDecode(std::string_view s);

// Splits an origin-form request-target at the first '?': {path, query without the '?'}.
std::pair<std::string_view, std::string_view> SplitTarget(std::string_view raw_target);

// Splits a raw query on '&' (empty pieces skipped) and each piece at its first '=',
// percent-decoding names and values. Order as in the query.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view raw_query);

// The auth fields, from whichever form carried them.
struct AuthFields {
  std::string credential;      // AKID/yyyymmdd/region/service/aws4_request
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;
  std::string amz_date;
  int64_t expires = 0;        // Presigned only; 1..604800 once parsed.
  int64_t request_time = -1;  // amz_date in seconds since the epoch, once parsed.
};

// The values of every header named `lower_name` (compared case-insensitively), in arrival order.
std::vector<std::string_view> HeaderValues(const SignableRequest& req, std::string_view lower_name);

bool IsHex(std::string_view s);

// Each parser below returns nullopt on success, else the error message (always kMalformed).

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." into credential,
// signed_headers and signature.
std::optional<std::string> ParseAuthorizationHeader(std::string_view value, AuthFields& fields);

// X-Amz-Date, or else the Date header converted to the same form, into `amz_date` (unvalidated).
std::optional<std::string> HeaderDate(const SignableRequest& req, std::string& amz_date);

// The six X-Amz-* presigned parameters (each exactly once) into `fields`, expiry range-checked.
std::optional<std::string> ParseQueryForm(
    const std::vector<std::pair<std::string, std::string>>& query, AuthFields& fields);

// "a;b;c" into names; requires non-empty lowercase names in strictly ascending order.
std::optional<std::string> ParseSignedHeaders(std::string_view list,
                                              std::vector<std::string>& names);

}  // namespace osprey::auth::internal

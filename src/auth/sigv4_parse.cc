// Syntax of the two SigV4 auth forms: the Authorization header, the X-Amz-* query parameters, the
// SignedHeaders list and the request date. Semantics (scope, time, signature) are in
// sigv4_verify.cc. Messages follow AWS's IncompleteSignatureException wording where we know it.

#include <string>
#include <vector>

#include "auth/amz_date.h"
#include "auth/sigv4_internal.h"

namespace osprey::auth::internal {
namespace {

constexpr int64_t kMaxPresignedExpiry = 604800;  // 7 days, the AWS limit for X-Amz-Expires.

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string_view> HeaderValues(const SignableRequest& req,
                                           std::string_view lower_name) {
  std::vector<std::string_view> values;
  for (const auto& [name, value] : req.headers) {
    if (AsciiLower(name) == lower_name) values.push_back(value);
  }
  return values;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...", with or without spaces after
// the commas (AWS's own S3 examples omit them).
std::optional<std::string> ParseAuthorizationHeader(std::string_view value, AuthFields& fields) {
  value = Trim(value);
  if (value.substr(0, internal::kAlgorithm.size()) != internal::kAlgorithm ||
      value.size() == internal::kAlgorithm.size() ||
      (value[internal::kAlgorithm.size()] != ' ' && value[internal::kAlgorithm.size()] != '\t')) {
    return "Authorization header must use the AWS4-HMAC-SHA256 algorithm";
  }
  std::string_view rest = value.substr(internal::kAlgorithm.size() + 1);
  bool have_credential = false, have_signed = false, have_signature = false;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view part = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return "'" + std::string(part) +
             "' not a valid key=value pair (missing equal-sign) in "
             "Authorization header";
    }
    const std::string_view key = part.substr(0, eq);
    const std::string_view val = part.substr(eq + 1);
    bool* seen = key == "Credential"      ? &have_credential
                 : key == "SignedHeaders" ? &have_signed
                 : key == "Signature"     ? &have_signature
                                          : nullptr;
    if (seen == nullptr) return "Unexpected key '" + std::string(key) + "' in Authorization header";
    if (*seen) return "Duplicate key '" + std::string(key) + "' in Authorization header";
    *seen = true;
    std::string& target = key == "Credential"      ? fields.credential
                          : key == "SignedHeaders" ? fields.signed_headers
                                                   : fields.signature;
    target = std::string(val);
  }
  std::string missing;
  if (!have_credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!have_signed) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!have_signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!missing.empty()) return missing + "Authorization=" + std::string(value);
  return std::nullopt;
}

// X-Amz-Date, or the Date header converted to the same form (SigV4 allows either).
std::optional<std::string> HeaderDate(const SignableRequest& req, std::string& amz_date) {
  const auto amz_dates = HeaderValues(req, "x-amz-date");
  if (amz_dates.size() > 1) return "Multiple X-Amz-Date headers";
  if (amz_dates.size() == 1) {
    amz_date = std::string(Trim(amz_dates[0]));
    return std::nullopt;
  }
  const auto dates = HeaderValues(req, "date");
  if (dates.size() == 1) {
    if (auto epoch = ParseHttpDate(Trim(dates[0]))) {
      amz_date = FormatAmzDate(*epoch);
      return std::nullopt;
    }
  }
  return "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.";
}

std::optional<std::string> ParseQueryForm(
    const std::vector<std::pair<std::string, std::string>>& query, AuthFields& fields) {
  std::string algorithm, expires;
  struct Field {
    std::string_view name;
    std::string* target;
    bool seen;
  } wanted[] = {{"X-Amz-Algorithm", &algorithm, false},
                {"X-Amz-Credential", &fields.credential, false},
                {"X-Amz-Date", &fields.amz_date, false},
                {"X-Amz-Expires", &expires, false},
                {"X-Amz-SignedHeaders", &fields.signed_headers, false},
                {"X-Amz-Signature", &fields.signature, false}};
  for (const auto& [name, value] : query) {
    for (Field& field : wanted) {
      if (name != field.name) continue;
      if (field.seen) return "Duplicate query parameter " + name;
      field.seen = true;
      *field.target = value;
    }
  }
  for (const Field& field : wanted) {
    if (!field.seen)
      return "Query-string authentication requires the " + std::string(field.name) + " parameter";
  }
  if (algorithm != internal::kAlgorithm)
    return "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"";
  // At most 7 digits keeps the value well inside int64 before the range check.
  if (expires.empty() || expires.size() > 7 ||
      expires.find_first_not_of("0123456789") != std::string::npos) {
    return "X-Amz-Expires must be a number of seconds";
  }
  fields.expires = std::stoll(expires);
  if (fields.expires < 1) return "X-Amz-Expires must be at least 1 second";
  if (fields.expires > kMaxPresignedExpiry) {
    return "X-Amz-Expires must be less than a week (in seconds) that is 604800";
  }
  return std::nullopt;
}

// SignedHeaders must be non-empty lowercase names in strictly ascending order, as every SDK sends
// them; anything else could not have produced a valid canonical request.
std::optional<std::string> ParseSignedHeaders(std::string_view list,
                                              std::vector<std::string>& names) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t semi = list.find(';', start);
    if (semi == std::string_view::npos) semi = list.size();
    const std::string_view name = list.substr(start, semi - start);
    if (name.empty() || AsciiLower(name) != name)
      return "SignedHeaders is malformed: " + std::string(list);
    if (!names.empty() && names.back() >= name) {
      return "SignedHeaders must be sorted and unique: " + std::string(list);
    }
    names.emplace_back(name);
    start = semi + 1;
  }
  return std::nullopt;
}

}  // namespace osprey::auth::internal

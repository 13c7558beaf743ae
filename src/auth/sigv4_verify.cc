// Server-side SigV4 verification. The order of checks and the error wording follow
// shared/docs/SECURITY-AND-RELIABILITY.md section 1.1 and what AWS returns (quoted in
// docs/design/sigv4.md); each failure fills AuthOutcome.message for the API/S3 error body.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "auth/amz_date.h"
#include "auth/crypto.h"
#include "auth/sigv4.h"
#include "auth/sigv4_internal.h"

namespace osprey::auth {
namespace {

using internal::AuthFields;
using internal::HeaderValues;
using internal::IsHex;

// Moves `out` out with an error set, so failures read `return Fail(out, ...)`. The signing key
// never leaves with a failed outcome.
AuthOutcome Fail(AuthOutcome& out, AuthError error, std::string message) {
  out.error = error;
  out.message = std::move(message);
  out.signing_key.clear();
  return std::move(out);
}

std::string SkewMessage(const std::string& amz_date, int64_t now, int64_t max_skew, bool past) {
  const std::string unit = max_skew % 60 == 0 ? std::to_string(max_skew / 60) + " min."
                                              : std::to_string(max_skew) + " sec.";
  if (past) {
    return "Signature expired: " + amz_date + " is now earlier than " +
           FormatAmzDate(now - max_skew) + " (" + FormatAmzDate(now) + " - " + unit + ")";
  }
  return "Signature not yet current: " + amz_date + " is still later than " +
         FormatAmzDate(now + max_skew) + " (" + FormatAmzDate(now) + " + " + unit + ")";
}

// Splits the credential into the outcome and checks the scope against the options and the date.
std::optional<std::pair<AuthError, std::string>> CheckScope(const AuthFields& fields,
                                                            const VerifierOptions& opts,
                                                            AuthOutcome& out) {
  std::vector<std::string_view> parts;
  std::string_view rest = fields.credential;
  while (true) {
    const size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  const auto malformed = [&](std::string message) {
    return std::make_pair(AuthError::kMalformed, std::move(message));
  };
  if (parts.size() != 5) {
    return malformed("Credential should be scoped to a valid region and service, not '" +
                     fields.credential + "'. ");
  }
  for (std::string_view part : parts) {
    if (part.empty())
      return malformed("Credential has an empty component: '" + fields.credential + "'");
  }
  out.access_key_id = std::string(parts[0]);
  out.region = std::string(parts[2]);
  out.service = std::string(parts[3]);
  out.scope = fields.credential.substr(parts[0].size() + 1);
  if (parts[4] != internal::kTerminator) {
    return std::make_pair(AuthError::kWrongScope,
                          "Credential should be scoped with a valid terminator: 'aws4_request', "
                          "not '" +
                              std::string(parts[4]) + "'. ");
  }
  if (!opts.service.empty() && parts[3] != opts.service) {
    return std::make_pair(
        AuthError::kWrongScope,
        "Credential should be scoped to correct service: '" + opts.service + "'. ");
  }
  if (parts[1] != std::string_view(fields.amz_date).substr(0, 8)) {
    return std::make_pair(AuthError::kWrongScope,
                          "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                          "of date from HTTP: '" +
                              std::string(parts[1]) + "' != '" + fields.amz_date.substr(0, 8) +
                              "', from '" + fields.amz_date + "'.");
  }
  return std::nullopt;
}

struct Failure {
  AuthError error;
  std::string message;
};

std::optional<Failure> Malformed(std::optional<std::string> message) {
  if (!message) return std::nullopt;
  return Failure{AuthError::kMalformed, std::move(*message)};
}

// Picks the auth form, parses it into `fields`, and checks the date, scope and signature syntax.
// Fills `out` with what it learns along the way.
std::optional<Failure> ReadAuthFields(const SignableRequest& req, const VerifierOptions& opts,
                                      AuthOutcome& out, AuthFields& fields) {
  const auto query = internal::ParseQuery(internal::SplitTarget(req.raw_target).second);
  const auto authorizations = HeaderValues(req, "authorization");
  bool query_auth = false;
  for (const auto& [name, value] : query) {
    query_auth |=
        name == "X-Amz-Algorithm" || name == "X-Amz-Credential" || name == "X-Amz-Signature";
  }
  // MinIO's hasMultipleAuth: a request carrying both forms is refused, never guessed at.
  if (!authorizations.empty() && query_auth) {
    return Malformed(
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
        "Signature query string parameter or the Authorization header should be specified");
  }
  if (authorizations.empty() && !(query_auth && opts.allow_presigned)) {
    return Failure{AuthError::kMissing, "Missing Authentication Token"};
  }
  out.presigned = authorizations.empty();
  if (out.presigned) {
    if (auto error = Malformed(internal::ParseQueryForm(query, fields))) return error;
  } else if (authorizations.size() > 1) {
    return Malformed("Multiple Authorization headers");
  } else {
    if (auto error = Malformed(internal::ParseAuthorizationHeader(authorizations[0], fields)))
      return error;
    if (auto error = Malformed(internal::HeaderDate(req, fields.amz_date))) return error;
  }
  out.amz_date = fields.amz_date;
  out.signature = fields.signature;
  fields.request_time = ParseAmzDate(fields.amz_date).value_or(-1);
  if (fields.request_time < 0) {
    return Malformed(
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", not '" +
        fields.amz_date + "'");
  }
  if (auto scope_error = CheckScope(fields, opts, out)) {
    return Failure{scope_error->first, std::move(scope_error->second)};
  }
  if (fields.signature.size() != 64 || !IsHex(fields.signature)) {
    return Malformed("Signature must be 64 hexadecimal characters");
  }
  return std::nullopt;
}

// `host` must be signed (AWS requires it) and every signed header must be in the request.
std::optional<Failure> CheckSignedHeaders(const SignableRequest& req, std::string_view list,
                                          std::vector<std::string>& signed_headers) {
  if (auto error = Malformed(internal::ParseSignedHeaders(list, signed_headers))) return error;
  if (!std::binary_search(signed_headers.begin(), signed_headers.end(), "host")) {
    return Malformed("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  for (const std::string& name : signed_headers) {
    if (HeaderValues(req, name).empty()) {
      return Malformed("Signed header '" + name + "' is missing from the request");
    }
  }
  return std::nullopt;
}

// Header form: X-Amz-Date within +-max_skew of now. Presigned: not more than max_skew in the
// future, and not past X-Amz-Date + X-Amz-Expires (the expiry replaces the past-side window).
std::optional<Failure> CheckTime(const AuthFields& fields, bool presigned, int64_t now,
                                 const VerifierOptions& opts) {
  if (fields.request_time - now > opts.max_skew_seconds) {
    return Failure{AuthError::kSkewed,
                   SkewMessage(fields.amz_date, now, opts.max_skew_seconds, /*past=*/false)};
  }
  if (presigned) {
    if (now > fields.request_time + fields.expires) {
      return Failure{AuthError::kExpired, "Request has expired"};
    }
  } else if (now - fields.request_time > opts.max_skew_seconds) {
    return Failure{AuthError::kSkewed,
                   SkewMessage(fields.amz_date, now, opts.max_skew_seconds, /*past=*/true)};
  }
  return std::nullopt;
}

}  // namespace

std::string_view AuthErrorName(AuthError error) {
  switch (error) {
    case AuthError::kOk:
      return "kOk";
    case AuthError::kMissing:
      return "kMissing";
    case AuthError::kMalformed:
      return "kMalformed";
    case AuthError::kUnknownKey:
      return "kUnknownKey";
    case AuthError::kSignatureMismatch:
      return "kSignatureMismatch";
    case AuthError::kSkewed:
      return "kSkewed";
    case AuthError::kExpired:
      return "kExpired";
    case AuthError::kWrongScope:
      return "kWrongScope";
  }
  return "kUnknown";
}

StaticCredentialStore::StaticCredentialStore(std::map<std::string, std::string> keys)
    : keys_(keys.begin(), keys.end()) {}

std::optional<std::string> StaticCredentialStore::SecretFor(std::string_view access_key_id) const {
  const auto it = keys_.find(access_key_id);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

AuthOutcome Verify(const SignableRequest& req, const CredentialStore& creds, const Clock& clock,
                   const VerifierOptions& opts) {
  AuthOutcome out;
  AuthFields fields;
  std::vector<std::string> signed_headers;
  std::optional<Failure> failure = ReadAuthFields(req, opts, out, fields);
  if (!failure) failure = CheckSignedHeaders(req, fields.signed_headers, signed_headers);
  if (failure) return Fail(out, failure->error, std::move(failure->message));

  const std::optional<std::string> secret = creds.SecretFor(out.access_key_id);
  if (!secret) {
    return Fail(out, AuthError::kUnknownKey,
                "The security token included in the request is invalid.");
  }
  if (auto time_failure = CheckTime(fields, out.presigned, clock.NowSeconds(), opts)) {
    return Fail(out, time_failure->error, std::move(time_failure->message));
  }

  std::string signing_key =
      DeriveSigningKey(*secret, fields.amz_date.substr(0, 8), out.region, out.service);
  const std::string canonical =
      CanonicalRequest(req, signed_headers, opts.normalize_path, out.presigned);
  const std::string expected =
      HexEncode(HmacSha256(signing_key, StringToSign(fields.amz_date, out.scope, canonical)));
  if (!ConstantTimeEquals(expected, fields.signature)) {
    return Fail(out, AuthError::kSignatureMismatch,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
  }
  out.signing_key = std::move(signing_key);
  return out;
}

}  // namespace osprey::auth

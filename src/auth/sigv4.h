// AWS Signature Version 4: server-side verification (Authorization header and presigned query
// forms), the canonicalisation building blocks, aws-chunked chunk/trailer signatures, and a small
// client-side signer for tests and benchmarks. See docs/design/sigv4.md for the rules and sources.
//
// Everything here is a pure function of its arguments (plus the injected Clock and CredentialStore)
// and is thread-safe. The HTTP body is never seen: callers pass its hash (or the declared
// x-amz-content-sha256 value) and check the body against it themselves while streaming.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace osprey::auth {

// One request as the verifier sees it. Plain data; the caller owns it.
struct SignableRequest {
  std::string method;      // "GET", "POST", ... (used as is, never case-folded)
  std::string raw_target;  // origin-form request-target exactly as on the request line, undecoded:
                           // "/a%20b/c?x=1&y"
  // As received: any name case, repeated names allowed, arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  // Lowercase hex SHA-256 of the body, or the literal x-amz-content-sha256 value
  // (UNSIGNED-PAYLOAD, STREAMING-...). Chosen by the caller; for S3 presigned URLs that is
  // "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

enum class AuthError {
  kOk,
  kMissing,     // No SigV4 auth at all (or only a presigned query where it is not allowed).
  kMalformed,   // Unparseable or incomplete auth data, both forms at once, bad X-Amz-Expires.
  kUnknownKey,  // The access key id is not in the CredentialStore.
  kSignatureMismatch,  // Well-formed, but the signature is wrong.
  kSkewed,             // X-Amz-Date outside +-max_skew_seconds of now (presigned: too far ahead).
  kExpired,            // Presigned URL past X-Amz-Date + X-Amz-Expires.
  kWrongScope,  // Credential scope: wrong service, wrong date, or terminator not aws4_request.
};

// "kSignatureMismatch" style name, for logs and tests.
std::string_view AuthErrorName(AuthError error);

struct AuthOutcome {
  AuthError error = AuthError::kOk;
  std::string message;  // Human-readable, AWS wording where AWS has one.
  // Filled as far as parsing got, also on failure (useful for error bodies and logs).
  std::string access_key_id, region, service;
  std::string amz_date;     // yyyymmddThhmmssZ
  std::string scope;        // yyyymmdd/region/service/aws4_request
  std::string signature;    // Hex; the seed signature for aws-chunked.
  std::string signing_key;  // Raw derived key, for chunk signature checks. Only set when ok().
  bool presigned = false;
  bool ok() const { return error == AuthError::kOk; }
};

// How strict to be; one instance per endpoint (JSON API, S3). Plain data.
struct VerifierOptions {
  std::string service;             // Required scope service: "rekognition" or "s3"; empty = any.
  int64_t max_skew_seconds = 300;  // 300 for rekognition, 900 for s3.
  bool normalize_path = true;      // false for S3 (encode once, never normalise).
  bool allow_presigned = false;    // Query-string auth (S3 presigned URLs).
};

// Maps access key ids to secrets. Implementations must be thread-safe.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // The secret for `access_key_id`, or nullopt if the key is unknown.
  virtual std::optional<std::string> SecretFor(std::string_view access_key_id) const = 0;
};

// A fixed key -> secret map. Immutable after construction, so thread-safe.
class StaticCredentialStore : public CredentialStore {
 public:
  explicit StaticCredentialStore(std::map<std::string, std::string> keys);
  std::optional<std::string> SecretFor(std::string_view access_key_id) const override;

 private:
  const std::map<std::string, std::string, std::less<>> keys_;
};

// Verifies `req`'s SigV4 signature. Exactly one of the Authorization header or (when
// opts.allow_presigned) the X-Amz-* query parameters must carry it. Checks, in order: form and
// syntax (kMissing, kMalformed), credential scope (kWrongScope), that `host` and every listed
// header are signed and present (kMalformed), the key (kUnknownKey), the time window (kSkewed,
// kExpired), and finally the signature in constant time (kSignatureMismatch). A Date header stands
// in for a missing X-Amz-Date in the header form. The region is not checked: it is reported in the
// outcome for the caller to judge.
AuthOutcome Verify(const SignableRequest& req, const CredentialStore& creds, const Clock& clock,
                   const VerifierOptions& opts);

// ---- Building blocks, exposed for tests and for the client-side signer. ----

// RFC 3986 percent-encoding: A-Z a-z 0-9 - . _ ~ stay, every other byte becomes %XX (uppercase).
// '/' stays as is unless `encode_slash`.
std::string UriEncode(std::string_view s, bool encode_slash);

// The CanonicalURI line for a raw (undecoded) path. normalize=false (S3): each '/'-separated
// segment is percent-decoded and re-encoded once, '//' '.' '..' kept. normalize=true (other
// services): dot segments removed and slashes collapsed as botocore does, then the raw path is
// encoded once more ("double encoding": a wire "%20" becomes "%2520"). Empty path -> "/".
std::string CanonicalUri(std::string_view raw_path, bool normalize);

// The CanonicalQueryString line for a raw query (no leading '?'): names and values percent-decoded
// then re-encoded, '=' always emitted, pairs sorted by encoded name then value. '+' is a literal
// plus, not a space. drop_signature (presigned): X-Amz-Signature is left out.
std::string CanonicalQuery(std::string_view raw_query, bool drop_signature);

// The full canonical request. `signed_headers` are lowercase names, sorted, each present in
// req.headers; repeated headers are joined with ',' in arrival order, values trimmed and internal
// whitespace runs collapsed to one space.
std::string CanonicalRequest(const SignableRequest& req,
                             const std::vector<std::string>& signed_headers, bool normalize,
                             bool presigned);

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"), raw.
std::string DeriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service);

// aws-chunked: hex signature of one chunk given the previous signature (seed = header signature).
std::string ChunkSignature(std::string_view signing_key, std::string_view amz_date,
                           std::string_view scope, std::string_view previous_signature,
                           std::string_view chunk_sha256_hex);

// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: hex signature of the trailer, chained off the final
// (zero-length) chunk's signature. `canonical_trailers` is "name:value\n" per trailing header,
// lowercase names, in the order sent.
std::string TrailerSignature(std::string_view signing_key, std::string_view amz_date,
                             std::string_view scope, std::string_view previous_signature,
                             std::string_view canonical_trailers);

// Client side (benchmarks, tests, CLI): replaces any X-Amz-Date and Authorization headers with an
// X-Amz-Date from `clock` and an Authorization header signing every header in req.headers.
// REQUIRES: req.headers contains Host; req.payload_hash is set.
void SignRequest(SignableRequest& req, std::string_view access_key_id, std::string_view secret,
                 std::string_view region, std::string_view service, const Clock& clock);

}  // namespace osprey::auth

// PayloadReader: pulls an S3 request body through every integrity check SigV4 and S3 define,
// without holding the body in memory:
//   - x-amz-content-sha256 = hex SHA-256: the body must hash to it (XAmzContentSHA256Mismatch);
//   - UNSIGNED-PAYLOAD: no hash (presigned URLs, HTTPS clients);
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: aws-chunked, every chunk signature verified;
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked, the x-amz-checksum-* trailer verified;
//   - Content-MD5 (BadDigest) and x-amz-checksum-* headers, in every mode;
//   - the byte count against Content-Length / x-amz-decoded-content-length (IncompleteBody).
// Bytes handed to the writer are provisional until Read() returns OK: callers write them to
// uncommitted storage (the store's temp files) only. Not thread-safe: one reader per request.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "auth/sigv4.h"
#include "http/http_server.h"
#include "s3/s3_error.h"
#include "storage/object_store.h"

namespace osprey::s3 {

enum class PayloadMode {
  kSha256,                    // plain body, hex SHA-256 declared
  kUnsigned,                  // plain body, UNSIGNED-PAYLOAD
  kStreamingSigned,           // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  kStreamingSignedTrailer,    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  kStreamingUnsignedTrailer,  // STREAMING-UNSIGNED-PAYLOAD-TRAILER
};

// Classifies a declared x-amz-content-sha256 value; nullopt if it is none of the accepted forms.
std::optional<PayloadMode> ClassifyPayload(std::string_view declared);

class PayloadReader {
 public:
  // Checks the headers (Content-MD5 syntax, lengths, trailer declaration, size cap) before any
  // byte is read. `auth` is the verified outcome (its signing key drives chunk signatures);
  // `declared_hash` is what was signed as the payload hash. Returns the S3 error to answer with
  // (InvalidDigest, MissingContentLength, EntityTooLarge, InvalidArgument, ...).
  static std::variant<std::unique_ptr<PayloadReader>, S3Error> Create(
      const http::HttpRequest& request, const auth::AuthOutcome& auth,
      const std::string& declared_hash, int64_t max_bytes);
  ~PayloadReader();

  // The object size the client declared, or -1 if it streams without one.
  int64_t declared_size() const { return declared_size_; }

  // Streams the decoded, verified body to `write`. On failure returns a non-OK Status and sets
  // error() (unless the failure came from `write` itself, which is returned unchanged).
  Status Read(http::HttpRequest& request, const storage::ChunkWriter& write);
  // Reads the whole (small) body into memory with the same checks.
  Result<std::string> ReadAll(http::HttpRequest& request);

  const std::optional<S3Error>& error() const { return error_; }

 private:
  struct State;
  explicit PayloadReader(std::unique_ptr<State> state);
  Status Fail(std::string_view code, std::string message);
  Status Verify();

  std::unique_ptr<State> state_;
  int64_t declared_size_ = -1;
  std::optional<S3Error> error_;
};

}  // namespace osprey::s3

// AwsChunkedDecoder: a streaming decoder for `Content-Encoding: aws-chunked` bodies, the framing of
// the STREAMING-* payload modes (docs: AmazonS3/latest/API/sigv4-streaming.html and
// sigv4-streaming-trailers.html):
//   <hex size>[;chunk-signature=<64 hex>]\r\n<data>\r\n ... 0[;chunk-signature=..]\r\n
//   [<trailer-name>:<value>\r\n ...]\r\n
// In signed mode every chunk signature is checked against the chain that starts at the seed
// (Authorization header) signature, and a signed trailer's x-amz-trailer-signature too. Payload
// bytes are passed on as they arrive (never buffered per chunk), so a caller must treat them as
// provisional until Finish() succeeds; the S3 PUT path writes them to a temp file and commits only
// then. Not thread-safe: one decoder per request.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/crypto.h"
#include "common/status.h"
#include "s3/s3_error.h"

namespace osprey::s3 {

struct ChunkSigning {
  std::string signing_key;     // raw, from the verified Authorization header
  std::string amz_date;        // yyyymmddThhmmssZ
  std::string scope;           // yyyymmdd/region/s3/aws4_request
  std::string seed_signature;  // the Authorization header's signature
};

class AwsChunkedDecoder {
 public:
  // signing: nullopt for STREAMING-UNSIGNED-PAYLOAD-TRAILER (no chunk signatures).
  // signed_trailer: the -TRAILER signed variant, whose trailer carries x-amz-trailer-signature.
  AwsChunkedDecoder(std::optional<ChunkSigning> signing, bool signed_trailer);

  // Consumes the next framed bytes, passing payload bytes to `out` (a non-OK return from `out`
  // stops decoding). Returns false on any framing or signature error; see error().
  bool Feed(std::string_view data, const std::function<Status(std::string_view)>& out);
  // Call when the body ended. Returns false if the final chunk or trailer has not been seen.
  bool Finish();

  // Valid after a false return: SignatureDoesNotMatch, IncompleteBody, MalformedTrailerError, or
  // the writer's failure as InternalError.
  const S3Error& error() const { return error_; }
  // Trailing headers (lowercase names), available after Finish().
  const std::map<std::string, std::string>& trailers() const { return trailers_; }
  int64_t decoded_bytes() const { return decoded_bytes_; }

 private:
  enum class State { kHeader, kData, kDataEnd, kTrailer, kDone, kFailed };
  bool Fail(std::string_view code, std::string message);
  bool HeaderLine(std::string_view line);
  bool ChunkDone();
  bool TrailerLine(std::string_view line);

  std::optional<ChunkSigning> signing_;
  bool signed_trailer_;
  State state_ = State::kHeader;
  std::string line_;  // a header or trailer line being accumulated
  int64_t chunk_remaining_ = 0;
  bool final_chunk_ = false;
  std::string chunk_signature_;  // claimed signature of the current chunk
  std::string previous_signature_;
  auth::Sha256Hasher chunk_hash_;
  size_t crlf_seen_ = 0;
  std::string canonical_trailers_;
  std::map<std::string, std::string> trailers_;
  int64_t decoded_bytes_ = 0;
  S3Error error_;
};

}  // namespace osprey::s3

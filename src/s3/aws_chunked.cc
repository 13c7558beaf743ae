#include "s3/aws_chunked.h"

#include <algorithm>
#include <cctype>

#include "auth/sigv4.h"

namespace osprey::s3 {
namespace {
constexpr size_t kMaxLine = 4096;  // a chunk header is ~90 bytes; trailers are short too
constexpr size_t kMaxTrailers = 16;
constexpr int64_t kMaxChunkSize = int64_t{1} << 40;  // far above any real chunk; stops overflow

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

AwsChunkedDecoder::AwsChunkedDecoder(std::optional<ChunkSigning> signing, bool signed_trailer)
    : signing_(std::move(signing)), signed_trailer_(signed_trailer && signing_.has_value()) {
  if (signing_) previous_signature_ = signing_->seed_signature;
}

bool AwsChunkedDecoder::Fail(std::string_view code, std::string message) {
  state_ = State::kFailed;
  error_ = MakeError(code, std::move(message));
  return false;
}

bool AwsChunkedDecoder::Feed(std::string_view data,
                             const std::function<Status(std::string_view)>& out) {
  while (!data.empty()) {
    switch (state_) {
      case State::kHeader:
      case State::kTrailer: {
        size_t newline = data.find('\n');
        size_t take = newline == std::string_view::npos ? data.size() : newline + 1;
        if (line_.size() + take > kMaxLine) {
          return Fail("IncompleteBody", "An aws-chunked header or trailer line is too long.");
        }
        line_.append(data.substr(0, take));
        data.remove_prefix(take);
        if (newline == std::string_view::npos) break;
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
          return Fail("IncompleteBody", "aws-chunked lines must end with CRLF.");
        }
        std::string line = line_.substr(0, line_.size() - 2);
        line_.clear();
        if (!(state_ == State::kHeader ? HeaderLine(line) : TrailerLine(line))) return false;
        break;
      }
      case State::kData: {
        size_t take = static_cast<size_t>(std::min<int64_t>(chunk_remaining_, data.size()));
        std::string_view piece = data.substr(0, take);
        if (signing_) chunk_hash_.Update(piece);
        Status written = out(piece);
        if (!written.ok()) return Fail("InternalError", written.message());
        decoded_bytes_ += static_cast<int64_t>(take);
        chunk_remaining_ -= static_cast<int64_t>(take);
        data.remove_prefix(take);
        if (chunk_remaining_ == 0) {
          state_ = State::kDataEnd;
          crlf_seen_ = 0;
        }
        break;
      }
      case State::kDataEnd: {
        if (data.front() != (crlf_seen_ == 0 ? '\r' : '\n')) {
          return Fail("IncompleteBody", "Chunk data is longer than its declared size.");
        }
        data.remove_prefix(1);
        if (++crlf_seen_ == 2 && !ChunkDone()) return false;
        break;
      }
      case State::kDone:
        return Fail("IncompleteBody", "Data after the final aws-chunked chunk.");
      case State::kFailed:
        return false;
    }
  }
  return true;
}

bool AwsChunkedDecoder::HeaderLine(std::string_view line) {
  size_t semicolon = line.find(';');
  std::string_view size_text = line.substr(0, semicolon);
  if (size_text.empty() || size_text.size() > 16 || !IsHex(size_text)) {
    return Fail("IncompleteBody", "Invalid aws-chunked chunk size.");
  }
  int64_t size = std::stoll(std::string(size_text), nullptr, 16);
  if (size < 0 || size > kMaxChunkSize) return Fail("IncompleteBody", "Chunk size too large.");
  if (signing_) {
    constexpr std::string_view kExt = "chunk-signature=";
    std::string_view ext =
        semicolon == std::string_view::npos ? std::string_view() : line.substr(semicolon + 1);
    if (ext.substr(0, kExt.size()) != kExt || ext.size() != kExt.size() + 64 ||
        !IsHex(ext.substr(kExt.size()))) {
      return Fail("IncompleteBody", "Missing or malformed chunk-signature.");
    }
    chunk_signature_ = std::string(ext.substr(kExt.size()));
  }
  chunk_remaining_ = size;
  if (size == 0) {
    final_chunk_ = true;
    return ChunkDone();
  }
  state_ = State::kData;
  return true;
}

bool AwsChunkedDecoder::ChunkDone() {
  if (signing_) {
    std::string expected =
        auth::ChunkSignature(signing_->signing_key, signing_->amz_date, signing_->scope,
                             previous_signature_, chunk_hash_.FinishHex());
    if (!auth::ConstantTimeEquals(expected, chunk_signature_)) {
      return Fail("SignatureDoesNotMatch",
                  "The chunk signature we calculated does not match the signature you provided.");
    }
    previous_signature_ = chunk_signature_;
  }
  state_ = final_chunk_ ? State::kTrailer : State::kHeader;
  return true;
}

bool AwsChunkedDecoder::TrailerLine(std::string_view line) {
  if (line.empty()) {
    if (signed_trailer_ && !trailers_.count("x-amz-trailer-signature")) {
      return Fail("MalformedTrailerError", "The trailer signature is missing.");
    }
    state_ = State::kDone;
    return true;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 || trailers_.size() >= kMaxTrailers) {
    return Fail("MalformedTrailerError",
                "The request contained trailing data that was not well-formed.");
  }
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string value = Trim(line.substr(colon + 1));
  if (name == "x-amz-trailer-signature" && signed_trailer_) {
    std::string expected =
        auth::TrailerSignature(signing_->signing_key, signing_->amz_date, signing_->scope,
                               previous_signature_, canonical_trailers_);
    if (!auth::ConstantTimeEquals(expected, value)) {
      return Fail("SignatureDoesNotMatch",
                  "The trailer signature we calculated does not match the one you provided.");
    }
  } else {
    canonical_trailers_ += name + ":" + value + "\n";
  }
  trailers_[name] = value;
  return true;
}

bool AwsChunkedDecoder::Finish() {
  if (state_ == State::kDone) return true;
  if (state_ == State::kFailed) return false;
  // Lenient about a missing blank line after an unsigned, trailer-less final chunk: every payload
  // byte has arrived (and been verified) by then.
  if (state_ == State::kTrailer && line_.empty() && trailers_.empty() && !signed_trailer_) {
    return true;
  }
  return Fail("IncompleteBody", "The request body terminated unexpectedly.");
}

}  // namespace osprey::s3

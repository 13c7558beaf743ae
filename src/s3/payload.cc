#include "s3/payload.h"

#include <cctype>
#include <charconv>

#include "auth/crypto.h"
#include "s3/aws_chunked.h"

namespace osprey::s3 {
namespace {

constexpr std::string_view kStreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
constexpr std::string_view kStreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
constexpr std::string_view kStreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
constexpr std::string_view kChecksumPrefix = "x-amz-checksum-";

std::optional<int64_t> ParseLength(const std::string* text) {
  if (text == nullptr || text->empty() || text->size() > 18) return std::nullopt;
  int64_t value = -1;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 0) return std::nullopt;
  return value;
}

// One x-amz-checksum-* algorithm, computed incrementally.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
class Checksum {
 public:
  static std::optional<Checksum> For(std::string_view header_name) {
    std::string_view alg = header_name.substr(kChecksumPrefix.size());
    if (alg == "crc32") return Checksum(Kind::kCrc32);
    if (alg == "crc32c") return Checksum(Kind::kCrc32c);
    if (alg == "sha1") return Checksum(Kind::kSha1);
    if (alg == "sha256") return Checksum(Kind::kSha256);
    return std::nullopt;
  }
  void Update(std::string_view data) {
    switch (kind_) {
      case Kind::kCrc32:
        crc_ = auth::Crc32Update(crc_, data);
        break;
      case Kind::kCrc32c:
        crc_ = auth::Crc32cUpdate(crc_, data);
        break;
      case Kind::kSha1:
        sha1_->Update(data);
        break;
      case Kind::kSha256:
        sha256_->Update(data);
        break;
    }
  }
  std::string Base64() {
    switch (kind_) {
      case Kind::kSha1:
        return auth::Base64Encode(sha1_->FinishRaw());
      case Kind::kSha256:
        return auth::Base64Encode(sha256_->FinishRaw());
      default:
        return auth::Crc32ToBase64(crc_);
    }
  }

 private:
  enum class Kind { kCrc32, kCrc32c, kSha1, kSha256 };
  explicit Checksum(Kind kind) : kind_(kind) {
    if (kind == Kind::kSha1) sha1_.emplace();
    if (kind == Kind::kSha256) sha256_.emplace();
  }
  Kind kind_;
  uint32_t crc_ = 0;
  std::optional<auth::Sha1Hasher> sha1_;
  std::optional<auth::Sha256Hasher> sha256_;
};

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::optional<PayloadMode> ClassifyPayload(std::string_view declared) {
  if (declared == "UNSIGNED-PAYLOAD") return PayloadMode::kUnsigned;
  if (declared == kStreamingSigned) return PayloadMode::kStreamingSigned;
  if (declared == kStreamingSignedTrailer) return PayloadMode::kStreamingSignedTrailer;
  if (declared == kStreamingUnsignedTrailer) return PayloadMode::kStreamingUnsignedTrailer;
  if (IsHex64(declared)) return PayloadMode::kSha256;
  return std::nullopt;
}

struct PayloadReader::State {
  PayloadMode mode = PayloadMode::kUnsigned;
  int64_t max_bytes = 0;
  int64_t count = 0;
  std::string expected_sha256;
  std::optional<auth::Sha256Hasher> sha256;
  std::string expected_md5;  // raw 16 bytes
  std::optional<auth::Md5Hasher> md5;
  std::string checksum_name;      // x-amz-checksum-<alg>
  std::string checksum_expected;  // from the header; from the trailer when in_trailer
  bool checksum_in_trailer = false;
  std::optional<Checksum> checksum;
  std::optional<AwsChunkedDecoder> decoder;
  Status write_failure;
};

PayloadReader::PayloadReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
PayloadReader::~PayloadReader() = default;

std::variant<std::unique_ptr<PayloadReader>, S3Error> PayloadReader::Create(
    const http::HttpRequest& request, const auth::AuthOutcome& auth,
    const std::string& declared_hash, int64_t max_bytes) {
  auto state = std::make_unique<State>();
  state->max_bytes = max_bytes;
  std::optional<PayloadMode> mode = ClassifyPayload(declared_hash);
  if (!mode) {
    return MakeError("InvalidArgument",
                     "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                     "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a "
                     "valid sha256 value.");
  }
  state->mode = *mode;
  const bool streaming = *mode != PayloadMode::kSha256 && *mode != PayloadMode::kUnsigned;
  int64_t declared = -1;
  if (streaming) {
    std::optional<int64_t> decoded = ParseLength(request.Header("x-amz-decoded-content-length"));
    if (!decoded) {
      return MakeError("MissingContentLength",
                       "You must provide the x-amz-decoded-content-length HTTP header.");
    }
    declared = *decoded;
    std::optional<ChunkSigning> signing;
    if (*mode != PayloadMode::kStreamingUnsignedTrailer) {
      signing = ChunkSigning{auth.signing_key, auth.amz_date, auth.scope, auth.signature};
    }
    state->decoder.emplace(std::move(signing), *mode == PayloadMode::kStreamingSignedTrailer);
  } else if (const std::string* length = request.Header("content-length")) {
    std::optional<int64_t> parsed = ParseLength(length);
    if (!parsed) return MakeError("InvalidArgument", "Invalid Content-Length.");
    declared = *parsed;
  }
  if (declared > max_bytes) {
    return MakeError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size (" +
                                           std::to_string(max_bytes) + " bytes).");
  }
  if (*mode == PayloadMode::kSha256) {
    state->expected_sha256 = declared_hash;
    for (char& c : state->expected_sha256) c = static_cast<char>(std::tolower(c));
    state->sha256.emplace();
  }
  if (const std::string* md5 = request.Header("content-md5")) {
    Result<std::string> raw = auth::Base64Decode(*md5);
    if (!raw.ok() || raw->size() != 16) {
      return MakeError("InvalidDigest", "The Content-MD5 you specified was not valid.");
    }
    state->expected_md5 = *raw;
    state->md5.emplace();
  }
  if (const std::string* trailer = request.Header("x-amz-trailer");
      trailer != nullptr && streaming) {
    state->checksum_name = *trailer;
    for (char& c : state->checksum_name) c = static_cast<char>(std::tolower(c));
    state->checksum_in_trailer = true;
  } else {
    for (const auto& [name, value] : request.headers) {
      if (name.rfind(kChecksumPrefix, 0) == 0 && name != "x-amz-checksum-algorithm" &&
          name != "x-amz-checksum-type") {
        state->checksum_name = name;
        state->checksum_expected = value;
      }
    }
  }
  if (!state->checksum_name.empty()) {
    if (state->checksum_name.rfind(kChecksumPrefix, 0) != 0 ||
        !(state->checksum = Checksum::For(state->checksum_name))) {
      return MakeError("InvalidRequest", "Unsupported checksum: " + state->checksum_name +
                                             " (supported: crc32, crc32c, sha1, sha256).");
    }
  }
  auto reader = std::unique_ptr<PayloadReader>(new PayloadReader(std::move(state)));
  reader->declared_size_ = declared;
  return reader;
}

Status PayloadReader::Fail(std::string_view code, std::string message) {
  if (!error_) error_ = MakeError(code, std::move(message));
  return Status::InvalidArgument(error_->message);
}

Status PayloadReader::Read(http::HttpRequest& request, const storage::ChunkWriter& write) {
  State& s = *state_;
  // Payload bytes after de-framing: count, hash, pass on.
  auto emit = [&](std::string_view data) -> Status {
    s.count += static_cast<int64_t>(data.size());
    if (s.count > s.max_bytes) {
      return Fail("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
    }
    if (declared_size_ >= 0 && s.count > declared_size_) {
      return Fail("IncompleteBody", "The body is longer than the declared length.");
    }
    if (s.sha256) s.sha256->Update(data);
    if (s.md5) s.md5->Update(data);
    if (s.checksum) s.checksum->Update(data);
    Status written = write(data);
    if (!written.ok()) s.write_failure = written;
    return written;
  };
  auto consume = [&](const char* data, size_t size) {
    std::string_view raw(data, size);
    if (!s.decoder) return emit(raw).ok();
    if (s.decoder->Feed(raw, emit)) return true;
    if (!error_ && s.write_failure.ok()) error_ = s.decoder->error();
    return false;
  };
  bool complete = request.read_body ? request.read_body(consume)
                                    : consume(request.body.data(), request.body.size());
  if (!s.write_failure.ok()) return s.write_failure;
  if (error_) return Status::InvalidArgument(error_->message);
  if (!complete) return Fail("IncompleteBody", "The request body terminated unexpectedly.");
  return Verify();
}

Status PayloadReader::Verify() {
  State& s = *state_;
  if (s.decoder && !s.decoder->Finish()) {
    error_ = s.decoder->error();
    return Status::InvalidArgument(error_->message);
  }
  if (declared_size_ >= 0 && s.count != declared_size_) {
    return Fail("IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP "
                "header.");
  }
  if (s.sha256 && !auth::ConstantTimeEquals(s.sha256->FinishHex(), s.expected_sha256)) {
    return Fail("XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  if (s.md5 && s.md5->FinishRaw() != s.expected_md5) {
    return Fail("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  if (s.checksum) {
    if (s.checksum_in_trailer) {
      auto it = s.decoder->trailers().find(s.checksum_name);
      if (it == s.decoder->trailers().end()) {
        return Fail("MalformedTrailerError",
                    "The declared trailer " + s.checksum_name + " was not sent.");
      }
      s.checksum_expected = it->second;
    }
    if (s.checksum->Base64() != s.checksum_expected) {
      return Fail("BadDigest", "The " + s.checksum_name.substr(kChecksumPrefix.size()) +
                                   " you specified did not match the calculated checksum.");
    }
  }
  return Status::Ok();
}

Result<std::string> PayloadReader::ReadAll(http::HttpRequest& request) {
  std::string body;
  OSPREY_RETURN_IF_ERROR(Read(request, [&](std::string_view data) {
    body.append(data);
    return Status::Ok();
  }));
  return body;
}

}  // namespace osprey::s3

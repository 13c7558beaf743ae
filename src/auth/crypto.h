// Crypto and encoding helpers for SigV4 and S3 integrity checks: SHA-256, SHA-1, MD5, HMAC-SHA256,
// hex, base64, constant-time comparison and the CRC32/CRC32C checksums S3 trailers carry.
//
// Digests and HMAC use OpenSSL 3 EVP; hex, base64 and the CRCs are plain C++. All free functions
// are thread-safe. "Raw" results are binary strings (32 bytes for SHA-256); "Hex" results are
// lowercase. An OpenSSL failure here can only mean allocation failure or a broken install, so it
// aborts the process instead of returning a Status (see crypto.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header.
struct evp_md_st;      // OpenSSL's EVP_MD.

namespace osprey::auth {

// Lowercase hex SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr std::string_view kEmptySha256Hex =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// An incremental message digest. Not thread-safe; movable, not copyable.
// After FinishHex()/FinishRaw() the hasher is reset and may be reused for a new message.
class Hasher {
 public:
  Hasher(Hasher&& other) noexcept;
  Hasher& operator=(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  ~Hasher();

  void Update(std::string_view data);
  std::string FinishRaw();
  std::string FinishHex();

 protected:
  explicit Hasher(const evp_md_st* md);

 private:
  const evp_md_st* md_;
  evp_md_ctx_st* ctx_;  // Owned; null only after a move.
};

class Sha256Hasher : public Hasher {
 public:
  Sha256Hasher();
};

class Sha1Hasher : public Hasher {
 public:
  Sha1Hasher();
};

class Md5Hasher : public Hasher {
 public:
  Md5Hasher();
};

std::string Sha256Raw(std::string_view data);
std::string Sha256Hex(std::string_view data);
std::string Md5Hex(std::string_view data);

// HMAC-SHA256(key, data) as 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// True iff a and b are equal. The time taken depends only on the lengths, never on where the first
// difference is, so signature checks leak nothing about how much of a guess was right.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Lowercase hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);

// RFC 4648 base64 with '+' '/' and '=' padding.
std::string Base64Encode(std::string_view bytes);

// Strict RFC 4648 decoding: length must be a multiple of 4, only alphabet characters, at most two
// '=' and only at the end, and the unused bits before padding must be zero (what every encoder
// emits). No whitespace is skipped. Returns kInvalidArgument otherwise.
Result<std::string> Base64Decode(std::string_view text);

// CRC-32 (ISO-HDLC, as zlib) and CRC-32C (Castagnoli). Start with crc = 0 and feed the previous
// result back in to checksum a stream piecewise: Crc32cUpdate(Crc32cUpdate(0, a), b) ==
// Crc32cUpdate(0, a + b).
uint32_t Crc32Update(uint32_t crc, std::string_view data);
uint32_t Crc32cUpdate(uint32_t crc, std::string_view data);

// Base64 of a 4-byte big-endian CRC: the x-amz-checksum-crc32 / -crc32c header and trailer format.
std::string Crc32ToBase64(uint32_t crc);

// One-shot x-amz-checksum-* values (base64 of the big-endian digest).
std::string Crc32Base64(std::string_view data);
std::string Crc32cBase64(std::string_view data);
std::string Sha1Base64(std::string_view data);
std::string Sha256Base64(std::string_view data);

}  // namespace osprey::auth

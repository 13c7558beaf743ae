// Hex and base64 encoding (declared in crypto.h). Plain C++: these run on every request and on
// every S3 checksum, and OpenSSL's EVP_EncodeBlock/DecodeBlock are too lax for strict decoding.

#include <array>
#include <cstdint>

#include "auth/crypto.h"

namespace osprey::auth {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Maps a byte to its 6-bit base64 value, or -1 if it is not in the alphabet ('=' included).
constexpr std::array<int8_t, 256> MakeBase64Table() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (int value = 0; value < 64; ++value) {
    table[static_cast<unsigned char>(kBase64Alphabet[value])] = static_cast<int8_t>(value);
  }
  return table;
}
constexpr std::array<int8_t, 256> kBase64Table = MakeBase64Table();

}  // namespace

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out.push_back(kHexDigits[byte >> 4]);
    out.push_back(kHexDigits[byte & 0x0f]);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t pos = 0;
  for (; pos + 3 <= bytes.size(); pos += 3) {
    uint32_t group = (static_cast<unsigned char>(bytes[pos]) << 16) |
                     (static_cast<unsigned char>(bytes[pos + 1]) << 8) |
                     static_cast<unsigned char>(bytes[pos + 2]);
    out.push_back(kBase64Alphabet[(group >> 18) & 0x3f]);
    out.push_back(kBase64Alphabet[(group >> 12) & 0x3f]);
    out.push_back(kBase64Alphabet[(group >> 6) & 0x3f]);
    out.push_back(kBase64Alphabet[group & 0x3f]);
  }
  const size_t rest = bytes.size() - pos;
  if (rest > 0) {
    uint32_t group = static_cast<unsigned char>(bytes[pos]) << 16;
    if (rest == 2) group |= static_cast<unsigned char>(bytes[pos + 1]) << 8;
    out.push_back(kBase64Alphabet[(group >> 18) & 0x3f]);
    out.push_back(kBase64Alphabet[(group >> 12) & 0x3f]);
    out.push_back(rest == 2 ? kBase64Alphabet[(group >> 6) & 0x3f] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return Status::InvalidArgument("base64 length is not a multiple of 4");
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = (text[text.size() - 2] == '=') ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t pos = 0; pos < text.size(); pos += 4) {
    const bool last_group = pos + 4 == text.size();
    const size_t data_chars = last_group ? 4 - padding : 4;
    uint32_t group = 0;
    for (size_t offset = 0; offset < 4; ++offset) {
      int value = 0;
      if (offset < data_chars) {
        value = kBase64Table[static_cast<unsigned char>(text[pos + offset])];
        if (value < 0) return Status::InvalidArgument("invalid base64 character");
      }
      group = (group << 6) | static_cast<uint32_t>(value);
    }
    // Non-zero bits under the padding mean the text was not produced by a base64 encoder.
    if ((padding == 1 && last_group && (group & 0xff) != 0) ||
        (padding == 2 && last_group && (group & 0xffff) != 0)) {
      return Status::InvalidArgument("non-canonical base64 padding bits");
    }
    out.push_back(static_cast<char>((group >> 16) & 0xff));
    if (data_chars > 2) out.push_back(static_cast<char>((group >> 8) & 0xff));
    if (data_chars > 3) out.push_back(static_cast<char>(group & 0xff));
  }
  return out;
}

}  // namespace osprey::auth

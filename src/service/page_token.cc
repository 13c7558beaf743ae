#include "service/page_token.h"

#include <charconv>

namespace osprey::service {
namespace {
constexpr char kHex[] = "0123456789abcdef";

// A cheap integrity check so that hand-edited tokens are refused rather than misread.
uint32_t Checksum(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}
}  // namespace

std::string EncodePageToken(std::string_view kind, int64_t after_id) {
  std::string plain = std::string(kind) + ":" + std::to_string(after_id);
  plain += ":" + std::to_string(Checksum(plain));
  std::string out;
  for (unsigned char c : plain) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

std::optional<int64_t> DecodePageToken(std::string_view kind, std::string_view token) {
  if (token.size() % 2 != 0 || token.size() > 200) return std::nullopt;
  std::string plain;
  for (size_t i = 0; i < token.size(); i += 2) {
    int value = 0;
    auto [p, ec] = std::from_chars(token.data() + i, token.data() + i + 2, value, 16);
    if (ec != std::errc() || p != token.data() + i + 2) return std::nullopt;
    plain += static_cast<char>(value);
  }
  size_t last = plain.rfind(':');
  if (last == std::string::npos) return std::nullopt;
  std::string body = plain.substr(0, last);
  if (std::to_string(Checksum(body)) != plain.substr(last + 1)) return std::nullopt;
  std::string prefix = std::string(kind) + ":";
  if (body.rfind(prefix, 0) != 0) return std::nullopt;
  int64_t id = 0;
  std::string_view digits = std::string_view(body).substr(prefix.size());
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || p != digits.data() + digits.size() || id < 0) return std::nullopt;
  return id;
}

}  // namespace osprey::service

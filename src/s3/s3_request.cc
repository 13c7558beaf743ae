#include "s3/s3_request.h"

#include <cctype>
#include <charconv>

namespace osprey::s3 {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<int64_t> ParseNumber(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

std::string S3Target::Param(std::string_view name) const {
  auto it = query.find(std::string(name));
  return it == query.end() ? "" : it->second;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = HexDigit(text[i + 1]);
    int lo = HexDigit(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::optional<S3Target> ParseTarget(const http::HttpRequest& request) {
  S3Target target;
  std::string_view query = request.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq));
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    target.query.emplace(std::move(*name), std::move(*value));
  }
  std::string_view path = request.path;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  const std::string* host = request.Header("host");
  std::string_view host_name = host == nullptr ? "" : std::string_view(*host);
  host_name = host_name.substr(
      0, host_name.rfind(':') == std::string_view::npos ? host_name.size() : host_name.rfind(':'));
  constexpr std::string_view kVirtualSuffix = ".localhost";
  if (host_name.size() > kVirtualSuffix.size() &&
      host_name.substr(host_name.size() - kVirtualSuffix.size()) == kVirtualSuffix) {
    target.bucket = std::string(host_name.substr(0, host_name.size() - kVirtualSuffix.size()));
    auto key = PercentDecode(path);
    if (!key) return std::nullopt;
    target.key = std::move(*key);
    return target;
  }
  size_t slash = path.find('/');
  auto bucket = PercentDecode(path.substr(0, slash));
  auto key = PercentDecode(slash == std::string_view::npos ? "" : path.substr(slash + 1));
  if (!bucket || !key) return std::nullopt;
  target.bucket = std::move(*bucket);
  target.key = std::move(*key);
  return target;
}

std::string UrlEncodeKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

RangeKind ParseRange(std::string_view header, int64_t size, ByteRange* range) {
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return RangeKind::kNone;
  std::string_view spec = header.substr(kUnit.size());
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    return RangeKind::kNone;
  }
  std::string_view first = spec.substr(0, dash);
  std::string_view last = spec.substr(dash + 1);
  if (first.empty()) {  // suffix: the last n bytes
    auto n = ParseNumber(last);
    if (!n) return RangeKind::kNone;
    if (*n == 0 || size == 0) return RangeKind::kUnsatisfiable;
    range->length = std::min(*n, size);
    range->start = size - range->length;
    return RangeKind::kSatisfiable;
  }
  auto start = ParseNumber(first);
  if (!start) return RangeKind::kNone;
  std::optional<int64_t> end = last.empty() ? std::optional<int64_t>(*start) : ParseNumber(last);
  if (!end || *end < *start) return RangeKind::kNone;
  if (*start >= size) return RangeKind::kUnsatisfiable;
  if (last.empty()) end = size - 1;
  range->start = *start;
  range->length = std::min(*end, size - 1) - *start + 1;
  return RangeKind::kSatisfiable;
}

}  // namespace osprey::s3

#include "image/image_header.h"

#include <cstdint>
#include <string>

namespace osprey::image {
namespace {

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);

uint32_t ReadBigEndian32(std::string_view bytes, size_t offset) {
  uint32_t value = 0;
  for (size_t byte_idx = 0; byte_idx < 4; ++byte_idx) {
    value = (value << 8) | static_cast<uint8_t>(bytes[offset + byte_idx]);
  }
  return value;
}

uint16_t ReadBigEndian16(std::string_view bytes, size_t offset) {
  return static_cast<uint16_t>((static_cast<uint8_t>(bytes[offset]) << 8) |
                               static_cast<uint8_t>(bytes[offset + 1]));
}

Status Invalid(const std::string& why) {
  return Status(StatusCode::kInvalidImage, "invalid image: " + why);
}

Result<ImageInfo> ProbePng(std::string_view bytes) {
  // Signature (8) + chunk length (4) + "IHDR" (4) + width (4) + height (4).
  if (bytes.size() < 24) return Invalid("truncated PNG header");
  if (bytes.substr(12, 4) != "IHDR") return Invalid("PNG does not start with an IHDR chunk");
  uint32_t width = ReadBigEndian32(bytes, 16);
  uint32_t height = ReadBigEndian32(bytes, 20);
  // The PNG spec limits both to 2^31 - 1.
  if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu) {
    return Invalid("PNG declares an impossible size");
  }
  return ImageInfo{ImageInfo::Format::kPng, static_cast<int>(width), static_cast<int>(height)};
}

// SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
bool IsStartOfFrame(uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Markers that stand alone, without a length field.
bool IsStandaloneMarker(uint8_t marker) {
  return marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7);
}

Result<ImageInfo> ProbeJpeg(std::string_view bytes) {
  size_t pos = 2;  // after SOI
  while (true) {
    // Markers may be preceded by any number of 0xFF fill bytes (ITU T.81 B.1.1.2).
    if (pos >= bytes.size()) return Invalid("truncated JPEG: no frame header");
    if (static_cast<uint8_t>(bytes[pos]) != 0xFF) return Invalid("malformed JPEG marker");
    while (pos < bytes.size() && static_cast<uint8_t>(bytes[pos]) == 0xFF) ++pos;
    if (pos >= bytes.size()) return Invalid("truncated JPEG: no frame header");
    uint8_t marker = static_cast<uint8_t>(bytes[pos++]);
    if (IsStandaloneMarker(marker)) continue;
    if (marker == 0xD9 || marker == 0xDA) return Invalid("JPEG has no frame header before scan");
    if (pos + 2 > bytes.size()) return Invalid("truncated JPEG segment");
    uint16_t length = ReadBigEndian16(bytes, pos);
    if (length < 2) return Invalid("malformed JPEG segment length");
    if (IsStartOfFrame(marker)) {
      // length (2) + precision (1) + height (2) + width (2).
      if (length < 7 || pos + 7 > bytes.size()) return Invalid("truncated JPEG frame header");
      int height = ReadBigEndian16(bytes, pos + 3);
      int width = ReadBigEndian16(bytes, pos + 5);
      // A zero height means "defined by DNL later"; we do not support that rare form.
      if (width == 0 || height == 0) return Invalid("JPEG declares a zero size");
      return ImageInfo{ImageInfo::Format::kJpeg, width, height};
    }
    pos += length;
  }
}

}  // namespace

Result<ImageInfo> ProbeImageHeader(std::string_view bytes) {
  if (bytes.size() >= kPngSignature.size() && bytes.substr(0, kPngSignature.size()) == kPngSignature) {
    return ProbePng(bytes);
  }
  if (bytes.size() >= 3 && static_cast<uint8_t>(bytes[0]) == 0xFF &&
      static_cast<uint8_t>(bytes[1]) == 0xD8 && static_cast<uint8_t>(bytes[2]) == 0xFF) {
    return ProbeJpeg(bytes);
  }
  return Invalid("not a PNG or JPEG file");
}

}  // namespace osprey::image

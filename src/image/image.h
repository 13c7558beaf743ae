// Decoded images and the operations the engine needs on them: decode (with JPEG DCT scaling),
// resize and horizontal flip. This header is plain C++; OpenCV appears only in image/*.cc.
// All functions are stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "image/image_header.h"

namespace osprey::image {

// An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC, R first).
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3 bytes

  bool empty() const { return rgb.empty(); }
};

// Limits a decoded image must satisfy. Defaults follow Rekognition's limits for S3 images
// (rekognition-api.md §12: 64..4096 px per side, at most 15 MB).
struct DecodeLimits {
  int min_side = 64;
  int max_side = 4096;
  size_t max_bytes = 15u * 1024 * 1024;
};

// Decodes PNG or JPEG bytes into RGB and resizes the result to exactly
// `target_width` x `target_height` (aspect ratio is not kept: the whole image is used).
// For JPEG the decoder's DCT scaling (1/2, 1/4, 1/8) is used when the reduced image is
// still at least as large as the target, which makes decoding 2-3x faster.
// Returns kInvalidImage for bytes that are not a decodable PNG/JPEG or whose sides are under
// `limits.min_side`, and kImageTooLarge when the file or a side exceeds the limits. The header
// is checked before any pixel is decoded, so a decompression bomb costs nothing.
Result<Image> DecodeAndResize(std::string_view bytes, int target_width, int target_height,
                              const DecodeLimits& limits = DecodeLimits());

// Decodes at full resolution (same checks as above).
Result<Image> Decode(std::string_view bytes, const DecodeLimits& limits = DecodeLimits());

// Resizes with area averaging when shrinking and bilinear interpolation when enlarging.
// REQUIRES: !src.empty(), width > 0, height > 0.
Image Resize(const Image& src, int width, int height);

// Mirrors left to right. REQUIRES: !src.empty().
Image FlipHorizontal(const Image& src);

// Encodes as PNG (used by tests and tools to make fixtures). Returns kInternal on failure.
Result<std::vector<uint8_t>> EncodePng(const Image& src);
// Encodes as JPEG with the given quality (1..100).
Result<std::vector<uint8_t>> EncodeJpeg(const Image& src, int quality);

}  // namespace osprey::image

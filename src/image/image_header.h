// Reads the size and format of a PNG or JPEG image from its first bytes, without decoding it.
// Standard library only (no OpenCV), so the dataset validator and the API layer can call it
// cheaply on every manifest line or request body. Stateless and thread-safe.
#pragma once

#include <string_view>

#include "common/result.h"

namespace osprey::image {

struct ImageInfo {
  enum class Format { kJpeg, kPng };
  Format format = Format::kJpeg;
  int width = 0;
  int height = 0;
};

// Parses the PNG IHDR chunk or the first JPEG SOFn marker segment.
// Returns kInvalidImage if `bytes` is neither PNG nor JPEG, if the header is truncated or
// malformed, or if it declares a zero width or height. Never reads past `bytes`.
Result<ImageInfo> ProbeImageHeader(std::string_view bytes);

}  // namespace osprey::image

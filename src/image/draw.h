// Drawing detected objects onto an image, for `osprey detect --draw`. This header is plain C++;
// OpenCV appears only in draw.cc. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace osprey::image {

// One box to draw. Coordinates are ratios of the image's width and height, as in Rekognition's
// BoundingBox (Left/Top/Width/Height); parts outside the image are clipped.
struct DrawnBox {
  float left = 0;
  float top = 0;
  float width = 0;
  float height = 0;
  std::string caption;   // written on a filled tab above the box (inside it at the top edge)
  int colour_index = 0;  // picks the colour from a fixed palette of 10; use the label's index
};

// Decodes `image_bytes` (PNG or JPEG, at full resolution, DecodeLimits() except that any side
// >= 1 px is accepted), draws every box as a rectangle with its caption, in order (later boxes
// on top), and returns the result as PNG bytes of the same width and height. Line width and text
// size grow with the image. Returns kInvalidImage / kImageTooLarge as Decode() does, and
// kInternal if encoding fails.
Result<std::vector<uint8_t>> DrawBoxes(std::string_view image_bytes,
                                       const std::vector<DrawnBox>& boxes);

}  // namespace osprey::image

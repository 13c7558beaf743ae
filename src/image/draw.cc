// OpenCV stays inside image/*.cc: callers see only image/draw.h.
#include "image/draw.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>

#include "image/image.h"

namespace osprey::image {
namespace {

// Ten colours that stay distinct from each other and from most photographs (RGB; the image is
// drawn in RGB order, the encoder converts to OpenCV's BGR).
constexpr std::array<std::array<uint8_t, 3>, 10> kPalette = {{{230, 25, 75},
                                                              {60, 180, 75},
                                                              {255, 225, 25},
                                                              {0, 130, 200},
                                                              {245, 130, 48},
                                                              {145, 30, 180},
                                                              {70, 240, 240},
                                                              {240, 50, 230},
                                                              {210, 245, 60},
                                                              {250, 190, 190}}};

cv::Scalar PaletteColour(int index) {
  const auto& rgb =
      kPalette[static_cast<size_t>(std::abs(index % static_cast<int>(kPalette.size())))];
  return cv::Scalar(rgb[0], rgb[1], rgb[2]);
}

// Hershey fonts draw ASCII only: each UTF-8 sequence of a non-ASCII code point becomes one '?'.
std::string AsciiCaption(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x80) {
      out += c >= 0x20 ? static_cast<char>(c) : '?';
    } else if ((c & 0xC0) != 0x80) {  // a lead byte; continuation bytes are dropped
      out += '?';
    }
  }
  return out;
}

// Ratio -> pixel, clipped to [0, limit - 1]; NaN goes to 0.
int ToPixel(float ratio, int size) {
  double pixel = std::isfinite(ratio) ? std::round(static_cast<double>(ratio) * size) : 0.0;
  return static_cast<int>(std::clamp(pixel, 0.0, static_cast<double>(size - 1)));
}

void DrawOne(cv::Mat& canvas, const DrawnBox& box, int thickness, double font_scale) {
  int width = canvas.cols, height = canvas.rows;
  cv::Point top_left(ToPixel(box.left, width), ToPixel(box.top, height));
  cv::Point bottom_right(ToPixel(box.left + box.width, width),
                         ToPixel(box.top + box.height, height));
  cv::Scalar colour = PaletteColour(box.colour_index);
  cv::rectangle(canvas, top_left, bottom_right, colour, thickness, cv::LINE_8);
  std::string caption = AsciiCaption(box.caption);
  if (caption.empty()) return;
  int baseline = 0;
  int font_thickness = std::max(1, thickness / 2);
  cv::Size text =
      cv::getTextSize(caption, cv::FONT_HERSHEY_SIMPLEX, font_scale, font_thickness, &baseline);
  int tab_height = text.height + baseline + 2 * thickness;
  // Above the box when there is room, otherwise just inside its top edge.
  int tab_top = top_left.y - tab_height >= 0 ? top_left.y - tab_height : top_left.y;
  int tab_left = std::min(top_left.x, std::max(0, width - text.width - 2 * thickness));
  cv::rectangle(canvas, cv::Rect(tab_left, tab_top, text.width + 2 * thickness, tab_height), colour,
                cv::FILLED);
  // Black text on light tabs, white on dark ones (Rec. 601 luma).
  double luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2];
  cv::Scalar ink = luma > 110 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
  cv::putText(canvas, caption, cv::Point(tab_left + thickness, tab_top + thickness + text.height),
              cv::FONT_HERSHEY_SIMPLEX, font_scale, ink, font_thickness, cv::LINE_AA);
}

}  // namespace

Result<std::vector<uint8_t>> DrawBoxes(std::string_view image_bytes,
                                       const std::vector<DrawnBox>& boxes) {
  DecodeLimits limits;
  limits.min_side = 1;  // drawing has no reason to refuse small images
  OSPREY_ASSIGN_OR_RETURN(Image img, Decode(image_bytes, limits));
  try {
    cv::Mat canvas(img.height, img.width, CV_8UC3, img.rgb.data());
    int short_side = std::min(img.width, img.height);
    int thickness = std::max(2, short_side / 240);
    double font_scale = std::max(0.4, short_side / 800.0);
    for (const DrawnBox& box : boxes) DrawOne(canvas, box, thickness, font_scale);
  } catch (const cv::Exception& e) {
    return Status::Internal(std::string("cannot draw boxes: ") + e.what());
  }
  return EncodePng(img);
}

}  // namespace osprey::image

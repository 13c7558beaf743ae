#include "image/draw.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "image/image.h"

namespace osprey::image {
namespace {

constexpr uint8_t kGrey = 128;

std::string AsString(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

std::string GreyPng(int width, int height) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgb.assign(static_cast<size_t>(width) * height * 3, kGrey);
  auto png = EncodePng(img);
  EXPECT_TRUE(png.ok());
  return AsString(*png);
}

bool IsGrey(const Image& img, int x, int y) {
  const uint8_t* p = &img.rgb[(static_cast<size_t>(y) * img.width + x) * 3];
  return p[0] == kGrey && p[1] == kGrey && p[2] == kGrey;
}

bool IsPng(const std::vector<uint8_t>& bytes) {
  return bytes.size() > 8 && AsString({bytes.begin(), bytes.begin() + 8}) == "\x89PNG\r\n\x1a\n";
}

TEST(DrawBoxesTest, DrawsTheBoxEdgesAndLeavesTheRestAlone) {
  // 200x100; the box spans x 50..150, y 40..90 (ratios of width and height).
  auto png = DrawBoxes(GreyPng(200, 100), {{0.25f, 0.4f, 0.5f, 0.5f, "bird", 0}});
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  ASSERT_TRUE(IsPng(*png));
  auto out = Decode(AsString(*png));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->width, 200);
  EXPECT_EQ(out->height, 100);
  EXPECT_FALSE(IsGrey(*out, 50, 65)) << "left edge";
  EXPECT_FALSE(IsGrey(*out, 150, 65)) << "right edge";
  EXPECT_FALSE(IsGrey(*out, 100, 90)) << "bottom edge";
  EXPECT_TRUE(IsGrey(*out, 100, 65)) << "inside the box";
  EXPECT_TRUE(IsGrey(*out, 10, 95)) << "far outside the box";
  EXPECT_TRUE(IsGrey(*out, 190, 5));
  // The caption's tab sits just above the top-left corner.
  EXPECT_FALSE(IsGrey(*out, 52, 38)) << "caption tab";
}

TEST(DrawBoxesTest, DifferentLabelsGetDifferentColours) {
  auto png = DrawBoxes(GreyPng(100, 100),
                       {{0.1f, 0.1f, 0.3f, 0.3f, "", 0}, {0.6f, 0.6f, 0.3f, 0.3f, "", 1}});
  ASSERT_TRUE(png.ok());
  auto out = Decode(AsString(*png));
  ASSERT_TRUE(out.ok());
  auto pixel = [&](int x, int y) {
    const uint8_t* p = &out->rgb[(static_cast<size_t>(y) * out->width + x) * 3];
    return std::vector<uint8_t>(p, p + 3);
  };
  EXPECT_NE(pixel(10, 25), pixel(60, 75));
}

TEST(DrawBoxesTest, WithoutBoxesTheImageIsUnchanged) {
  Image src;
  src.width = 80;
  src.height = 64;
  for (int idx = 0; idx < 80 * 64 * 3; ++idx) src.rgb.push_back(static_cast<uint8_t>(idx % 251));
  auto jpeg = EncodeJpeg(src, /*quality=*/95);
  ASSERT_TRUE(jpeg.ok());
  auto decoded = Decode(AsString(*jpeg));
  ASSERT_TRUE(decoded.ok());
  auto png = DrawBoxes(AsString(*jpeg), {});
  ASSERT_TRUE(png.ok());
  EXPECT_TRUE(IsPng(*png)) << "JPEG in, PNG out";
  auto out = Decode(AsString(*png));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->rgb, decoded->rgb);
}

TEST(DrawBoxesTest, BoxesOutsideTheImageAndOddCaptionsAreClipped) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  auto png = DrawBoxes(GreyPng(32, 20),
                       {{-0.5f, -0.5f, 2.0f, 2.0f, "a very long caption that does not fit", 3},
                        {0.9f, 0.95f, 0.5f, 0.5f, "caf\xc3\xa9 \xf0\x9f\x90\xa6", 4},
                        {nan, nan, nan, nan, "nan", 5}});
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  auto out = Decode(AsString(*png), DecodeLimits{/*min_side=*/1});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->width, 32);
  EXPECT_EQ(out->height, 20);
}

TEST(DrawBoxesTest, RejectsBytesThatAreNotAnImage) {
  EXPECT_EQ(DrawBoxes("not an image", {}).status().code(), StatusCode::kInvalidImage);
  EXPECT_EQ(DrawBoxes("", {}).status().code(), StatusCode::kInvalidImage);
}

}  // namespace
}  // namespace osprey::image

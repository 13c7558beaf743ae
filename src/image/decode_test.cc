#include <gtest/gtest.h>

#include <string>

#include "image/image.h"

namespace osprey::image {
namespace {

Image Gradient(int width, int height) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* px = &img.rgb[(static_cast<size_t>(y) * width + x) * 3];
      px[0] = static_cast<uint8_t>(x * 255 / width);
      px[1] = static_cast<uint8_t>(y * 255 / height);
      px[2] = 200;
    }
  }
  return img;
}

std::string AsString(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

TEST(DecodeTest, PngRoundTripsExactly) {
  Image src = Gradient(80, 70);
  auto png = EncodePng(src);
  ASSERT_TRUE(png.ok());
  auto decoded = Decode(AsString(*png));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->rgb, src.rgb);
}

TEST(DecodeTest, JpegIsDecodedWithDctScalingToTheTargetSize) {
  Image src = Gradient(1000, 800);
  auto jpeg = EncodeJpeg(src, /*quality=*/90);
  ASSERT_TRUE(jpeg.ok());
  auto small = DecodeAndResize(AsString(*jpeg), 224, 224);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->width, 224);
  EXPECT_EQ(small->height, 224);
  // Red rises left to right; blue stays constant (allowing for JPEG error).
  const uint8_t* left = &small->rgb[(112 * 224 + 10) * 3];
  const uint8_t* right = &small->rgb[(112 * 224 + 210) * 3];
  EXPECT_LT(left[0] + 100, right[0]);
  EXPECT_NEAR(left[2], 200, 8);
}

TEST(DecodeTest, CorruptBytesAreInvalidImage) {
  auto jpeg = EncodeJpeg(Gradient(100, 100), /*quality=*/90);
  ASSERT_TRUE(jpeg.ok());
  std::string bytes = AsString(*jpeg);
  bytes.resize(bytes.size() / 3);
  for (size_t pos = 200; pos < bytes.size(); ++pos) bytes[pos] = '\x17';
  auto decoded = DecodeAndResize(bytes, 64, 64);
  // libjpeg may fill a damaged scan with grey rather than fail; either outcome is fine
  // as long as it is not a crash and a failure is reported as kInvalidImage.
  if (!decoded.ok()) {
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidImage);
  }
  auto garbage = DecodeAndResize("not an image at all", 64, 64);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidImage);
}

TEST(DecodeTest, OversizedHeaderIsRejectedBeforeDecoding) {
  // A PNG header declaring 100000 x 100000 pixels, with no pixel data at all.
  std::string bytes("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\x02\0\0\0", 29);
  auto decoded = DecodeAndResize(bytes, 64, 64);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kImageTooLarge);
}

TEST(DecodeTest, TooSmallImageIsInvalid) {
  auto png = EncodePng(Gradient(32, 100));
  ASSERT_TRUE(png.ok());
  auto decoded = DecodeAndResize(AsString(*png), 64, 64);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidImage);
}

TEST(DecodeTest, FlipMirrorsColumns) {
  Image src = Gradient(70, 64);
  Image flipped = FlipHorizontal(src);
  EXPECT_EQ(flipped.rgb[0], src.rgb[69 * 3]);
  EXPECT_EQ(FlipHorizontal(flipped).rgb, src.rgb);
}

TEST(DecodeTest, ResizeChangesSize) {
  Image out = Resize(Gradient(300, 200), 96, 96);
  EXPECT_EQ(out.width, 96);
  EXPECT_EQ(out.rgb.size(), 96u * 96 * 3);
}

}  // namespace
}  // namespace osprey::image

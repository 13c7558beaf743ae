#include "image/image_header.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace osprey::image {
namespace {

std::string PngHeader(uint32_t width, uint32_t height) {
  std::string bytes("\x89PNG\r\n\x1a\n", 8);
  bytes += std::string("\0\0\0\x0d", 4) + "IHDR";
  for (uint32_t value : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((value >> shift) & 0xff);
  }
  bytes += std::string("\x08\x02\0\0\0", 5);
  return bytes;
}

std::string JpegWithSof(uint8_t sof_marker, int width, int height) {
  std::string bytes("\xff\xd8", 2);
  // An APP0 segment to skip, then fill bytes before the frame header.
  bytes += std::string("\xff\xe0\x00\x06JFIF", 8);
  bytes += std::string("\xff\xff", 2);
  bytes += static_cast<char>(sof_marker);
  bytes += std::string("\x00\x11\x08", 3);
  bytes += static_cast<char>(height >> 8);
  bytes += static_cast<char>(height & 0xff);
  bytes += static_cast<char>(width >> 8);
  bytes += static_cast<char>(width & 0xff);
  bytes += std::string("\x03\x01\x22\x00", 4);
  return bytes;
}

TEST(ImageHeaderTest, ReadsPngSize) {
  auto info = ProbeImageHeader(PngHeader(640, 480));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->format, ImageInfo::Format::kPng);
  EXPECT_EQ(info->width, 640);
  EXPECT_EQ(info->height, 480);
}

TEST(ImageHeaderTest, ReadsBaselineAndProgressiveJpegSize) {
  for (uint8_t marker : {0xC0, 0xC2}) {
    auto info = ProbeImageHeader(JpegWithSof(marker, 1024, 768));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->format, ImageInfo::Format::kJpeg);
    EXPECT_EQ(info->width, 1024);
    EXPECT_EQ(info->height, 768);
  }
}

TEST(ImageHeaderTest, SkipsHuffmanTableSegmentThatLooksLikeSof) {
  std::string bytes("\xff\xd8", 2);
  bytes += std::string("\xff\xc4\x00\x04\x00\x00", 6);  // DHT, not a frame header
  bytes += JpegWithSof(0xC0, 100, 200).substr(2);
  auto info = ProbeImageHeader(bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 100);
  EXPECT_EQ(info->height, 200);
}

TEST(ImageHeaderTest, RejectsOtherFormats) {
  for (const std::string& bytes : {std::string(), std::string("GIF89a........."),
                                   std::string("BM\0\0\0\0", 6), std::string(64, '\0')}) {
    auto info = ProbeImageHeader(bytes);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().code(), StatusCode::kInvalidImage);
  }
}

TEST(ImageHeaderTest, RejectsEveryTruncationWithoutReadingPastTheEnd) {
  // Each header is complete exactly when its height and width have been read.
  const std::pair<std::string, size_t> cases[] = {{PngHeader(10, 10), 24},
                                                  {JpegWithSof(0xC0, 10, 10), 20}};
  for (const auto& [full, complete_length] : cases) {
    EXPECT_TRUE(ProbeImageHeader(std::string_view(full).substr(0, complete_length)).ok());
    for (size_t length = 0; length < complete_length; ++length) {
      auto info = ProbeImageHeader(std::string_view(full).substr(0, length));
      ASSERT_FALSE(info.ok()) << "length " << length;
      EXPECT_EQ(info.status().code(), StatusCode::kInvalidImage);
    }
  }
}

TEST(ImageHeaderTest, RejectsZeroSizes) {
  EXPECT_FALSE(ProbeImageHeader(PngHeader(0, 10)).ok());
  EXPECT_FALSE(ProbeImageHeader(JpegWithSof(0xC0, 10, 0)).ok());
}

TEST(ImageHeaderTest, RejectsScanBeforeFrame) {
  std::string bytes("\xff\xd8\xff\xda\x00\x02", 6);
  EXPECT_FALSE(ProbeImageHeader(bytes).ok());
}

}  // namespace
}  // namespace osprey::image

// OpenCV stays inside this file: callers see only image/image.h.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string>

#include "image/image.h"

namespace osprey::image {
namespace {

cv::Mat WrapRgb(const Image& src) {
  // OpenCV never writes through this header; the const_cast only satisfies its API.
  return cv::Mat(src.height, src.width, CV_8UC3, const_cast<uint8_t*>(src.rgb.data()));
}

Image FromBgrMat(const cv::Mat& bgr) {
  Image out;
  out.width = bgr.cols;
  out.height = bgr.rows;
  out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
  cv::Mat dst(out.height, out.width, CV_8UC3, out.rgb.data());
  cv::cvtColor(bgr, dst, cv::COLOR_BGR2RGB);
  return out;
}

Status CheckLimits(std::string_view bytes, const ImageInfo& info, const DecodeLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return Status(StatusCode::kImageTooLarge, "image file is " + std::to_string(bytes.size()) +
                                                  " bytes, more than " +
                                                  std::to_string(limits.max_bytes));
  }
  if (info.width > limits.max_side || info.height > limits.max_side) {
    return Status(StatusCode::kImageTooLarge,
                  "image is " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                      ", larger than " + std::to_string(limits.max_side) + " px on a side");
  }
  if (info.width < limits.min_side || info.height < limits.min_side) {
    return Status(StatusCode::kInvalidImage,
                  "image is " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                      ", smaller than " + std::to_string(limits.min_side) + " px on a side");
  }
  return Status::Ok();
}

// The largest DCT reduction (1, 2, 4 or 8) that keeps both sides at least the target's.
int ChooseReduction(const ImageInfo& info, int target_width, int target_height) {
  if (info.format != ImageInfo::Format::kJpeg) return 1;
  int reduction = 1;
  while (reduction < 8 && info.width / (reduction * 2) >= target_width &&
         info.height / (reduction * 2) >= target_height) {
    reduction *= 2;
  }
  return reduction;
}

int ImreadFlags(int reduction) {
  switch (reduction) {
    case 2: return cv::IMREAD_REDUCED_COLOR_2;
    case 4: return cv::IMREAD_REDUCED_COLOR_4;
    case 8: return cv::IMREAD_REDUCED_COLOR_8;
    default: return cv::IMREAD_COLOR;
  }
}

Result<cv::Mat> DecodeBgr(std::string_view bytes, int flags) {
  try {
    cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                   const_cast<char*>(bytes.data()));
    // IMREAD_IGNORE_ORIENTATION: Rekognition does not rotate by EXIF for inference input.
    cv::Mat bgr = cv::imdecode(buffer, flags | cv::IMREAD_IGNORE_ORIENTATION);
    if (bgr.empty() || bgr.type() != CV_8UC3) {
      return Status(StatusCode::kInvalidImage, "invalid image: the pixel data cannot be decoded");
    }
    return bgr;
  } catch (const cv::Exception& e) {
    return Status(StatusCode::kInvalidImage, std::string("invalid image: ") + e.what());
  }
}

}  // namespace

Result<Image> DecodeAndResize(std::string_view bytes, int target_width, int target_height,
                              const DecodeLimits& limits) {
  OSPREY_ASSIGN_OR_RETURN(ImageInfo info, ProbeImageHeader(bytes));
  OSPREY_RETURN_IF_ERROR(CheckLimits(bytes, info, limits));
  int reduction = ChooseReduction(info, target_width, target_height);
  OSPREY_ASSIGN_OR_RETURN(cv::Mat bgr, DecodeBgr(bytes, ImreadFlags(reduction)));
  try {
    if (bgr.cols != target_width || bgr.rows != target_height) {
      bool shrinking = bgr.cols >= target_width && bgr.rows >= target_height;
      cv::Mat resized;
      cv::resize(bgr, resized, cv::Size(target_width, target_height), 0, 0,
                 shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
      bgr = resized;
    }
    return FromBgrMat(bgr);
  } catch (const cv::Exception& e) {
    return Status(StatusCode::kInvalidImage, std::string("invalid image: ") + e.what());
  }
}

Result<Image> Decode(std::string_view bytes, const DecodeLimits& limits) {
  OSPREY_ASSIGN_OR_RETURN(ImageInfo info, ProbeImageHeader(bytes));
  OSPREY_RETURN_IF_ERROR(CheckLimits(bytes, info, limits));
  OSPREY_ASSIGN_OR_RETURN(cv::Mat bgr, DecodeBgr(bytes, cv::IMREAD_COLOR));
  return FromBgrMat(bgr);
}

Image Resize(const Image& src, int width, int height) {
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.resize(static_cast<size_t>(width) * height * 3);
  cv::Mat dst(height, width, CV_8UC3, out.rgb.data());
  bool shrinking = src.width >= width && src.height >= height;
  cv::resize(WrapRgb(src), dst, dst.size(), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

Image FlipHorizontal(const Image& src) {
  Image out = src;
  cv::Mat dst(out.height, out.width, CV_8UC3, out.rgb.data());
  cv::flip(WrapRgb(src), dst, /*flipCode=*/1);
  return out;
}

namespace {
Result<std::vector<uint8_t>> Encode(const Image& src, const std::string& ext,
                                    const std::vector<int>& params) {
  try {
    cv::Mat bgr;
    cv::cvtColor(WrapRgb(src), bgr, cv::COLOR_RGB2BGR);
    std::vector<uint8_t> out;
    if (!cv::imencode(ext, bgr, out, params)) return Status::Internal("cannot encode " + ext);
    return out;
  } catch (const cv::Exception& e) {
    return Status::Internal(std::string("cannot encode: ") + e.what());
  }
}
}  // namespace

Result<std::vector<uint8_t>> EncodePng(const Image& src) { return Encode(src, ".png", {}); }

Result<std::vector<uint8_t>> EncodeJpeg(const Image& src, int quality) {
  return Encode(src, ".jpg", {cv::IMWRITE_JPEG_QUALITY, quality});
}

}  // namespace osprey::image

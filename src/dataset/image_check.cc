#include "dataset/image_check.h"

#include <algorithm>

#include "dataset/manifest_errors.h"
#include "image/image_header.h"

namespace osprey::dataset {
namespace {

// Enough for the PNG IHDR and for the SOF marker of nearly every JPEG (EXIF APP1 is at most
// 64 KiB); a JPEG with larger leading segments gets a second, full read below the byte limit.
constexpr int64_t kHeaderProbeBytes = 64 * 1024 + 1024;

Result<std::string> ReadPrefix(const storage::ObjectStore& store, const std::string& bucket,
                               const std::string& key, int64_t length) {
  std::string bytes;
  if (length == 0) return bytes;
  Status s = store.ReadObject(bucket, key, 0, length, [&bytes](std::string_view chunk) {
    bytes.append(chunk);
    return true;
  });
  if (!s.ok()) return s;
  return bytes;
}

}  // namespace

ImageCheck CheckImage(const storage::ObjectStore& store, const std::string& bucket,
                      const std::string& key, bool has_boxes, const ManifestLimits& limits) {
  ImageCheck check;
  Result<storage::ObjectInfo> info = store.HeadObject(bucket, key);
  if (!info.ok() || info->size <= 0 || info->size > limits.max_image_bytes) {
    check.error = kErrInvalidImage;
    return check;
  }
  Result<std::string> prefix =
      ReadPrefix(store, bucket, key, std::min<int64_t>(info->size, kHeaderProbeBytes));
  if (!prefix.ok()) {
    check.error = kErrInvalidImage;
    return check;
  }
  Result<image::ImageInfo> header = image::ProbeImageHeader(*prefix);
  if (!header.ok() && info->size > kHeaderProbeBytes) {
    prefix = ReadPrefix(store, bucket, key, info->size);
    if (prefix.ok()) header = image::ProbeImageHeader(*prefix);
  }
  if (!header.ok()) {
    check.error = kErrInvalidImage;
    return check;
  }
  check.width = header->width;
  check.height = header->height;
  int shorter = std::min(header->width, header->height);
  int longer = std::max(header->width, header->height);
  if (shorter < limits.min_image_dimension || longer > limits.max_image_dimension) {
    check.error = has_boxes ? kErrInvalidImageDimension : kErrInvalidImage;
  } else if (static_cast<double>(longer) > limits.max_aspect_ratio * shorter) {
    check.error = kErrInvalidImage;
  }
  return check;
}

}  // namespace osprey::dataset

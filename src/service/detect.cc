// DetectCustomLabels (rekognition-api.md §3.17, §12).
#include <algorithm>

#include "image/image_header.h"
#include "service/model_service.h"

namespace osprey::service {
namespace {

constexpr size_t kMaxBytesImage = 4u << 20;    // Image.Bytes: 4 MB (§12)
constexpr int64_t kMaxS3Image = 15u << 20;     // Image.S3Object: 15 MB
constexpr int kMinSide = 64;
constexpr int kMaxSide = 4096;

Status CheckImage(std::string_view bytes) {
  Result<image::ImageInfo> info = image::ProbeImageHeader(bytes);
  if (!info.ok()) {
    return Status(StatusCode::kInvalidImage,
                  "The image is not a valid PNG or JPEG: " + info.status().message());
  }
  if (info->width > kMaxSide || info->height > kMaxSide) {
    return Status(StatusCode::kImageTooLarge,
                  "The image is larger than 4096 pixels on a side (" +
                      std::to_string(info->width) + "x" + std::to_string(info->height) + ").");
  }
  if (info->width < kMinSide || info->height < kMinSide) {
    return Status::InvalidArgument("The image must be at least 64 pixels on each side (it is " +
                                   std::to_string(info->width) + "x" +
                                   std::to_string(info->height) + ").");
  }
  return Status::Ok();
}

}  // namespace

Result<DetectCustomLabelsResponse> ModelService::DetectCustomLabels(
    const DetectCustomLabelsRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::VersionRecord version,
                          versions_.GetVersionByArn(request.version_arn));
  if (version.status != "RUNNING") {
    return Status::NotReady("The model is " + version.status +
                            "; start it with StartProjectVersion and wait until it is RUNNING.");
  }
  std::string fetched;
  std::string_view bytes = request.image_bytes;
  if (request.image_s3) {
    Result<storage::ObjectInfo> head =
        objects_.HeadObject(request.image_s3->bucket, request.image_s3->key);
    if (!head.ok()) {
      return Status(StatusCode::kInvalidS3Object,
                    "Unable to get object metadata from S3. Check object key, region and/or "
                    "access permissions.");
    }
    if (head->size > kMaxS3Image) {
      return Status(StatusCode::kImageTooLarge, "The S3 image is larger than 15 MB.");
    }
    Result<std::string> got = objects_.GetObject(request.image_s3->bucket, request.image_s3->key);
    if (!got.ok()) return Status(StatusCode::kInvalidS3Object, got.status().message());
    fetched = std::move(got).value();
    bytes = fetched;
  } else if (bytes.size() > kMaxBytesImage) {
    return Status(StatusCode::kImageTooLarge, "The image is larger than 4 MB.");
  }
  OSPREY_RETURN_IF_ERROR(CheckImage(bytes));
  OSPREY_ASSIGN_OR_RETURN(ModelHost::Scored scored, host_.Score(version.arn, bytes, request.min_confidence));

  DetectCustomLabelsResponse response;
  for (auto& label : scored.labels) {
    // Without MinConfidence each label is held to its own assumed threshold (§12).
    double threshold = request.min_confidence ? *request.min_confidence
                                              : scored.thresholds[label.name];
    if (label.confidence >= threshold) response.labels.push_back(std::move(label));
  }
  std::stable_sort(response.labels.begin(), response.labels.end(),
                   [](const CustomLabel& a, const CustomLabel& b) {
                     return a.confidence > b.confidence;
                   });
  if (request.max_results && response.labels.size() > static_cast<size_t>(*request.max_results)) {
    response.labels.resize(static_cast<size_t>(*request.max_results));
  }
  return response;
}

}  // namespace osprey::service

#include "api/aws_json/operations/model_operations.h"
#include "api/aws_json/operations/operations.h"
#include "api/aws_json/version_json.h"
#include "api/shapes.h"
#include "auth/crypto.h"

namespace osprey::api {

// rekognition-api.md §3.17, §12. Image.Bytes arrives base64-encoded.
Result<nlohmann::json> DetectCustomLabels(const nlohmann::json& body,
                                          const service::RequestContext& /*ctx*/,
                                          service::RekognitionService& service) {
  RequestFields fields(body);
  service::DetectCustomLabelsRequest request;
  request.version_arn =
      fields.String("ProjectVersionArn", true, shapes::ProjectVersionArn()).value_or("");
  if (const nlohmann::json* image = fields.Object("Image", true)) {
    RequestFields image_fields(*image, "image");
    static const StringRule kBlob{};
    std::optional<std::string> bytes = image_fields.String("Bytes", false, kBlob);
    const nlohmann::json* s3 = image_fields.Object("S3Object", false);
    if (bytes.has_value() == (s3 != nullptr)) {
      image_fields.Fail("Image takes exactly one of Bytes or S3Object.");
    } else if (bytes) {
      Result<std::string> decoded = auth::Base64Decode(*bytes);
      if (!decoded.ok() || decoded->empty()) {
        image_fields.Fail("Image.Bytes is not valid base64-encoded image data.");
      } else {
        request.image_bytes = std::move(decoded).value();
      }
    } else {
      request.image_s3 = ReadS3Object(*s3, "image.s3Object", image_fields);
    }
    fields.Merge(image_fields);
  }
  request.max_results = fields.Integer("MaxResults", false, 0, INT64_MAX);
  request.min_confidence = fields.Float("MinConfidence", false, 0, 100);
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ModelService * models, Models(service));
  OSPREY_ASSIGN_OR_RETURN(service::DetectCustomLabelsResponse response,
                          models->DetectCustomLabels(request));
  nlohmann::json labels = nlohmann::json::array();
  for (const auto& label : response.labels) {
    nlohmann::json item = {{"Name", label.name}, {"Confidence", label.confidence}};
    if (label.box) {
      item["Geometry"] = {{"BoundingBox", {{"Width", label.box->width},
                                           {"Height", label.box->height},
                                           {"Left", label.box->left},
                                           {"Top", label.box->top}}}};
    }
    labels.push_back(std::move(item));
  }
  return nlohmann::json{{"CustomLabels", labels}};
}

}  // namespace osprey::api

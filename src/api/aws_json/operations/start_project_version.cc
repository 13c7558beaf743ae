#include "api/aws_json/operations/model_operations.h"
#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.13. Inference units are recorded; one process serves any number.
Result<nlohmann::json> StartProjectVersion(const nlohmann::json& body,
                                           const service::RequestContext& /*ctx*/,
                                           service::RekognitionService& service) {
  RequestFields fields(body);
  service::StartProjectVersionRequest request;
  request.version_arn =
      fields.String("ProjectVersionArn", true, shapes::ProjectVersionArn()).value_or("");
  request.min_inference_units = fields.Integer("MinInferenceUnits", true, 1, INT32_MAX).value_or(1);
  request.max_inference_units = fields.Integer("MaxInferenceUnits", false, 1, INT32_MAX);
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ModelService * models, Models(service));
  OSPREY_ASSIGN_OR_RETURN(std::string status, models->StartProjectVersion(request));
  return nlohmann::json{{"Status", status}};
}

}  // namespace osprey::api

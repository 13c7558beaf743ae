#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.6. The response is an empty structure.
Result<nlohmann::json> DeleteDataset(const nlohmann::json& body, const service::RequestContext& ctx,
                                     service::RekognitionService& service) {
  RequestFields fields(body);
  service::DeleteDatasetRequest request;
  request.dataset_arn = fields.String("DatasetArn", true, shapes::DatasetArn()).value_or("");
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_RETURN_IF_ERROR(service.DeleteDataset(ctx, request));
  return nlohmann::json::object();
}

}  // namespace osprey::api

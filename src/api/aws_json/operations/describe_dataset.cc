#include "api/aws_json/operations/operations.h"
#include "api/aws_json/serializers.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.5.
Result<nlohmann::json> DescribeDataset(const nlohmann::json& body,
                                       const service::RequestContext& ctx,
                                       service::RekognitionService& service) {
  RequestFields fields(body);
  service::DescribeDatasetRequest request;
  request.dataset_arn = fields.String("DatasetArn", true, shapes::DatasetArn()).value_or("");
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::DescribeDatasetResponse response,
                          service.DescribeDataset(ctx, request));
  return nlohmann::json{{"DatasetDescription", ToJson(response.description)}};
}

}  // namespace osprey::api

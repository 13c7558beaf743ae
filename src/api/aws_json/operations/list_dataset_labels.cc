#include "api/aws_json/operations/operations.h"
#include "api/aws_json/serializers.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.8.
Result<nlohmann::json> ListDatasetLabels(const nlohmann::json& body,
                                         const service::RequestContext& ctx,
                                         service::RekognitionService& service) {
  RequestFields fields(body);
  service::ListDatasetLabelsRequest request;
  request.dataset_arn = fields.String("DatasetArn", true, shapes::DatasetArn()).value_or("");
  request.next_token = fields.String("NextToken", false, shapes::PaginationToken()).value_or("");
  request.max_results = static_cast<int>(fields.Integer("MaxResults", false, 1, 100).value_or(100));
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ListDatasetLabelsResponse response,
                          service.ListDatasetLabels(ctx, request));
  nlohmann::json labels = nlohmann::json::array();
  for (const auto& label : response.labels) labels.push_back(ToJson(label));
  nlohmann::json out = {{"DatasetLabelDescriptions", labels}};
  if (!response.next_token.empty()) out["NextToken"] = response.next_token;
  return out;
}

}  // namespace osprey::api

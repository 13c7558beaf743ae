#include "api/aws_json/operations/model_operations.h"
#include "api/aws_json/operations/operations.h"
#include "api/aws_json/version_json.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.12: newest first, VersionNames filter, pagination.
Result<nlohmann::json> DescribeProjectVersions(const nlohmann::json& body,
                                               const service::RequestContext& ctx,
                                               service::RekognitionService& service) {
  RequestFields fields(body);
  service::DescribeProjectVersionsRequest request;
  request.project_arn = fields.String("ProjectArn", true, shapes::ProjectArn()).value_or("");
  request.version_names = fields.StringList("VersionNames", false, 1, 10, shapes::VersionName())
                              .value_or(std::vector<std::string>{});
  request.next_token = fields.String("NextToken", false, shapes::PaginationToken()).value_or("");
  request.max_results = static_cast<int>(fields.Integer("MaxResults", false, 1, 100).value_or(100));
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ModelService * models, Models(service));
  OSPREY_ASSIGN_OR_RETURN(service::DescribeProjectVersionsResponse response,
                          models->DescribeProjectVersions(ctx, request));
  nlohmann::json descriptions = nlohmann::json::array();
  for (const auto& version : response.versions) descriptions.push_back(ToJson(version));
  nlohmann::json out = {{"ProjectVersionDescriptions", descriptions}};
  if (!response.next_token.empty()) out["NextToken"] = response.next_token;
  return out;
}

}  // namespace osprey::api

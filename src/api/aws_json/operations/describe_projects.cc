#include "api/aws_json/operations/operations.h"
#include "api/aws_json/serializers.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.2.
Result<nlohmann::json> DescribeProjects(const nlohmann::json& body,
                                        const service::RequestContext& ctx,
                                        service::RekognitionService& service) {
  RequestFields fields(body);
  service::DescribeProjectsRequest request;
  request.next_token = fields.String("NextToken", false, shapes::PaginationToken()).value_or("");
  request.max_results = static_cast<int>(fields.Integer("MaxResults", false, 1, 100).value_or(100));
  request.project_names = fields.StringList("ProjectNames", false, 1, 10, shapes::ProjectName())
                              .value_or(std::vector<std::string>{});
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::DescribeProjectsResponse response,
                          service.DescribeProjects(ctx, request));
  nlohmann::json projects = nlohmann::json::array();
  for (const auto& project : response.projects) projects.push_back(ToJson(project));
  nlohmann::json out = {{"ProjectDescriptions", projects}};
  if (!response.next_token.empty()) out["NextToken"] = response.next_token;
  return out;
}

}  // namespace osprey::api

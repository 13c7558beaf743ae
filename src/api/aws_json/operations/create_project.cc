#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.1. `Tags` comes from newer clients (§14); accepted and stored.
Result<nlohmann::json> CreateProject(const nlohmann::json& body, const service::RequestContext& ctx,
                                     service::RekognitionService& service) {
  RequestFields fields(body);
  service::CreateProjectRequest request;
  request.project_name = fields.String("ProjectName", true, shapes::ProjectName()).value_or("");
  request.tags = fields.StringMap("Tags", false, 0, 200, shapes::TagKey(), shapes::TagValue())
                     .value_or(std::map<std::string, std::string>{});
  static const StringRule kFeature{.allowed = {"CUSTOM_LABELS", "CONTENT_MODERATION"}};
  (void)fields.String("Feature", false, kFeature);
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::CreateProjectResponse response,
                          service.CreateProject(ctx, request));
  return nlohmann::json{{"ProjectArn", response.project_arn}};
}

}  // namespace osprey::api

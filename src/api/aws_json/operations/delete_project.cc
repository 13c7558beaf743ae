#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.3.
Result<nlohmann::json> DeleteProject(const nlohmann::json& body, const service::RequestContext& ctx,
                                     service::RekognitionService& service) {
  RequestFields fields(body);
  service::DeleteProjectRequest request;
  request.project_arn = fields.String("ProjectArn", true, shapes::ProjectArn()).value_or("");
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::DeleteProjectResponse response,
                          service.DeleteProject(ctx, request));
  return nlohmann::json{{"Status", response.status}};
}

}  // namespace osprey::api

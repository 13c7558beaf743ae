#include "api/aws_json/operations/model_operations.h"
#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.15: refused while training, starting, running or stopping.
Result<nlohmann::json> DeleteProjectVersion(const nlohmann::json& body,
                                            const service::RequestContext& /*ctx*/,
                                            service::RekognitionService& service) {
  RequestFields fields(body);
  std::string arn =
      fields.String("ProjectVersionArn", true, shapes::ProjectVersionArn()).value_or("");
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ModelService * models, Models(service));
  OSPREY_ASSIGN_OR_RETURN(std::string status, models->DeleteProjectVersion(arn));
  return nlohmann::json{{"Status", status}};
}

}  // namespace osprey::api

#include "api/aws_json/operations/model_operations.h"
#include "api/aws_json/operations/operations.h"
#include "api/aws_json/version_json.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.16.
Result<nlohmann::json> CopyProjectVersion(const nlohmann::json& body,
                                          const service::RequestContext& ctx,
                                          service::RekognitionService& service) {
  RequestFields fields(body);
  service::CopyProjectVersionRequest request;
  request.source_project_arn =
      fields.String("SourceProjectArn", true, shapes::ProjectArn()).value_or("");
  request.source_version_arn =
      fields.String("SourceProjectVersionArn", true, shapes::ProjectVersionArn()).value_or("");
  request.destination_project_arn =
      fields.String("DestinationProjectArn", true, shapes::ProjectArn()).value_or("");
  request.version_name = fields.String("VersionName", true, shapes::VersionName()).value_or("");
  ReadOutputConfig(fields, &request.output_bucket, &request.output_prefix);
  request.tags = fields.StringMap("Tags", false, 0, 200, shapes::TagKey(), shapes::TagValue())
                     .value_or(std::map<std::string, std::string>{});
  request.kms_key_id = fields.String("KmsKeyId", false, shapes::KmsKeyId()).value_or("");
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ModelService * models, Models(service));
  OSPREY_ASSIGN_OR_RETURN(std::string arn, models->CopyProjectVersion(ctx, request));
  return nlohmann::json{{"ProjectVersionArn", arn}};
}

}  // namespace osprey::api

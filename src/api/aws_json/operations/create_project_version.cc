#include "api/aws_json/operations/model_operations.h"
#include "api/aws_json/operations/operations.h"
#include "api/aws_json/version_json.h"
#include "api/shapes.h"

namespace osprey::api {

// rekognition-api.md §3.11. Newer clients' VersionDescription/FeatureConfig are ignored.
Result<nlohmann::json> CreateProjectVersion(const nlohmann::json& body,
                                            const service::RequestContext& ctx,
                                            service::RekognitionService& service) {
  RequestFields fields(body);
  service::CreateProjectVersionRequest request;
  request.project_arn = fields.String("ProjectArn", true, shapes::ProjectArn()).value_or("");
  request.version_name = fields.String("VersionName", true, shapes::VersionName()).value_or("");
  ReadOutputConfig(fields, &request.output_bucket, &request.output_prefix);
  if (const nlohmann::json* training = fields.Object("TrainingData", false)) {
    request.training_asset = ReadAssets(*training, "trainingData", fields);
  }
  if (const nlohmann::json* testing = fields.Object("TestingData", false)) {
    request.testing_asset = ReadAssets(*testing, "testingData", fields);
    RequestFields test_fields(*testing, "testingData");
    request.testing_auto_create = test_fields.Bool("AutoCreate", false).value_or(false);
    fields.Merge(test_fields);
    if (request.testing_asset && request.testing_auto_create) {
      fields.Fail("TestingData takes either Assets or AutoCreate, not both.");
    }
  }
  request.tags = fields.StringMap("Tags", false, 0, 200, shapes::TagKey(), shapes::TagValue())
                     .value_or(std::map<std::string, std::string>{});
  request.kms_key_id = fields.String("KmsKeyId", false, shapes::KmsKeyId()).value_or("");
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::ModelService * models, Models(service));
  OSPREY_ASSIGN_OR_RETURN(std::string arn, models->CreateProjectVersion(ctx, request));
  return nlohmann::json{{"ProjectVersionArn", arn}};
}

}  // namespace osprey::api

#include "api/aws_json/operations/operations.h"
#include "api/shapes.h"

namespace osprey::api {
namespace {

// DatasetSource holds exactly one of GroundTruthManifest.S3Object or DatasetArn; both or
// neither is InvalidParameterException (rekognition-api.md §3.4).
void ReadSource(const nlohmann::json& source, RequestFields& fields,
                service::CreateDatasetRequest& request) {
  RequestFields source_fields(source, "datasetSource");
  request.source_dataset_arn =
      source_fields.String("DatasetArn", false, shapes::DatasetArn()).value_or("");
  if (const nlohmann::json* manifest = source_fields.Object("GroundTruthManifest", false)) {
    RequestFields manifest_fields(*manifest, "datasetSource.groundTruthManifest");
    if (const nlohmann::json* s3 = manifest_fields.Object("S3Object", false)) {
      RequestFields s3_fields(*s3, "datasetSource.groundTruthManifest.s3Object");
      static const StringRule kVersion{.min = 1, .max = 1024, .allowed = {}};
      service::ManifestObject object;
      object.bucket = s3_fields.String("Bucket", false, shapes::S3Bucket()).value_or("");
      object.name = s3_fields.String("Name", false, shapes::S3ObjectName()).value_or("");
      object.version = s3_fields.String("Version", false, kVersion).value_or("");
      if (s3_fields.status().ok() && (object.bucket.empty() || object.name.empty())) {
        s3_fields.Fail("GroundTruthManifest.S3Object needs a Bucket and a Name.");
      }
      manifest_fields.Merge(s3_fields);
      request.manifest = std::move(object);
    }
    source_fields.Merge(manifest_fields);
  }
  if (source_fields.status().ok() &&
      request.manifest.has_value() == !request.source_dataset_arn.empty()) {
    source_fields.Fail(
        "DatasetSource must contain exactly one of GroundTruthManifest or DatasetArn.");
  }
  fields.Merge(source_fields);
}

}  // namespace

// rekognition-api.md §3.4. `Tags` comes from newer clients; accepted and stored.
Result<nlohmann::json> CreateDataset(const nlohmann::json& body, const service::RequestContext& ctx,
                                     service::RekognitionService& service) {
  RequestFields fields(body);
  service::CreateDatasetRequest request;
  request.project_arn = fields.String("ProjectArn", true, shapes::ProjectArn()).value_or("");
  request.dataset_type = fields.String("DatasetType", true, shapes::DatasetType()).value_or("");
  if (const nlohmann::json* source = fields.Object("DatasetSource", false)) {
    ReadSource(*source, fields, request);
  }
  request.tags = fields.StringMap("Tags", false, 0, 200, shapes::TagKey(), shapes::TagValue())
                     .value_or(std::map<std::string, std::string>{});
  OSPREY_RETURN_IF_ERROR(fields.status());
  OSPREY_ASSIGN_OR_RETURN(service::CreateDatasetResponse response,
                          service.CreateDataset(ctx, request));
  return nlohmann::json{{"DatasetArn", response.dataset_arn}};
}

}  // namespace osprey::api

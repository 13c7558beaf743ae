#include "api/aws_json/version_json.h"

#include "api/aws_json/serializers.h"
#include "api/shapes.h"

namespace osprey::api {

std::optional<metadata::S3Location> ReadS3Object(const nlohmann::json& object,
                                                 const std::string& path, RequestFields& parent) {
  RequestFields fields(object, path);
  metadata::S3Location location;
  location.bucket = fields.String("Bucket", true, shapes::S3Bucket()).value_or("");
  location.key = fields.String("Name", true, shapes::S3ObjectName()).value_or("");
  (void)fields.String("Version", false, shapes::S3ObjectName());
  parent.Merge(fields);
  if (!fields.status().ok()) return std::nullopt;
  return location;
}

std::optional<metadata::S3Location> ReadAssets(const nlohmann::json& data, const std::string& path,
                                               RequestFields& parent) {
  auto assets = data.find("Assets");
  if (assets == data.end() || assets->is_null()) return std::nullopt;
  if (!assets->is_array()) {
    parent.Fail("Member '" + path + ".assets' must be a list.");
    return std::nullopt;
  }
  if (assets->empty()) return std::nullopt;
  if (assets->size() > 1) {
    parent.Fail("Only one manifest asset is supported in '" + path + ".assets'.");
    return std::nullopt;
  }
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const nlohmann::json& asset = (*assets)[0].is_object() ? (*assets)[0] : kEmpty;
  RequestFields asset_fields(asset, path + ".assets.1.member");
  const nlohmann::json* manifest = asset_fields.Object("GroundTruthManifest", true);
  const nlohmann::json* s3 = nullptr;
  if (manifest != nullptr) {
    RequestFields manifest_fields(*manifest, asset_fields.MemberPath("GroundTruthManifest"));
    s3 = manifest_fields.Object("S3Object", true);
    asset_fields.Merge(manifest_fields);
  }
  parent.Merge(asset_fields);
  if (s3 == nullptr) return std::nullopt;
  return ReadS3Object(*s3, path + ".assets.1.member.groundTruthManifest.s3Object", parent);
}

void ReadOutputConfig(RequestFields& fields, std::string* bucket, std::string* prefix) {
  if (const nlohmann::json* output = fields.Object("OutputConfig", true)) {
    RequestFields out(*output, "outputConfig");
    *bucket = out.String("S3Bucket", true, shapes::S3Bucket()).value_or("");
    *prefix = out.String("S3KeyPrefix", false, shapes::S3KeyPrefix()).value_or("");
    fields.Merge(out);
  }
}

nlohmann::json S3ObjectJson(const metadata::S3Location& location) {
  return {{"S3Object", {{"Bucket", location.bucket}, {"Name", location.key}}}};
}

nlohmann::json AssetsJson(const metadata::S3Location& location) {
  return {{"Assets", nlohmann::json::array({{{"GroundTruthManifest", S3ObjectJson(location)}}})}};
}

namespace {

nlohmann::json TrainingDataResult(const metadata::VersionRecord& v) {
  nlohmann::json out = {{"Input", v.training_input.empty() ? nlohmann::json::object()
                                                           : AssetsJson(v.training_input)}};
  if (!v.training_output.empty()) out["Output"] = AssetsJson(v.training_output);
  if (!v.training_validation.empty()) out["Validation"] = AssetsJson(v.training_validation);
  return out;
}

nlohmann::json TestingDataResult(const metadata::VersionRecord& v) {
  nlohmann::json input = v.testing_input.empty() ? nlohmann::json{{"Assets", nlohmann::json::array()}}
                                                 : AssetsJson(v.testing_input);
  input["AutoCreate"] = v.testing_auto_create;
  nlohmann::json out = {{"Input", input}};
  if (!v.testing_output.empty()) {
    out["Output"] = AssetsJson(v.testing_output);
    out["Output"]["AutoCreate"] = v.testing_auto_create;
  }
  if (!v.testing_validation.empty()) out["Validation"] = AssetsJson(v.testing_validation);
  return out;
}

}  // namespace

nlohmann::json ToJson(const metadata::VersionRecord& v) {
  nlohmann::json out = {{"ProjectVersionArn", v.arn},
                        {"CreationTimestamp", EpochSeconds(v.creation_ms)},
                        {"Status", v.status},
                        {"StatusMessage", v.status_message},
                        {"OutputConfig", {{"S3Bucket", v.output_bucket},
                                          {"S3KeyPrefix", v.output_prefix}}},
                        {"TrainingDataResult", TrainingDataResult(v)},
                        {"TestingDataResult", TestingDataResult(v)}};
  if (!v.kms_key_id.empty()) out["KmsKeyId"] = v.kms_key_id;
  if (!v.source_version_arn.empty()) out["SourceProjectVersionArn"] = v.source_version_arn;
  if (v.training_end_ms) out["TrainingEndTimestamp"] = EpochSeconds(*v.training_end_ms);
  if (v.billable_seconds) out["BillableTrainingTimeInSeconds"] = *v.billable_seconds;
  if (v.f1_score) {
    out["EvaluationResult"] = {{"F1Score", *v.f1_score}};
    if (!v.evaluation_summary.empty()) {
      out["EvaluationResult"]["Summary"] = S3ObjectJson(v.evaluation_summary);
    }
  }
  if (!v.manifest_summary.empty()) out["ManifestSummary"] = S3ObjectJson(v.manifest_summary);
  if (v.min_inference_units) out["MinInferenceUnits"] = *v.min_inference_units;
  if (v.max_inference_units) out["MaxInferenceUnits"] = *v.max_inference_units;
  return out;
}

}  // namespace osprey::api

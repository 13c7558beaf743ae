// Plain request/response structs of the model-version operations (rekognition-api.md
// §3.11-3.17). AWS member names appear in comments only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metadata/version_store.h"

namespace osprey::service {

using metadata::S3Location;

struct CreateProjectVersionRequest {
  std::string project_arn;
  std::string version_name;
  std::string output_bucket;                // OutputConfig.S3Bucket
  std::string output_prefix;                // OutputConfig.S3KeyPrefix
  std::optional<S3Location> training_asset; // TrainingData.Assets[0].GroundTruthManifest.S3Object
  std::optional<S3Location> testing_asset;  // TestingData.Assets[0]...
  bool testing_auto_create = false;         // TestingData.AutoCreate
  std::map<std::string, std::string> tags;
  std::string kms_key_id;
};

struct DescribeProjectVersionsRequest {
  std::string project_arn;
  std::vector<std::string> version_names;
  std::string next_token;
  int max_results = 100;
};
struct DescribeProjectVersionsResponse {
  std::vector<metadata::VersionRecord> versions;  // serialised by api/ as descriptions
  std::string next_token;
};

struct StartProjectVersionRequest {
  std::string version_arn;
  int64_t min_inference_units = 1;
  std::optional<int64_t> max_inference_units;
};

struct CopyProjectVersionRequest {
  std::string source_project_arn;
  std::string source_version_arn;
  std::string destination_project_arn;
  std::string version_name;
  std::string output_bucket;
  std::string output_prefix;
  std::map<std::string, std::string> tags;
  std::string kms_key_id;
};

struct PutProjectPolicyRequest {
  std::string project_arn;
  std::string policy_name;
  std::string revision_id;   // "" = create
  std::string document;
};
struct ProjectPolicy {
  std::string project_arn;
  metadata::PolicyRecord record;
};
struct ListProjectPoliciesResponse {
  std::vector<ProjectPolicy> policies;
  std::string next_token;
};

struct DetectCustomLabelsRequest {
  std::string version_arn;
  std::string image_bytes;                  // Image.Bytes (decoded), or
  std::optional<S3Location> image_s3;       // Image.S3Object
  std::optional<int64_t> max_results;
  std::optional<double> min_confidence;     // 0..100
};

struct BoundingBox {                        // ratios of the image size
  double left = 0, top = 0, width = 0, height = 0;
};
struct CustomLabel {
  std::string name;
  double confidence = 0;                    // 0..100
  std::optional<BoundingBox> box;           // detection models only
};
struct DetectCustomLabelsResponse {
  std::vector<CustomLabel> labels;          // highest confidence first
};

}  // namespace osprey::service

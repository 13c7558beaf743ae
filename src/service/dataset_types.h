// Plain request/response structs of the dataset operations (rekognition-api.md §3.4-3.10, §4),
// free of any wire format. Field comments give the AWS member name.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace osprey::service {

struct DatasetStats {              // DatasetStats
  int64_t labeled_entries = 0;
  int64_t total_entries = 0;
  int64_t total_labels = 0;
  int64_t error_entries = 0;
};

struct DatasetDescription {        // DatasetDescription
  int64_t creation_ms = 0;
  int64_t last_updated_ms = 0;
  std::string status;
  std::string status_message;
  std::string status_message_code;
  DatasetStats stats;
};

struct ManifestObject {            // GroundTruthManifest.S3Object
  std::string bucket;              // Bucket
  std::string name;                // Name
  std::string version;             // Version (accepted, ignored: the store is unversioned)
};

struct CreateDatasetRequest {
  std::string project_arn;                  // ProjectArn
  std::string dataset_type;                 // DatasetType: "TRAIN" | "TEST"
  std::optional<ManifestObject> manifest;   // DatasetSource.GroundTruthManifest.S3Object
  std::string source_dataset_arn;           // DatasetSource.DatasetArn ("" = none)
  std::map<std::string, std::string> tags;  // Tags (newer clients)
};
struct CreateDatasetResponse {
  std::string dataset_arn;
};

struct DescribeDatasetRequest {
  std::string dataset_arn;
};
struct DescribeDatasetResponse {
  DatasetDescription description;
};

struct DeleteDatasetRequest {
  std::string dataset_arn;
};

struct ListDatasetEntriesRequest {
  std::string dataset_arn;
  std::vector<std::string> contains_labels;  // ContainsLabels: any of them
  std::optional<bool> labeled;               // Labeled
  std::string source_ref_contains;           // SourceRefContains ("" = no filter)
  std::optional<bool> has_errors;            // HasErrors
  std::string next_token;
  int max_results = 100;                     // 1..100
};
struct ListDatasetEntriesResponse {
  std::vector<std::string> entries;          // DatasetEntries: one JSON line each
  std::string next_token;                    // "" = last page
};

struct ListDatasetLabelsRequest {
  std::string dataset_arn;
  std::string next_token;
  int max_results = 100;
};
struct DatasetLabelDescription {             // DatasetLabelDescription
  std::string label_name;
  int64_t entry_count = 0;                   // LabelStats.EntryCount
  int64_t bounding_box_count = 0;            // LabelStats.BoundingBoxCount (0 = omitted)
};
struct ListDatasetLabelsResponse {
  std::vector<DatasetLabelDescription> labels;
  std::string next_token;
};

struct UpdateDatasetEntriesRequest {
  std::string dataset_arn;
  std::string ground_truth;                  // Changes.GroundTruth, decoded: JSON Lines
};

struct DistributeDatasetEntriesRequest {
  std::vector<std::string> dataset_arns;     // Datasets[].Arn, exactly two
};

}  // namespace osprey::service

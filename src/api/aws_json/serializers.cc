#include "api/aws_json/serializers.h"

namespace osprey::api {

nlohmann::json EpochSeconds(int64_t millis) { return static_cast<double>(millis) / 1000.0; }

nlohmann::json ToJson(const service::DatasetMetadata& dataset) {
  nlohmann::json out = {{"CreationTimestamp", EpochSeconds(dataset.creation_ms)},
                        {"DatasetType", dataset.dataset_type},
                        {"DatasetArn", dataset.dataset_arn},
                        {"Status", dataset.status}};
  if (!dataset.status_message.empty()) out["StatusMessage"] = dataset.status_message;
  if (!dataset.status_message_code.empty()) out["StatusMessageCode"] = dataset.status_message_code;
  return out;
}

nlohmann::json ToJson(const service::ProjectDescription& project) {
  nlohmann::json datasets = nlohmann::json::array();
  for (const auto& dataset : project.datasets) datasets.push_back(ToJson(dataset));
  return {{"ProjectArn", project.project_arn},
          {"CreationTimestamp", EpochSeconds(project.creation_ms)},
          {"Status", project.status},
          {"Datasets", datasets}};
}

nlohmann::json ToJson(const service::DatasetDescription& dataset) {
  nlohmann::json out = {{"CreationTimestamp", EpochSeconds(dataset.creation_ms)},
                        {"LastUpdatedTimestamp", EpochSeconds(dataset.last_updated_ms)},
                        {"Status", dataset.status},
                        {"DatasetStats",
                         {{"LabeledEntries", dataset.stats.labeled_entries},
                          {"TotalEntries", dataset.stats.total_entries},
                          {"TotalLabels", dataset.stats.total_labels},
                          {"ErrorEntries", dataset.stats.error_entries}}}};
  if (!dataset.status_message.empty()) out["StatusMessage"] = dataset.status_message;
  if (!dataset.status_message_code.empty()) out["StatusMessageCode"] = dataset.status_message_code;
  return out;
}

// [EX] shows only EntryCount for a classification dataset: BoundingBoxCount is sent only when
// some entry has the label on a box (rekognition-api.md §3.8).
nlohmann::json ToJson(const service::DatasetLabelDescription& label) {
  nlohmann::json stats = {{"EntryCount", label.entry_count}};
  if (label.bounding_box_count > 0) stats["BoundingBoxCount"] = label.bounding_box_count;
  return {{"LabelName", label.label_name}, {"LabelStats", stats}};
}

}  // namespace osprey::api

#include "dataset/training_output.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "dataset/manifest_errors.h"

namespace osprey::dataset {
namespace {

using nlohmann::json;

constexpr const char* kTrainingAttribute = "rekognition-custom-labels-training-0";
constexpr const char* kTrainingJob = "rekognition-custom-labels-training-job";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json ErrorsJson(const std::vector<LineError>& errors) {
  json out = json::array();
  for (const auto& e : errors) out.push_back({{"code", e.code}, {"message", e.message}});
  return out;
}

json StatisticsJson(const ManifestStatistics& s) {
  return {{"use_case", s.use_case},
          {"total_json_lines", s.total_lines},
          {"valid_json_lines", s.valid_lines},
          {"invalid_json_lines", s.invalid_lines},
          {"ignored_json_lines", 0},
          {"error_json_line_indices", s.error_line_indices},
          {"errors", ErrorsJson(s.errors)}};
}

json ClassificationLabels(const DatasetEntry& entry, json line) {
  for (size_t k = 0; k < entry.labels.size(); ++k) {
    std::string attribute = "rekognition-custom-labels-training-" + std::to_string(k);
    line[attribute] = 1;
    line[attribute + "-metadata"] = {{"class-name", entry.labels[k].name},
                                     {"confidence", 1},
                                     {"human-annotated", "yes"},
                                     {"type", "groundtruth/image-classification"},
                                     {"job-name", kTrainingJob}};
  }
  return line;
}

json DetectionBoxes(const DatasetEntry& entry, json line) {
  std::map<std::string, int> ids;
  for (const auto& label : entry.labels) ids.emplace(label.name, static_cast<int>(ids.size()));
  json annotations = json::array();
  json objects = json::array();
  for (const auto& box : entry.boxes) {
    annotations.push_back({{"class_id", ids[box.label]},
                           {"left", box.left},
                           {"top", box.top},
                           {"width", box.width},
                           {"height", box.height}});
    objects.push_back({{"confidence", 1}});
  }
  json class_map = json::object();
  for (const auto& [name, id] : ids) class_map[std::to_string(id)] = name;
  line[kTrainingAttribute] = {
      {"image_size",
       json::array({{{"width", entry.image_width}, {"height", entry.image_height}, {"depth", 3}}})},
      {"annotations", annotations}};
  line[std::string(kTrainingAttribute) + "-metadata"] = {{"objects", objects},
                                                         {"class-map", class_map},
                                                         {"type", "groundtruth/object-detection"},
                                                         {"human-annotated", "yes"},
                                                         {"job-name", kTrainingJob}};
  return line;
}

}  // namespace

ManifestStatistics CountLines(const std::vector<const DatasetEntry*>& entries,
                              const std::vector<const DroppedLine*>& dropped,
                              const std::string& use_case) {
  ManifestStatistics s;
  s.use_case = use_case;
  s.total_lines = static_cast<int64_t>(entries.size() + dropped.size());
  for (const DatasetEntry* entry : entries) {
    if (entry->has_errors) s.error_line_indices.push_back(entry->line_index);
  }
  for (const DroppedLine* line : dropped) s.error_line_indices.push_back(line->index);
  std::sort(s.error_line_indices.begin(), s.error_line_indices.end());
  s.invalid_lines = static_cast<int64_t>(s.error_line_indices.size());
  s.valid_lines = s.total_lines - s.invalid_lines;
  return s;
}

std::string ManifestSummaryJson(const ManifestStatistics& training,
                                const ManifestStatistics& testing,
                                const std::vector<LineError>& errors) {
  json summary = {{"errors", ErrorsJson(errors)},
                  {"statistics",
                   {{"training", StatisticsJson(training)}, {"testing", StatisticsJson(testing)}}}};
  return summary.dump(2, ' ', false, json::error_handler_t::replace);
}

std::string ValidationManifest(const std::vector<const DatasetEntry*>& entries,
                               const std::vector<const DroppedLine*>& dropped) {
  std::vector<std::pair<int64_t, std::string>> lines;
  for (const DatasetEntry* entry : entries) {
    json line = json::parse(entry->line, nullptr, /*allow_exceptions=*/false);
    if (!line.is_object()) line = json::object({{"source-ref", entry->source_ref}});
    line.erase("cl-metadata");
    auto errors = line.find("cl-errors");
    if (errors != line.end()) {
      json moved = std::move(*errors);
      line.erase("cl-errors");
      line["errors"] = std::move(moved);
    }
    lines.emplace_back(entry->line_index, Dump(line));
  }
  for (const DroppedLine* line : dropped) {
    json errors = ErrorsJson({MakeError(line->code)});
    lines.emplace_back(line->index, Dump(json{{"errors", errors}}));
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (auto& [index, text] : lines) out += text + "\n";
  return out;
}

std::string GroundTruthSnapshot(const std::vector<const DatasetEntry*>& entries,
                                bool object_detection) {
  std::string out;
  int object_id = 0;
  for (const DatasetEntry* entry : entries) {
    json line = {{"source-ref", entry->source_ref},
                 {"rekognition-custom-labels-object-id", object_id++}};
    line = object_detection ? DetectionBoxes(*entry, std::move(line))
                            : ClassificationLabels(*entry, std::move(line));
    out += Dump(line) + "\n";
  }
  return out;
}

}  // namespace osprey::dataset

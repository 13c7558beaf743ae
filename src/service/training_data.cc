#include "service/training_data.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "storage/local_object_store.h"

namespace osprey::service {
namespace {

// Splits s3://bucket/key; false for any other scheme.
bool SplitS3(const std::string& ref, std::string* bucket, std::string* key) {
  if (ref.rfind("s3://", 0) != 0) return false;
  size_t slash = ref.find('/', 5);
  if (slash == std::string::npos || slash == 5 || slash + 1 >= ref.size()) return false;
  *bucket = ref.substr(5, slash - 5);
  *key = ref.substr(slash + 1);
  return true;
}

void ParseLine(ManifestLine& line, bool* detection) {
  nlohmann::json j = nlohmann::json::parse(line.text, nullptr, /*allow_exceptions=*/false);
  auto fail = [&](const char* code, const char* message) {
    line.error_code = code;
    line.error_message = message;
  };
  if (j.is_discarded() || !j.is_object()) return fail("ERROR_INVALID_JSON_LINE", "The JSON line is not valid JSON.");
  auto ref = j.find("source-ref");
  if (ref == j.end() || !ref->is_string()) return fail("ERROR_MISSING_SOURCE_REF", "The JSON line has no source-ref.");
  line.source_ref = ref->get<std::string>();
  std::string bucket, key;
  if (!SplitS3(line.source_ref, &bucket, &key)) {
    return fail("ERROR_INVALID_SOURCE_REF_FORMAT", "The source-ref is not an s3://bucket/key reference.");
  }
  std::set<std::string> labels;
  for (const auto& [name, value] : j.items()) {
    if (name.size() < 9 || name.compare(name.size() - 9, 9, "-metadata") != 0) continue;
    if (!value.is_object() || !j.contains(name.substr(0, name.size() - 9))) continue;
    std::string type = value.value("type", "");
    if (type == "groundtruth/object-detection") {
      *detection = true;
    } else if (type == "groundtruth/image-classification") {
      if (value.contains("class-name") && value["class-name"].is_string()) {
        labels.insert(value["class-name"].get<std::string>());
      }
    } else if (type == "groundtruth/image-classification-multilabel") {
      // SageMaker's multi-label form: the attribute lists class ids of `class-map`.
      const auto& ids = j[name.substr(0, name.size() - 9)];
      if (ids.is_array() && value.contains("class-map")) {
        for (const auto& id : ids) {
          std::string k = id.is_number() ? std::to_string(id.get<int64_t>()) : id.dump();
          if (value["class-map"].contains(k)) labels.insert(value["class-map"][k].get<std::string>());
        }
      }
    }
  }
  line.labels.assign(labels.begin(), labels.end());
  if (line.labels.empty() && !*detection) {
    return fail("ERROR_NO_LABEL_ATTRIBUTES", "The JSON line has no label attributes.");
  }
}

}  // namespace

ParsedManifest ParseManifest(std::string_view text) {
  ParsedManifest out;
  size_t detection_lines = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (raw.find_first_not_of(" \t") == std::string_view::npos) continue;
    ManifestLine line;
    line.text = std::string(raw);
    bool detection = false;
    ParseLine(line, &detection);
    if (detection) ++detection_lines;
    (line.error_code.empty() ? out.valid : out.invalid)++;
    out.lines.push_back(std::move(line));
  }
  out.use_case = out.lines.empty() ? "NOT_DETERMINED"
                 : detection_lines * 2 > out.lines.size() ? "OBJECT_LOCALIZATION"
                                                          : "IMAGE_LEVEL_LABELS";
  return out;
}

Result<engine::TrainingSet> BuildTrainingSet(std::vector<ManifestLine>& lines,
                                             storage::ObjectStore& objects,
                                             const std::vector<std::string>& label_names) {
  auto* local = dynamic_cast<storage::LocalObjectStore*>(&objects);
  if (local == nullptr) return Status::Internal("training needs a local object store");
  engine::TrainingSet set;
  set.labels = label_names;
  if (set.labels.empty()) {
    std::set<std::string> all;
    for (const auto& line : lines) {
      if (line.error_code.empty()) all.insert(line.labels.begin(), line.labels.end());
    }
    set.labels.assign(all.begin(), all.end());
  }
  std::map<std::string, int> ids;
  for (size_t i = 0; i < set.labels.size(); ++i) ids[set.labels[i]] = static_cast<int>(i);
  for (auto& line : lines) {
    if (!line.error_code.empty()) continue;
    set.multi_label = set.multi_label || line.labels.size() > 1;
    std::string bucket, key;
    SplitS3(line.source_ref, &bucket, &key);
    Result<std::filesystem::path> dir = local->ObjectDir(bucket, key);
    if (!dir.ok() || !objects.HeadObject(bucket, key).ok()) {
      line.error_code = "ERROR_INVALID_IMAGE";
      line.error_message = "The image " + line.source_ref + " was not found in the bucket.";
      continue;
    }
    engine::LabelledImage image;
    image.source_ref = line.source_ref;
    image.path = *dir / ".osprey.obj";
    for (const auto& label : line.labels) {
      auto it = ids.find(label);
      if (it != ids.end()) image.labels.push_back(it->second);
    }
    if (image.labels.empty()) continue;  // only labels the model does not know
    set.images.push_back(std::move(image));
  }
  return set;
}

void SplitEightyTwenty(const std::vector<ManifestLine>& lines, std::vector<size_t>* train,
                       std::vector<size_t>* test) {
  // Group by first label; within a group order by a hash of source-ref (stable across runs and
  // machines), and send every fifth image to the test split.
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].error_code.empty()) continue;
    groups[lines[i].labels.empty() ? "" : lines[i].labels.front()].push_back(i);
  }
  auto hash = [](const std::string& s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
  };
  for (auto& [label, members] : groups) {
    std::sort(members.begin(), members.end(), [&](size_t a, size_t b) {
      return hash(lines[a].source_ref) < hash(lines[b].source_ref);
    });
    size_t n_test = (members.size() + 2) / 5;  // round(20 %)
    for (size_t k = 0; k < members.size(); ++k) (k < n_test ? test : train)->push_back(members[k]);
  }
  std::sort(train->begin(), train->end());
  std::sort(test->begin(), test->end());
}

}  // namespace osprey::service

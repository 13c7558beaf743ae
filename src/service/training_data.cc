#include "service/training_data.h"

#include <algorithm>
#include <map>

#include "dataset/split.h"
#include "storage/local_object_store.h"

namespace osprey::service {
namespace {

Result<std::filesystem::path> ImageFile(const storage::ObjectStore& objects,
                                        const dataset::DatasetEntry& entry) {
  const auto* local = dynamic_cast<const storage::LocalObjectStore*>(&objects);
  if (local == nullptr) return Status::Internal("training needs a local object store");
  OSPREY_ASSIGN_OR_RETURN(std::filesystem::path dir, local->ObjectDir(entry.bucket, entry.key));
  return dir / ".osprey.obj";
}

std::map<std::string, int> LabelIds(const std::vector<std::string>& labels) {
  std::map<std::string, int> ids;
  for (size_t i = 0; i < labels.size(); ++i) ids[labels[i]] = static_cast<int>(i);
  return ids;
}

}  // namespace

std::string TrainingManifest::use_case() const {
  bool labelled = std::any_of(entries.begin(), entries.end(),
                              [](const auto& e) { return e.is_labeled || e.object_detection; });
  if (!labelled) return "NOT_DETERMINED";
  return object_detection ? "OBJECT_LOCALIZATION" : "IMAGE_LEVEL_LABELS";
}

Result<TrainingManifest> ReadTrainingManifest(const dataset::ChunkReader& read, int64_t size,
                                              const storage::ObjectStore& images) {
  TrainingManifest out;
  dataset::ImportOptions options;
  options.keep_dropped_lines = true;
  auto sink = [&](std::vector<dataset::DatasetEntry>& batch) {
    for (auto& entry : batch) out.entries.push_back(std::move(entry));
    return Status::Ok();
  };
  OSPREY_ASSIGN_OR_RETURN(dataset::ImportResult result,
                          dataset::ImportManifest(read, size, images, options, sink));
  out.dropped = std::move(result.dropped);
  out.failure = std::move(result.failure);
  size_t detection = 0, classification = 0;
  for (const auto& entry : out.entries) {
    if (entry.object_detection) {
      ++detection;
    } else if (entry.is_labeled) {
      ++classification;
    }
  }
  out.object_detection = detection > classification;
  return out;
}

bool IsUsable(const dataset::DatasetEntry& entry, bool object_detection) {
  if (entry.has_errors) return false;
  return object_detection ? entry.object_detection : entry.is_labeled && !entry.object_detection;
}

std::vector<std::string> UsableLabels(const EntryRefs& entries, bool object_detection) {
  std::set<std::string> labels;
  for (const auto* entry : entries) {
    if (!IsUsable(*entry, object_detection)) continue;
    for (const auto& label : entry->labels) labels.insert(label.name);
  }
  return {labels.begin(), labels.end()};
}

Result<engine::TrainingSet> ToClassificationSet(const EntryRefs& entries,
                                                const storage::ObjectStore& objects,
                                                const std::vector<std::string>& labels) {
  engine::TrainingSet set;
  set.labels = labels;
  std::map<std::string, int> ids = LabelIds(labels);
  for (const auto* entry : entries) {
    if (!IsUsable(*entry, /*object_detection=*/false)) continue;
    engine::LabelledImage image;
    image.source_ref = entry->source_ref;
    OSPREY_ASSIGN_OR_RETURN(image.path, ImageFile(objects, *entry));
    for (const auto& label : entry->labels) {
      auto it = ids.find(label.name);
      if (it != ids.end()) image.labels.push_back(it->second);
    }
    if (image.labels.empty()) continue;
    set.multi_label = set.multi_label || image.labels.size() > 1;
    set.images.push_back(std::move(image));
  }
  return set;
}

Result<engine::DetectionTrainingSet> ToDetectionSet(const EntryRefs& entries,
                                                    const storage::ObjectStore& objects,
                                                    const std::vector<std::string>& labels) {
  engine::DetectionTrainingSet set;
  set.labels = labels;
  std::map<std::string, int> ids = LabelIds(labels);
  for (const auto* entry : entries) {
    if (!IsUsable(*entry, /*object_detection=*/true)) continue;
    engine::DetectionImage image;
    image.source_ref = entry->source_ref;
    OSPREY_ASSIGN_OR_RETURN(image.path, ImageFile(objects, *entry));
    image.width = entry->image_width;
    image.height = entry->image_height;
    for (const auto& box : entry->boxes) {
      auto it = ids.find(box.label);
      if (it == ids.end()) continue;
      engine::AnnotatedBox annotated;
      annotated.label = it->second;
      annotated.box = engine::Box{static_cast<float>(box.left), static_cast<float>(box.top),
                                  static_cast<float>(box.width), static_cast<float>(box.height)};
      image.boxes.push_back(annotated);
    }
    set.images.push_back(std::move(image));
  }
  return set;
}

void SplitEightyTwenty(const std::vector<dataset::DatasetEntry>& entries, EntryRefs* train,
                       EntryRefs* test) {
  std::vector<dataset::SplitItem> items;
  items.reserve(entries.size());
  for (const auto& entry : entries) {
    dataset::SplitItem item{entry.source_ref, {}};
    for (const auto& label : entry.labels) item.labels.push_back(label.name);
    items.push_back(std::move(item));
  }
  std::vector<size_t> chosen = dataset::ChooseTestSplit(items);
  std::vector<bool> is_test(entries.size(), false);
  for (size_t index : chosen) is_test[index] = true;
  for (size_t i = 0; i < entries.size(); ++i) (is_test[i] ? test : train)->push_back(&entries[i]);
}

}  // namespace osprey::service

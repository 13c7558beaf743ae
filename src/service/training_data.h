// The data side of a training run: reads a training or testing manifest through dataset/'s
// validator (the rules CreateDataset applies: per-line codes, image headers, whole-file limits
// and the 20 % rule), turns the usable entries into the engine's classification or detection
// sets, and makes the deterministic stratified 80/20 split behind TestingData.AutoCreate.
// Stateless and thread-safe.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "dataset/manifest_import.h"
#include "dataset/manifest_types.h"
#include "engine/classifier.h"
#include "engine/detector.h"
#include "storage/object_store.h"

namespace osprey::service {

using EntryRefs = std::vector<const dataset::DatasetEntry*>;

struct TrainingManifest {
  std::vector<dataset::DatasetEntry> entries;  // manifest order; some carry errors
  std::vector<dataset::DroppedLine> dropped;   // lines the validator dropped
  std::optional<dataset::LineError> failure;   // a whole-file error: the manifest is unusable
  bool object_detection = false;               // most labelled entries have boxes

  // IMAGE_LEVEL_LABELS | OBJECT_LOCALIZATION | NOT_DETERMINED (§11.3).
  std::string use_case() const;
};

// Validates the manifest that `read` returns (`size` bytes, -1 if unknown); its images are
// checked in `images`. Returns an error only when reading fails; bad input is in the result.
Result<TrainingManifest> ReadTrainingManifest(const dataset::ChunkReader& read, int64_t size,
                                              const storage::ObjectStore& images);

// An entry a model can learn from or be tested on: no error, and labelled (for detection: a
// valid bounding-box attribute, which may hold no boxes).
bool IsUsable(const dataset::DatasetEntry& entry, bool object_detection);

// The distinct labels of the usable entries, sorted.
std::vector<std::string> UsableLabels(const EntryRefs& entries, bool object_detection);

// Engine sets from usable entries; images are the store's files (requires a LocalObjectStore).
// Labels the model does not know (not in `labels`) are ignored.
Result<engine::TrainingSet> ToClassificationSet(const EntryRefs& entries,
                                                const storage::ObjectStore& objects,
                                                const std::vector<std::string>& labels);
Result<engine::DetectionTrainingSet> ToDetectionSet(const EntryRefs& entries,
                                                    const storage::ObjectStore& objects,
                                                    const std::vector<std::string>& labels);

// AutoCreate: splits `entries` 80/20, stratified by label, deterministically
// (dataset::ChooseTestSplit, the split DistributeDatasetEntries uses).
void SplitEightyTwenty(const std::vector<dataset::DatasetEntry>& entries, EntryRefs* train,
                       EntryRefs* test);

}  // namespace osprey::service

// ImportManifest: the streaming Ground Truth manifest validator behind CreateDataset and
// UpdateDatasetEntries. It reads line by line, parses and checks each line (manifest_line.h),
// checks each image's header in the store (image_check.h), and hands validated entries to a sink
// in batches, so memory stays bounded by the batch, not the manifest. It applies AWS's
// whole-file rules (rekognition-api.md §9.2-9.3): size, row count, empty manifest, one bucket,
// label count and the cumulative 20 % invalid-line rule. Lines it drops (terminal content
// errors: invalid JSON, missing/bad source-ref, too long, duplicate source-ref) never reach the
// sink. The caller commits what the sink received only when result.failure is unset.
// Thread-compatible: one call per import; the store must be thread-safe (image checks run on
// up to image_check_threads threads).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "dataset/manifest_reader.h"
#include "dataset/manifest_types.h"
#include "storage/object_store.h"

namespace osprey::dataset {

struct ImportOptions {
  ManifestLimits limits;
  std::string required_bucket;  // the dataset's image bucket; "" = whatever the first line uses
  size_t batch_size = 1000;     // entries per sink call
  // Keep every dropped line (text and code) in ImportResult::dropped, for the validation
  // manifests a training run writes. Costs memory up to the dropped lines' size.
  bool keep_dropped_lines = false;
  size_t image_check_threads = 4;  // concurrent image header checks (I/O bound)
};

struct ImportResult {
  int64_t total_lines = 0;      // every line, blank and invalid ones included (§9.2)
  int64_t entries = 0;          // lines handed to the sink
  int64_t dropped_lines = 0;    // terminal content errors
  int64_t error_entries = 0;    // entries with at least one ERROR_* (kept, with cl-errors)
  std::string image_bucket;     // the one bucket of all source-refs
  std::set<std::string> labels; // distinct valid labels (stops growing past limits.max_labels)
  std::vector<int64_t> invalid_line_indices;  // 0-based, dropped or erroneous; first 1,000
  std::vector<DroppedLine> dropped;           // only with ImportOptions::keep_dropped_lines
  std::optional<LineError> failure;           // a terminal file error: the import fails
};

// Receives validated entries; a non-OK status aborts the import with that status.
using EntrySink = std::function<Status(std::vector<DatasetEntry>& batch)>;

// `manifest_bytes` is the manifest's size (checked against limits before reading), or -1 if
// unknown. `images` is where source-ref images are checked. Returns a non-OK status only when
// reading the manifest or the sink fails; problems with the input are in the result.
Result<ImportResult> ImportManifest(const ChunkReader& read, int64_t manifest_bytes,
                                    const storage::ObjectStore& images,
                                    const ImportOptions& options, const EntrySink& sink);

// The whole-file label rules a training run adds on top (for the model-version work): too few
// labels for classification (< 2) or none for detection gives ERROR_MANIFEST_TOO_FEW_LABELS.
std::optional<LineError> CheckTrainingLabels(size_t label_count, bool object_detection,
                                             const ManifestLimits& limits);

}  // namespace osprey::dataset

// The manifest files a training run writes to its output location (rekognition-api.md §11.3,
// §11.4, §11.6): the manifest summary, the validation manifests (the input lines with their
// errors) and the ground-truth snapshots of the images used. Pure functions over validated
// entries; thread-safe. JSON lives here because these files are Ground Truth JSON Lines.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataset/manifest_types.h"

namespace osprey::dataset {

// What one side (training or testing) of a run saw in its manifest.
struct ManifestStatistics {
  std::string use_case = "NOT_DETERMINED";  // IMAGE_LEVEL_LABELS | OBJECT_LOCALIZATION | ...
  int64_t total_lines = 0;
  int64_t valid_lines = 0;
  int64_t invalid_lines = 0;
  std::vector<int64_t> error_line_indices;  // 0-based, ascending
  std::vector<LineError> errors;            // whole-file errors of this side
};

// Counts `entries` (valid unless has_errors) plus `dropped` (always invalid).
ManifestStatistics CountLines(const std::vector<const DatasetEntry*>& entries,
                              const std::vector<const DroppedLine*>& dropped,
                              const std::string& use_case);

// The ManifestSummary document (§11.3), pretty-printed.
std::string ManifestSummaryJson(const ManifestStatistics& training,
                                const ManifestStatistics& testing,
                                const std::vector<LineError>& errors);

// A *ManifestWithValidation file (§11.4): every line in manifest order; an entry keeps its
// document with its image-level errors under "errors" (label errors stay inside the
// attributes), and a dropped line is replaced by {"errors":[...]} holding only the error.
std::string ValidationManifest(const std::vector<const DatasetEntry*>& entries,
                               const std::vector<const DroppedLine*>& dropped);

// A *GroundTruth snapshot (§11.6) of the images used, in Rekognition's attribute names:
// image-level labels, or the boxes (with image_size and class-map) for object detection.
std::string GroundTruthSnapshot(const std::vector<const DatasetEntry*>& entries,
                                bool object_detection);

}  // namespace osprey::dataset

// Plain structs shared by the manifest parser, the import validator, the 80/20 split and (later)
// the trainer: limits, per-line errors and validated dataset entries. No behaviour, no JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace osprey::dataset {

// AWS's limits for Custom Labels manifests and images (rekognition-api.md §9.1). Tests shrink them.
struct ManifestLimits {
  int64_t max_manifest_bytes = int64_t{1} << 30;  // 1 GB: ERROR_MANIFEST_SIZE_TOO_LARGE
  int64_t max_lines = 250000;                     // ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM
  size_t max_line_bytes = 100000;                 // longer lines are dropped (terminal content)
  size_t max_json_depth = 32;                     // deeper lines are invalid JSON (hostile input)
  int64_t max_image_bytes = 15 * 1024 * 1024;     // 15 MB
  int min_image_dimension = 64;
  int max_image_dimension = 4096;
  double max_aspect_ratio = 20.0;                 // 20:1
  size_t max_boxes_per_image = 50;
  size_t max_label_name_chars = 256;              // ERROR_INVALID_LABEL_NAME_LENGTH
  size_t max_labels = 250;                        // ERROR_MANIFEST_TOO_MANY_LABELS
  size_t min_classification_labels = 2;           // checked at training (CheckTrainingLabels)
  double max_invalid_fraction = 0.20;             // the 20 % rule
  int box_resize_longest_side = 1280;             // ERROR_BOUNDING_BOX_TOO_SMALL reference size
};

// One `{"code":..., "message":...}` of a cl-errors array.
struct LineError {
  std::string code;
  std::string message;
};

// A box in pixels, origin top-left, as the manifest gives it; already checked against the image.
struct ManifestBox {
  std::string label;
  double left = 0;
  double top = 0;
  double width = 0;
  double height = 0;
};

struct EntryLabel {
  std::string name;
  bool has_box = false;  // the label appears on at least one valid box of the entry
};

// A validated manifest line, ready to store as a dataset entry.
struct DatasetEntry {
  std::string source_ref;       // "s3://bucket/key"
  std::string bucket;
  std::string key;
  std::string line;             // JSON with cl-metadata and cl-errors, as ListDatasetEntries shows
  bool is_labeled = false;      // at least one valid label
  bool has_errors = false;      // at least one ERROR_* anywhere in the line
  std::vector<EntryLabel> labels;  // distinct valid labels, sorted by name
  std::vector<ManifestBox> boxes;  // valid boxes (object detection)
  int image_width = 0;          // from `image_size` (detection) or the image header; 0 = unknown
  int image_height = 0;
  bool object_detection = false;  // has a valid bounding-box attribute (perhaps with no boxes)
  int64_t line_index = -1;      // 0-based line of the manifest it came from
};

// A line the validator dropped (a terminal content error), kept when ImportOptions asks for it.
struct DroppedLine {
  int64_t index = 0;   // 0-based line of the manifest
  std::string text;    // the line as given ("" when it was too long to keep)
  std::string code;    // e.g. ERROR_INVALID_JSON_LINE
};

}  // namespace osprey::dataset

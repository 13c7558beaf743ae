// Turns a Ground Truth manifest (image-level classification) into the engine's training set,
// with per-line validation in AWS's terms, and the deterministic stratified 80/20 split used by
// TestingData.AutoCreate. Stateless and thread-safe.
// TODO(#4): replace the line parser with dataset/'s validator once it lands, keeping this API.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/classifier.h"
#include "storage/object_store.h"

namespace osprey::service {

struct ManifestLine {
  std::string text;                 // the line as given
  std::string source_ref;
  std::vector<std::string> labels;  // label names
  std::string error_code;           // "" = valid, else e.g. ERROR_INVALID_JSON_LINE
  std::string error_message;
};

struct ParsedManifest {
  std::vector<ManifestLine> lines;  // blank lines excluded
  std::string use_case;             // IMAGE_LEVEL_LABELS | OBJECT_LOCALIZATION | NOT_DETERMINED
  size_t valid = 0;
  size_t invalid = 0;
};

// Parses manifest text line by line. Lines with a bounding-box attribute set use_case to
// OBJECT_LOCALIZATION (not trainable yet, the caller decides).
ParsedManifest ParseManifest(std::string_view text);

// Builds a training set from the valid lines whose images exist in `objects`; a line whose
// image is missing gets ERROR_INVALID_IMAGE... in place. Label ids follow `label_names`
// (sorted union when empty). Requires a LocalObjectStore (the engine reads files).
Result<engine::TrainingSet> BuildTrainingSet(std::vector<ManifestLine>& lines,
                                             storage::ObjectStore& objects,
                                             const std::vector<std::string>& label_names);

// Splits line indices 80/20, stratified by each line's first label, deterministically.
void SplitEightyTwenty(const std::vector<ManifestLine>& lines, std::vector<size_t>* train,
                       std::vector<size_t>* test);

}  // namespace osprey::service

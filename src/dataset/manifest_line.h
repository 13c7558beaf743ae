// Parsing and checking one Ground Truth manifest line (rekognition-api.md §8, §9.3) without
// touching storage: the unit the fuzz test drives. Image-level classification (single- and
// multi-label), object detection (bounding-box), and the dataset entry form that carries
// cl-metadata / cl-errors (those are recomputed, never trusted). Stateless and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataset/manifest_types.h"

namespace osprey::dataset {

// The `image_size` a detection attribute declares, in pixels.
struct DeclaredImageSize {
  int width = 0;
  int height = 0;
};

struct ParsedLine {
  // Set when the line is a terminal content error in a dataset (invalid JSON, no or bad
  // source-ref, too long): it is dropped and counted as invalid. Nothing else is meaningful then.
  std::optional<std::string> drop_code;
  DatasetEntry entry;                      // line, labels and boxes are filled by FinishLine
  nlohmann::json document;                 // the line without any incoming cl-* fields
  std::vector<LineError> line_errors;      // image-level errors (top-level cl-errors)
  bool attribute_errors = false;           // errors attached inside a *-metadata object
  bool has_detection = false;              // at least one valid bounding-box attribute
  // The image_size of every detection attribute that declares a well-formed one, for the
  // comparison with the real image header in ImportManifest (boxes are checked against these).
  std::vector<DeclaredImageSize> declared_sizes;
};

// Parses `line` (no trailing newline; a trailing '\r' is ignored). Never throws.
ParsedLine ParseManifestLine(std::string_view line, const ManifestLimits& limits);

// Adds an image-level error found later (e.g. by the image check).
void AddLineError(ParsedLine& parsed, std::string_view code);

// Serialises the entry: the document plus "cl-metadata":{"is_labeled":...} and the top-level
// "cl-errors" (when there are any), and sets entry.line / has_errors / is_labeled.
// REQUIRES: !parsed.drop_code.
void FinishLine(ParsedLine& parsed);

// Splits "s3://bucket/key" into bucket and key; nullopt unless the bucket is a valid S3 bucket
// name and the key is a non-empty key without "." / ".." segments, NUL or backslashes.
std::optional<std::pair<std::string, std::string>> ParseS3Uri(std::string_view uri);

}  // namespace osprey::dataset

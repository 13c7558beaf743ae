// Reads Ground Truth manifests (JSON Lines, rekognition-api.md §8) for `osprey train` /
// `osprey evaluate`: image-level classification into an engine::TrainingSet, object detection
// into an engine::DetectionTrainingSet, and tells the two apart. A stop-gap adapter: the
// service validates manifests with dataset/, which accepts only s3:// source-refs, while the
// CLI also reads local paths. Stateless and thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/classifier.h"
#include "engine/detector.h"

namespace osprey::cli {

// Where the bytes of `source_ref` live: `s3://bucket/key` maps to the local object store's file
// `<data_dir>/buckets/<bucket>/<key>/.osprey.obj` (empty if the key has empty, "." or ".."
// segments); any other reference is a path, relative to the manifest's folder unless absolute.
std::filesystem::path ResolveSourceRef(const std::string& source_ref,
                                       const std::filesystem::path& manifest_dir,
                                       const std::filesystem::path& data_dir);

struct LoadedManifest {
  engine::TrainingSet set;
  int total_lines = 0;
  // Lines that were not used, each with its 0-based line index and the reason.
  std::vector<std::string> skipped_lines;
};

// Parses `manifest`. Accepted label forms, per line: one or more `<attr>` / `<attr>-metadata`
// pairs of type groundtruth/image-classification (label = `class-name`; several pairs make the
// line multi-label), and SageMaker's multi-label form (`<attr>` a list of ids with a `class-map`
// in the metadata). Lines with no classification label (e.g. object detection) are skipped.
// If `known_labels` is non-empty, labels are given those ids (lines with other labels are
// skipped); otherwise the labels are the sorted set found. Returns kNotFound if the file cannot
// be read and kInvalidArgument if it has no usable line.
Result<LoadedManifest> LoadClassificationManifest(const std::filesystem::path& manifest,
                                                  const std::filesystem::path& data_dir,
                                                  const std::vector<std::string>& known_labels = {});

enum class ManifestKind { kClassification, kObjectDetection };

// The task of `manifest`, decided by its first line that has a typed label attribute: object
// detection if one of that line's attributes has `-metadata` type groundtruth/object-detection,
// else classification. A manifest with no such line counts as classification, whose loader then
// reports what is wrong.
// Returns kNotFound if the file cannot be read.
Result<ManifestKind> DetectManifestKind(const std::filesystem::path& manifest);

struct LoadedDetectionManifest {
  engine::DetectionTrainingSet set;
  // Boxes that were not used (labels unknown to the model), one message per image.
  std::vector<std::string> skipped_lines;
};

// Parses an object-detection manifest with engine::LoadDetectionManifest and resolves every
// source-ref with ResolveSourceRef. If `known_labels` is non-empty, they are the label list and
// boxes with other labels are dropped (and listed); otherwise the labels are the sorted set
// found. Returns kNotFound if the file cannot be read and kInvalidArgument, naming the line, for
// a malformed line or a line without an object-detection attribute (the whole file is refused,
// unlike classification, because the engine's reader works that way), or when no image is left.
Result<LoadedDetectionManifest> LoadDetectionManifestFile(
    const std::filesystem::path& manifest, const std::filesystem::path& data_dir,
    const std::vector<std::string>& known_labels = {});

}  // namespace osprey::cli

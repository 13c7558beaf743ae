// Reads an image-level classification manifest (Ground Truth JSON Lines, rekognition-api.md
// §8.1) into an engine::TrainingSet for `osprey train` / `osprey evaluate`.
// A stop-gap adapter until dataset/manifest.h lands: it extracts only source-ref and labels.
// Stateless and thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/classifier.h"

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

}  // namespace osprey::cli

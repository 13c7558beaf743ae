#include "cli/training_set_loader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

namespace osprey::cli {
namespace {

constexpr std::string_view kMetadataSuffix = "-metadata";

// The label names of one manifest line, or an error message.
Result<std::vector<std::string>> LineLabels(const nlohmann::json& line) {
  std::vector<std::string> names;
  for (const auto& [key, value] : line.items()) {
    if (key == "source-ref" || key.ends_with(kMetadataSuffix)) continue;
    auto metadata_it = line.find(key + std::string(kMetadataSuffix));
    if (metadata_it == line.end() || !metadata_it->is_object()) continue;
    const nlohmann::json& metadata = *metadata_it;
    std::string type = metadata.value("type", "");
    if (type != "groundtruth/image-classification" &&
        type != "groundtruth/image-classification-multilabel") {
      continue;
    }
    if (value.is_array() && metadata.contains("class-map")) {
      for (const auto& id : value) {
        std::string id_text = id.is_string() ? id.get<std::string>() : id.dump();
        auto name = metadata["class-map"].find(id_text);
        if (name == metadata["class-map"].end() || !name->is_string()) {
          return Status::InvalidArgument("class id " + id_text + " missing from class-map");
        }
        names.push_back(name->get<std::string>());
      }
    } else if (metadata.contains("class-name") && metadata["class-name"].is_string()) {
      names.push_back(metadata["class-name"].get<std::string>());
    } else {
      return Status::InvalidArgument("attribute '" + key + "' has no class-name");
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

std::filesystem::path ResolveSourceRef(const std::string& source_ref,
                                       const std::filesystem::path& manifest_dir,
                                       const std::filesystem::path& data_dir) {
  constexpr std::string_view kS3 = "s3://";
  if (source_ref.starts_with(kS3)) {
    std::string rest = source_ref.substr(kS3.size());
    size_t slash = rest.find('/');
    std::string bucket = rest.substr(0, slash);
    std::string key = slash == std::string::npos ? "" : rest.substr(slash + 1);
    // The local object store keeps each object as a directory named by the key's segments,
    // holding the bytes in ".osprey.obj" (storage/local_object_store.h). Segments that could
    // leave the bucket are refused by returning an empty path (reported as missing).
    std::filesystem::path path = data_dir / "buckets" / bucket;
    size_t start = 0;
    while (start <= key.size()) {
      size_t end = key.find('/', start);
      std::string segment = key.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (segment.empty() || segment == "." || segment == ".." || bucket.empty() ||
          bucket == "." || bucket == "..") {
        return {};
      }
      path /= segment;
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return path / ".osprey.obj";
  }
  std::filesystem::path path(source_ref);
  return path.is_absolute() ? path : manifest_dir / path;
}

Result<LoadedManifest> LoadClassificationManifest(const std::filesystem::path& manifest,
                                                  const std::filesystem::path& data_dir,
                                                  const std::vector<std::string>& known_labels) {
  std::ifstream in(manifest);
  if (!in) return Status::NotFound("cannot read manifest " + manifest.string());
  std::filesystem::path manifest_dir = manifest.parent_path();
  LoadedManifest loaded;
  std::vector<std::pair<std::string, std::vector<std::string>>> lines;  // source-ref, labels
  std::string text;
  for (int line_idx = 0; std::getline(in, text); ++line_idx) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++loaded.total_lines;
    auto skip = [&](const std::string& why) {
      loaded.skipped_lines.push_back("line " + std::to_string(line_idx) + ": " + why);
    };
    nlohmann::json line = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!line.is_object()) {
      skip("not a JSON object");
      continue;
    }
    auto source_ref = line.find("source-ref");
    if (source_ref == line.end() || !source_ref->is_string()) {
      skip("no source-ref");
      continue;
    }
    auto names = LineLabels(line);
    if (!names.ok()) {
      skip(names.status().message());
      continue;
    }
    if (names->empty()) {
      skip("no image-level classification label");
      continue;
    }
    lines.emplace_back(source_ref->get<std::string>(), std::move(names).value());
  }
  engine::TrainingSet& set = loaded.set;
  if (known_labels.empty()) {
    std::set<std::string> all;
    for (const auto& [ref, names] : lines) all.insert(names.begin(), names.end());
    set.labels.assign(all.begin(), all.end());
  } else {
    set.labels = known_labels;
  }
  std::map<std::string, int> ids;
  for (size_t label_idx = 0; label_idx < set.labels.size(); ++label_idx) {
    ids[set.labels[label_idx]] = static_cast<int>(label_idx);
  }
  for (const auto& [ref, names] : lines) {
    engine::LabelledImage image{ref, ResolveSourceRef(ref, manifest_dir, data_dir), {}};
    bool known = true;
    for (const std::string& name : names) {
      auto it = ids.find(name);
      known = known && it != ids.end();
      if (known) image.labels.push_back(it->second);
    }
    if (!known) {
      loaded.skipped_lines.push_back(ref + ": label unknown to the model");
      continue;
    }
    set.multi_label = set.multi_label || image.labels.size() > 1;
    set.images.push_back(std::move(image));
  }
  if (set.images.empty()) {
    return Status::InvalidArgument("manifest " + manifest.string() +
                                   " has no usable image-level classification line");
  }
  return loaded;
}

Result<ManifestKind> DetectManifestKind(const std::filesystem::path& manifest) {
  std::ifstream in(manifest);
  if (!in) return Status::NotFound("cannot read manifest " + manifest.string());
  std::string text;
  while (std::getline(in, text)) {
    nlohmann::json line = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!line.is_object()) continue;
    bool labelled = false;
    for (const auto& [key, value] : line.items()) {
      if (key.ends_with(kMetadataSuffix)) continue;
      auto metadata = line.find(key + std::string(kMetadataSuffix));
      if (metadata == line.end() || !metadata->is_object()) continue;
      const auto type = metadata->find("type");
      if (type == metadata->end() || !type->is_string()) continue;
      // Ground Truth's bounding-box job writes this type (rekognition-api.md §8.2); a line that
      // also has image-level labels is still a detection line.
      if (*type == "groundtruth/object-detection") return ManifestKind::kObjectDetection;
      labelled = true;
    }
    if (labelled) return ManifestKind::kClassification;
  }
  return ManifestKind::kClassification;
}

Result<LoadedDetectionManifest> LoadDetectionManifestFile(
    const std::filesystem::path& manifest, const std::filesystem::path& data_dir,
    const std::vector<std::string>& known_labels) {
  std::filesystem::path manifest_dir = manifest.parent_path();
  OSPREY_ASSIGN_OR_RETURN(engine::DetectionTrainingSet set,
                          engine::LoadDetectionManifest(manifest, manifest_dir, known_labels));
  LoadedDetectionManifest loaded;
  // The engine's reader strips s3:// prefixes and looks under the manifest's folder; the CLI
  // reads s3:// objects from the local object store instead, as for classification.
  for (engine::DetectionImage& image : set.images) {
    image.path = ResolveSourceRef(image.source_ref, manifest_dir, data_dir);
  }
  if (!known_labels.empty() && set.labels.size() > known_labels.size()) {
    int known = static_cast<int>(known_labels.size());
    for (engine::DetectionImage& image : set.images) {
      std::set<std::string> unknown;
      std::erase_if(image.boxes, [&](const engine::AnnotatedBox& box) {
        if (box.label < known) return false;
        unknown.insert(set.labels[static_cast<size_t>(box.label)]);
        return true;
      });
      if (unknown.empty()) continue;
      std::string names;
      for (const std::string& name : unknown) names += (names.empty() ? "" : ", ") + name;
      loaded.skipped_lines.push_back(
          image.source_ref + ": boxes of labels unknown to the model ignored (" + names + ")");
    }
    set.labels = known_labels;
  }
  if (set.images.empty()) {
    return Status::InvalidArgument("manifest " + manifest.string() + " has no image");
  }
  loaded.set = std::move(set);
  return loaded;
}

}  // namespace osprey::cli

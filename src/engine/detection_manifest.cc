// LoadDetectionManifest: Ground Truth object-detection manifests (rekognition-api.md §8.2) to a
// DetectionTrainingSet, for the CLI, tests and benchmarks. The service validates manifests on
// import with dataset/; this reader trusts the line format and only checks what it uses.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "engine/detector.h"

namespace osprey::engine {
namespace {

// `s3://bucket/a/b/c.jpg` -> the longest suffix (`a/b/c.jpg`, `b/c.jpg`, `c.jpg`) that exists
// under `root`, so a manifest written for a bucket can be read next to a local copy.
std::filesystem::path ResolveSource(const std::string& source_ref, const std::filesystem::path& root) {
  std::string ref = source_ref;
  if (ref.rfind("s3://", 0) == 0) {
    size_t slash = ref.find('/', 5);
    ref = slash == std::string::npos ? "" : ref.substr(slash + 1);
    std::filesystem::path relative(ref);
    for (auto it = relative.begin(); it != relative.end(); ++it) {
      std::filesystem::path candidate = root;
      for (auto rest = it; rest != relative.end(); ++rest) candidate /= *rest;
      if (std::filesystem::exists(candidate)) return candidate;
    }
    return root / relative;
  }
  std::filesystem::path path(ref);
  return path.is_absolute() ? path : root / path;
}

}  // namespace

Result<DetectionTrainingSet> LoadDetectionManifest(const std::filesystem::path& manifest,
                                                   const std::filesystem::path& image_root,
                                                   const std::vector<std::string>& labels) {
  std::ifstream in(manifest);
  if (!in) return Status::NotFound("cannot read manifest " + manifest.string());
  struct RawBox {
    std::string label;
    Box box;
  };
  std::vector<std::pair<DetectionImage, std::vector<RawBox>>> rows;
  std::set<std::string> names;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = manifest.string() + " line " + std::to_string(line_number);
    try {
      nlohmann::json entry = nlohmann::json::parse(line);
      const nlohmann::json* attribute = nullptr;
      const nlohmann::json* metadata = nullptr;
      for (auto& [key, value] : entry.items()) {
        if (value.is_object() && value.contains("annotations") && entry.contains(key + "-metadata")) {
          attribute = &value;
          metadata = &entry.at(key + "-metadata");
          break;
        }
      }
      if (!attribute) return Status::InvalidArgument(where + ": no object-detection attribute");
      DetectionImage image;
      image.source_ref = entry.at("source-ref").get<std::string>();
      image.path = ResolveSource(image.source_ref, image_root);
      if (attribute->contains("image_size") && !attribute->at("image_size").empty()) {
        const auto& size = attribute->at("image_size").at(0);
        image.width = size.at("width").get<int>();
        image.height = size.at("height").get<int>();
      }
      const auto& class_map = metadata->at("class-map");
      std::vector<RawBox> boxes;
      for (const auto& annotation : attribute->at("annotations")) {
        std::string id = std::to_string(annotation.at("class_id").get<int>());
        if (!class_map.contains(id)) return Status::InvalidArgument(where + ": class " + id + " is not in class-map");
        RawBox raw{class_map.at(id).get<std::string>(),
                   {annotation.at("left").get<float>(), annotation.at("top").get<float>(),
                    annotation.at("width").get<float>(), annotation.at("height").get<float>()}};
        names.insert(raw.label);
        boxes.push_back(raw);
      }
      rows.emplace_back(std::move(image), std::move(boxes));
    } catch (const nlohmann::json::exception& e) {
      return Status::InvalidArgument(where + ": " + e.what());
    }
  }
  DetectionTrainingSet set;
  set.labels = labels;
  for (const std::string& name : names) {  // std::set: sorted
    if (std::find(set.labels.begin(), set.labels.end(), name) == set.labels.end()) set.labels.push_back(name);
  }
  std::map<std::string, int> index;
  for (size_t label = 0; label < set.labels.size(); ++label) index[set.labels[label]] = static_cast<int>(label);
  for (auto& [image, boxes] : rows) {
    for (const RawBox& raw : boxes) image.boxes.push_back({index.at(raw.label), raw.box});
    set.images.push_back(std::move(image));
  }
  return set;
}

}  // namespace osprey::engine

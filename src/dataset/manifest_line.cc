#include "dataset/manifest_line.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "common/text.h"
#include "dataset/manifest_errors.h"
#include "storage/object_store.h"

namespace osprey::dataset {
namespace {

using nlohmann::json;

constexpr std::string_view kMetadataSuffix = "-metadata";
constexpr std::string_view kClassificationType = "groundtruth/image-classification";
constexpr std::string_view kDetectionType = "groundtruth/object-detection";

// nlohmann parses iteratively, but a hostile line of 50,000 '[' still costs a deep value
// tree: deep nesting is refused before parsing (common/text.h JsonTooDeep).

// JSON allows 1e999, which parses to infinity and serialises back as null: refuse it so that a
// stored entry re-imports to the same verdict.
bool IsFiniteNumber(const json& value) {
  return value.is_number() && std::isfinite(value.get<double>());
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Collects errors of one label attribute, each code once, and writes them into its metadata.
class AttributeErrors {
 public:
  void Add(std::string_view code) { codes_.insert(std::string(code)); }
  bool empty() const { return codes_.empty(); }
  // Attaches "cl-errors" to the metadata object if it is one; otherwise to the line.
  void AttachTo(json& metadata, ParsedLine& parsed, const std::string& metadata_key) const {
    if (codes_.empty()) return;
    json errors = json::array();
    for (const auto& code : codes_) {
      LineError e = MakeError(code);
      if (code == kErrUnsupportedUseCase) {
        // AWS's example text names the attribute (rekognition-api.md §8.4).
        e.message = "The use case type of the " + metadata_key +
                    " label attribute metadata is unsupported. Check the type field.";
      }
      errors.push_back({{"code", e.code}, {"message", e.message}});
    }
    if (metadata.is_object()) {
      metadata["cl-errors"] = std::move(errors);
      parsed.attribute_errors = true;
    } else {
      for (const auto& code : codes_) AddLineError(parsed, code);
    }
  }

 private:
  std::set<std::string> codes_;
};

// Fields every label-attribute metadata object must carry (§8.1, §8.2).
bool CommonMetadataValid(const json& metadata) {
  auto human = metadata.find("human-annotated");
  auto date = metadata.find("creation-date");
  return human != metadata.end() && human->is_string() &&
         (*human == "yes" || *human == "no") && date != metadata.end() && date->is_string();
}

bool LabelNameValid(const json& name, const ManifestLimits& limits, AttributeErrors& errors) {
  if (!name.is_string() || name.get_ref<const std::string&>().empty()) {
    errors.Add(kErrMetadataFormat);
    return false;
  }
  if (CodePoints(name.get_ref<const std::string&>()) > limits.max_label_name_chars) {
    errors.Add(kErrLabelNameLength);
    return false;
  }
  return true;
}

// Image-level classification: "<attr>": <int>, "<attr>-metadata": {class-name, confidence...}.
void CheckClassification(const json& value, const json& metadata, const ManifestLimits& limits,
                         AttributeErrors& errors, std::map<std::string, bool>& labels) {
  if (!value.is_number_integer()) errors.Add(kErrAttributeFormat);
  auto confidence = metadata.find("confidence");
  if (confidence == metadata.end() || !IsFiniteNumber(*confidence) ||
      !CommonMetadataValid(metadata)) {
    errors.Add(kErrMetadataFormat);
  }
  auto name = metadata.find("class-name");
  if (name == metadata.end()) {
    errors.Add(kErrMetadataFormat);
    return;
  }
  if (!LabelNameValid(*name, limits, errors) || !errors.empty()) return;
  labels.emplace(name->get<std::string>(), false);
}

struct ImageSize {
  double width = 0;
  double height = 0;
};

// A well-formed image_size: one {width, height, depth} of integers, the sides in 1..INT_MAX.
// Larger is no image, and converting it to the entry's int sides was undefined behaviour
// (UBSan in manifest_line_fuzzer: fuzz_corpus/image_size_over_int_max.jsonl).
std::optional<ImageSize> ReadImageSize(const json& value) {
  auto sizes = value.find("image_size");
  if (sizes == value.end() || !sizes->is_array() || sizes->size() != 1) return std::nullopt;
  const json& size = (*sizes)[0];
  if (!size.is_object()) return std::nullopt;
  auto w = size.find("width");
  auto h = size.find("height");
  auto d = size.find("depth");
  if (w == size.end() || h == size.end() || d == size.end() || !w->is_number_integer() ||
      !h->is_number_integer() || !d->is_number_integer() || *w <= 0 || *h <= 0 ||
      *w > std::numeric_limits<int>::max() || *h > std::numeric_limits<int>::max()) {
    return std::nullopt;
  }
  return ImageSize{w->get<double>(), h->get<double>()};
}

// One annotation; returns the label of a valid box, or records why it is not valid.
std::optional<ManifestBox> CheckAnnotation(const json& annotation, const json* object,
                                           const json& class_map, const ImageSize& image,
                                           const ManifestLimits& limits, AttributeErrors& errors) {
  if (!annotation.is_object()) {
    errors.Add(kErrAttributeFormat);
    return std::nullopt;
  }
  ManifestBox box;
  const char* fields[] = {"left", "top", "width", "height"};
  double* targets[] = {&box.left, &box.top, &box.width, &box.height};
  for (size_t field_idx = 0; field_idx < 4; ++field_idx) {
    auto it = annotation.find(fields[field_idx]);
    if (it == annotation.end() || !IsFiniteNumber(*it)) {
      errors.Add(kErrAttributeFormat);
      return std::nullopt;
    }
    *targets[field_idx] = it->get<double>();
  }
  if (object == nullptr || !object->is_object() || !object->contains("confidence") ||
      !IsFiniteNumber((*object)["confidence"])) {
    errors.Add(kErrMissingConfidence);
    return std::nullopt;
  }
  auto class_id = annotation.find("class_id");
  if (class_id == annotation.end() || !class_id->is_number_integer()) {
    errors.Add(kErrAttributeFormat);
    return std::nullopt;
  }
  // The integer's own digits: get<int64_t>() would turn 18446744073709551615 into "-1".
  auto name = class_map.find(class_id->dump());
  if (name == class_map.end()) {
    errors.Add(kErrMissingClassMapId);
    return std::nullopt;
  }
  if (!LabelNameValid(*name, limits, errors)) return std::nullopt;
  if (box.left < 0 || box.top < 0 || box.width <= 0 || box.height <= 0 ||
      box.left + box.width > image.width || box.top + box.height > image.height) {
    errors.Add(kErrInvalidBoundingBox);
    return std::nullopt;
  }
  // "> 1x1 px after resizing so that the longest side is <= 1280 px" (§9.1).
  double scale = std::min(1.0, limits.box_resize_longest_side / std::max(image.width, image.height));
  if (box.width * scale <= 1.0 || box.height * scale <= 1.0) {
    errors.Add(kErrBoundingBoxTooSmall);
    return std::nullopt;
  }
  box.label = name->get<std::string>();
  return box;
}

// Object detection: "<attr>": {image_size, annotations}, "<attr>-metadata": {objects, class-map}.
bool CheckDetection(const json& value, const json& metadata, const ManifestLimits& limits,
                    AttributeErrors& errors, std::map<std::string, bool>& labels,
                    ParsedLine& parsed) {
  std::optional<ImageSize> image = value.is_object() ? ReadImageSize(value) : std::nullopt;
  const json* annotations = value.is_object() && value.contains("annotations")
                                ? &value["annotations"] : nullptr;
  if (!image || annotations == nullptr || !annotations->is_array()) {
    errors.Add(kErrAttributeFormat);
    return false;
  }
  parsed.declared_sizes.push_back(
      {static_cast<int>(image->width), static_cast<int>(image->height)});
  auto objects = metadata.find("objects");
  auto class_map = metadata.find("class-map");
  if (objects == metadata.end() || !objects->is_array() || class_map == metadata.end() ||
      !class_map->is_object() || !CommonMetadataValid(metadata)) {
    errors.Add(kErrMetadataFormat);
    return false;
  }
  if (annotations->size() > limits.max_boxes_per_image) {
    errors.Add(kErrTooManyBoundingBoxes);
    return false;
  }
  size_t valid = 0;
  for (size_t box_idx = 0; box_idx < annotations->size(); ++box_idx) {
    const json* object = box_idx < objects->size() ? &(*objects)[box_idx] : nullptr;
    std::optional<ManifestBox> box =
        CheckAnnotation((*annotations)[box_idx], object, *class_map, *image, limits, errors);
    if (!box) continue;
    ++valid;
    labels[box->label] = true;
    parsed.entry.boxes.push_back(std::move(*box));
  }
  if (!annotations->empty() && valid == 0) errors.Add(kErrNoValidAnnotations);
  parsed.entry.image_width = static_cast<int>(image->width);
  parsed.entry.image_height = static_cast<int>(image->height);
  parsed.has_detection = true;
  return valid > 0 || annotations->empty();
}

// Checks one attribute/metadata pair; returns true if it is a valid label attribute.
bool CheckAttribute(const std::string& key, ParsedLine& parsed, const ManifestLimits& limits,
                    std::map<std::string, bool>& labels) {
  const std::string metadata_key = key + std::string(kMetadataSuffix);
  const json& value = parsed.document[key];
  json& metadata = parsed.document[metadata_key];
  AttributeErrors errors;
  bool valid = false;
  if (!metadata.is_object() || !metadata.contains("type") || !metadata["type"].is_string()) {
    errors.Add(kErrMetadataFormat);
  } else if (metadata["type"] == kClassificationType) {
    std::map<std::string, bool> found;
    CheckClassification(value, metadata, limits, errors, found);
    valid = errors.empty();
    if (valid) labels.insert(found.begin(), found.end());
  } else if (metadata["type"] == kDetectionType) {
    valid = CheckDetection(value, metadata, limits, errors, labels, parsed);
  } else {
    errors.Add(kErrUnsupportedUseCase);
  }
  errors.AttachTo(metadata, parsed, metadata_key);
  return valid;
}

// Removes the fields the service adds, so that an exported entry can be imported again.
void StripServiceFields(json& document) {
  document.erase("cl-metadata");
  document.erase("cl-errors");
  for (auto& [key, value] : document.items()) {
    if (EndsWith(key, kMetadataSuffix) && value.is_object()) value.erase("cl-errors");
  }
}

bool ReadSourceRef(ParsedLine& parsed) {
  auto ref = parsed.document.find("source-ref");
  if (ref == parsed.document.end()) {
    parsed.drop_code = std::string(kErrMissingSourceRef);
    return false;
  }
  std::optional<std::pair<std::string, std::string>> split;
  if (ref->is_string()) split = ParseS3Uri(ref->get_ref<const std::string&>());
  if (!split) {
    parsed.drop_code = std::string(kErrInvalidSourceRef);
    return false;
  }
  parsed.entry.source_ref = ref->get<std::string>();
  parsed.entry.bucket = std::move(split->first);
  parsed.entry.key = std::move(split->second);
  return true;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> ParseS3Uri(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  if (uri.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  uri.remove_prefix(kScheme.size());
  size_t slash = uri.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string bucket(uri.substr(0, slash));
  std::string key(uri.substr(slash + 1));
  if (!storage::ValidateBucketName(bucket).ok() || !storage::ValidateObjectKey(key).ok()) {
    return std::nullopt;
  }
  // Keys that would walk the store's folders are hostile, not images (SECURITY §6 item 8).
  if (key.find('\\') != std::string::npos) return std::nullopt;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = std::min(key.find('/', start), key.size());
    std::string_view segment = std::string_view(key).substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return std::nullopt;
    start = end + 1;
  }
  return std::make_pair(std::move(bucket), std::move(key));
}

ParsedLine ParseManifestLine(std::string_view line, const ManifestLimits& limits) {
  ParsedLine parsed;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > limits.max_line_bytes) {
    parsed.drop_code = std::string(kErrLineTooLong);
    return parsed;
  }
  if (JsonTooDeep(line, limits.max_json_depth)) {
    parsed.drop_code = std::string(kErrInvalidJsonLine);
    return parsed;
  }
  parsed.document = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!parsed.document.is_object()) {
    parsed.drop_code = std::string(kErrInvalidJsonLine);
    return parsed;
  }
  StripServiceFields(parsed.document);
  if (!ReadSourceRef(parsed)) return parsed;

  std::vector<std::string> attributes;
  bool orphan = false;
  for (const auto& [key, value] : parsed.document.items()) {
    if (key == "source-ref") continue;
    if (EndsWith(key, kMetadataSuffix)) {
      orphan |= !parsed.document.contains(key.substr(0, key.size() - kMetadataSuffix.size()));
    } else if (parsed.document.contains(key + std::string(kMetadataSuffix))) {
      attributes.push_back(key);
    } else {
      orphan = true;
    }
  }
  std::map<std::string, bool> labels;  // name -> has_box
  size_t valid_attributes = 0;
  for (const auto& key : attributes) {
    if (CheckAttribute(key, parsed, limits, labels)) ++valid_attributes;
  }
  if (orphan) AddLineError(parsed, kErrNoLabelAttributes);
  if (!attributes.empty() && valid_attributes == 0) AddLineError(parsed, kErrNoValidAttributes);
  for (auto& [name, has_box] : labels) parsed.entry.labels.push_back({name, has_box});
  return parsed;
}

void AddLineError(ParsedLine& parsed, std::string_view code) {
  for (const auto& existing : parsed.line_errors) {
    if (existing.code == code) return;
  }
  parsed.line_errors.push_back(MakeError(code));
}

void FinishLine(ParsedLine& parsed) {
  DatasetEntry& entry = parsed.entry;
  entry.is_labeled = !entry.labels.empty();
  entry.has_errors = parsed.attribute_errors || !parsed.line_errors.empty();
  json document = parsed.document;
  document["cl-metadata"] = {{"is_labeled", entry.is_labeled}};
  if (!parsed.line_errors.empty()) {
    json errors = json::array();
    for (const auto& e : parsed.line_errors) {
      errors.push_back({{"code", e.code}, {"message", e.message}});
    }
    document["cl-errors"] = std::move(errors);
  }
  entry.line = document.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace osprey::dataset

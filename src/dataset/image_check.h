// Checks one manifest image in the object store from its size and header alone (no decoding,
// so a decompression bomb costs a few KiB of reads): PNG/JPEG, at most 15 MB, 64..4096 px per
// side, aspect ratio at most 20:1 (rekognition-api.md §9.1). Thread-safe (the store is).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dataset/manifest_types.h"
#include "storage/object_store.h"

namespace osprey::dataset {

struct ImageCheck {
  std::optional<std::string_view> error;  // ERROR_INVALID_IMAGE / ERROR_INVALID_IMAGE_DIMENSION
  int width = 0;
  int height = 0;
};

// `has_boxes` picks AWS's code for a bad size: ERROR_INVALID_IMAGE_DIMENSION is reported for
// images with bounding boxes, ERROR_INVALID_IMAGE otherwise (§9.3). A missing object, an
// unreadable one, one over the byte limit or a non-PNG/JPEG header is ERROR_INVALID_IMAGE.
ImageCheck CheckImage(const storage::ObjectStore& store, const std::string& bucket,
                      const std::string& key, bool has_boxes, const ManifestLimits& limits);

}  // namespace osprey::dataset

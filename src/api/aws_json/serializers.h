// Serialisers from service structs to AWS JSON (members omitted when empty, never null;
// timestamps as epoch seconds with milliseconds, rekognition-api.md §1.3-1.4).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "service/dataset_types.h"
#include "service/types.h"

namespace osprey::api {

// 1690556751958 ms -> 1690556751.958
nlohmann::json EpochSeconds(int64_t millis);
nlohmann::json ToJson(const service::DatasetMetadata& dataset);
nlohmann::json ToJson(const service::ProjectDescription& project);
nlohmann::json ToJson(const service::DatasetDescription& dataset);
nlohmann::json ToJson(const service::DatasetLabelDescription& label);

}  // namespace osprey::api

// JSON <-> model-version structs: S3 objects, manifest assets, and ProjectVersionDescription.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "api/request_fields.h"
#include "metadata/version_store.h"

namespace osprey::api {

// Reads an S3Object structure {"Bucket","Name"[,"Version"]}; both members required here.
std::optional<metadata::S3Location> ReadS3Object(const nlohmann::json& object,
                                                 const std::string& path, RequestFields& parent);
// Reads {"Assets":[{"GroundTruthManifest":{"S3Object":{...}}}]} (at most one asset).
std::optional<metadata::S3Location> ReadAssets(const nlohmann::json& data,
                                               const std::string& path, RequestFields& parent);

// Reads the required OutputConfig member {"S3Bucket", "S3KeyPrefix"?} into bucket/prefix.
void ReadOutputConfig(RequestFields& fields, std::string* bucket, std::string* prefix);

nlohmann::json S3ObjectJson(const metadata::S3Location& location);
nlohmann::json AssetsJson(const metadata::S3Location& location);
// The ProjectVersionDescription of a version (rekognition-api.md §3.12, §11.2).
nlohmann::json ToJson(const metadata::VersionRecord& version);

}  // namespace osprey::api

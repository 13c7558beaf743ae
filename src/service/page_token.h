// Opaque pagination tokens (NextToken). A token names the kind of listing and the last row
// returned; clients must treat it as opaque. Never echoes the input token (botocore would stop).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace osprey::service {

std::string EncodePageToken(std::string_view kind, int64_t after_id);
// nullopt if `token` was not issued by EncodePageToken for this kind.
std::optional<int64_t> DecodePageToken(std::string_view kind, std::string_view token);

}  // namespace osprey::service

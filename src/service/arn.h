// Rekognition ARNs (rekognition-api.md §2). The trailing number is the creation time in epoch
// milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace osprey::service {

std::string ProjectArn(std::string_view region, std::string_view account, std::string_view name,
                       int64_t creation_ms);

struct ParsedArn {
  std::string region;
  std::string account;
  std::string project_name;
  std::string kind;           // "project", "version" or "dataset"
  std::string child_name;     // version name or "train"/"test"
  int64_t creation_ms = 0;
};

// Parses a project, version or dataset ARN; nullopt if it matches none of the patterns.
std::optional<ParsedArn> ParseArn(std::string_view arn);

}  // namespace osprey::service

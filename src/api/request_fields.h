// RequestFields: reads the members of one JSON request object and checks each against the API
// model's constraints (required, type, length, range, pattern, enum). Clients check only
// types, required members and minimums (rekognition-api.md §1.8), so everything else is ours.
// The first violation is kept and reported as kInvalidArgument with an AWS-style message.
// Unknown members are ignored, so newer clients' extra fields do not break requests.
// Not thread-safe; one instance per request.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "common/text.h"  // CodePoints

namespace osprey::api {

// Length limits count Unicode code points, as the model does.
struct StringRule {
  size_t min = 0;
  size_t max = SIZE_MAX;
  const std::regex* pattern = nullptr;  // whole-string match (rekognition-api.md §7)
  const char* pattern_text = "";        // for the message
  // Custom check for patterns std::regex cannot express (Unicode classes); true = valid.
  bool (*check)(std::string_view) = nullptr;
  std::vector<std::string_view> allowed;  // enum values; empty = any
};

class RequestFields {
 public:
  // `path` prefixes member names in messages ("datasetSource.groundTruthManifest").
  explicit RequestFields(const nlohmann::json& object, std::string path = "");

  std::optional<std::string> String(std::string_view name, bool required, const StringRule& rule);
  std::optional<int64_t> Integer(std::string_view name, bool required, int64_t min, int64_t max);
  std::optional<double> Float(std::string_view name, bool required, double min, double max);
  std::optional<bool> Bool(std::string_view name, bool required);
  std::optional<std::vector<std::string>> StringList(std::string_view name, bool required,
                                                     size_t min_items, size_t max_items,
                                                     const StringRule& item);
  std::optional<std::map<std::string, std::string>> StringMap(std::string_view name, bool required,
                                                              size_t min_items, size_t max_items,
                                                              const StringRule& key,
                                                              const StringRule& value);
  // A nested structure; nullptr if absent (or of the wrong type, which is recorded).
  const nlohmann::json* Object(std::string_view name, bool required);
  // Records a violation found by the caller (e.g. mutually exclusive members).
  void Fail(std::string message);
  // Merges a nested reader's outcome.
  void Merge(const RequestFields& nested);

  const Status& status() const { return status_; }
  std::string MemberPath(std::string_view name) const;

 private:
  const nlohmann::json* Find(std::string_view name, bool required);
  bool CheckString(std::string_view member, const std::string& value, const StringRule& rule);

  const nlohmann::json& object_;
  std::string path_;
  Status status_;
};

// Tag keys/values: [\p{L}\p{Z}\p{N}_.:/=+\-@]* where every non-ASCII code point counts as a
// letter (we have no Unicode tables; documented in docs/design/api.md). Keys must not start
// with "aws:".
bool IsValidTagKey(std::string_view s);
bool IsValidTagValue(std::string_view s);

}  // namespace osprey::api

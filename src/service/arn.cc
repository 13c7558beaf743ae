#include "service/arn.h"

#include <regex>

namespace osprey::service {

std::string ProjectArn(std::string_view region, std::string_view account, std::string_view name,
                       int64_t creation_ms) {
  return "arn:aws:rekognition:" + std::string(region) + ":" + std::string(account) + ":project/" +
         std::string(name) + "/" + std::to_string(creation_ms);
}

std::optional<ParsedArn> ParseArn(std::string_view arn) {
  // The model's patterns (§2), anchored.
  static const std::regex kPattern(
      R"(^arn:[a-z\d-]+:rekognition:([a-z\d-]+):(\d{12}):project/([a-zA-Z0-9_.\-]{1,255})/)"
      R"((?:(version)/([a-zA-Z0-9_.\-]{1,255})/|(dataset)/(train|test)/)?([0-9]{1,18})$)");
  std::cmatch m;
  if (!std::regex_match(arn.begin(), arn.end(), m, kPattern)) return std::nullopt;
  ParsedArn out;
  out.region = m[1];
  out.account = m[2];
  out.project_name = m[3];
  if (m[4].matched) {
    out.kind = "version";
    out.child_name = m[5];
  } else if (m[6].matched) {
    out.kind = "dataset";
    out.child_name = m[7];
  } else {
    out.kind = "project";
  }
  out.creation_ms = std::stoll(m[8]);
  return out;
}

}  // namespace osprey::service

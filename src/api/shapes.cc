#include "api/shapes.h"

namespace osprey::api::shapes {
namespace {
constexpr char kNamePattern[] = R"([a-zA-Z0-9_.\-]+)";
constexpr char kProjectArnPattern[] =
    R"((^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project\/[a-zA-Z0-9_.\-]{1,255}\/[0-9]+$))";
constexpr char kVersionArnPattern[] =
    R"((^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project\/[a-zA-Z0-9_.\-]{1,255}\/version\/[a-zA-Z0-9_.\-]{1,255}\/[0-9]+$))";
constexpr char kDatasetArnPattern[] =
    R"((^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project\/[a-zA-Z0-9_.\-]{1,255}\/dataset\/(train|test)\/[0-9]+$))";
constexpr char kTagKeyPattern[] = R"(^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$)";
constexpr char kTagValuePattern[] = R"(^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$)";

StringRule Make(size_t min, size_t max, const std::regex* re, const char* text) {
  StringRule rule;
  rule.min = min;
  rule.max = max;
  rule.pattern = re;
  rule.pattern_text = text;
  return rule;
}
}  // namespace

const StringRule& ProjectName() {
  static const std::regex re(kNamePattern);
  static const StringRule rule = Make(1, 255, &re, kNamePattern);
  return rule;
}
const StringRule& VersionName() { return ProjectName(); }
const StringRule& ProjectArn() {
  static const std::regex re(kProjectArnPattern);
  static const StringRule rule = Make(20, 2048, &re, kProjectArnPattern);
  return rule;
}
const StringRule& ProjectVersionArn() {
  static const std::regex re(kVersionArnPattern);
  static const StringRule rule = Make(20, 2048, &re, kVersionArnPattern);
  return rule;
}
const StringRule& DatasetArn() {
  static const std::regex re(kDatasetArnPattern);
  static const StringRule rule = Make(20, 2048, &re, kDatasetArnPattern);
  return rule;
}
const StringRule& ResourceArn() {
  static const StringRule rule = Make(20, 2048, nullptr, "");
  return rule;
}
const StringRule& TagKey() {
  static const StringRule rule = [] {
    StringRule r = Make(1, 128, nullptr, kTagKeyPattern);
    r.check = &IsValidTagKey;
    return r;
  }();
  return rule;
}
const StringRule& TagValue() {
  static const StringRule rule = [] {
    StringRule r = Make(0, 256, nullptr, kTagValuePattern);
    r.check = &IsValidTagValue;
    return r;
  }();
  return rule;
}
const StringRule& PaginationToken() {
  static const StringRule rule = Make(0, 1024, nullptr, "");
  return rule;
}

const StringRule& S3Bucket() {
  static const std::regex re(R"([0-9A-Za-z\.\-_]*)");
  static const StringRule rule = Make(3, 255, &re, R"([0-9A-Za-z\.\-_]*)");
  return rule;
}
const StringRule& S3ObjectName() {
  static const StringRule rule = Make(1, 1024, nullptr, "");
  return rule;
}
const StringRule& S3KeyPrefix() {
  static const StringRule rule = Make(0, 1024, nullptr, "");
  return rule;
}
const StringRule& PolicyName() {
  static const std::regex re(kNamePattern);
  static const StringRule rule = Make(1, 128, &re, kNamePattern);
  return rule;
}
const StringRule& PolicyRevisionId() {
  static const std::regex re("[0-9A-Fa-f]+");
  static const StringRule rule = Make(0, 64, &re, "[0-9A-Fa-f]+");
  return rule;
}
namespace {
// Tab, LF, CR and U+0020..U+00FF only (the model's pattern), on UTF-8 text.
bool IsPolicyText(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x80)) continue;
    // U+0080..U+00FF are two-byte sequences C2 xx / C3 xx.
    if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size()) {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}
}  // namespace
const StringRule& PolicyDocument() {
  static const StringRule rule = [] {
    StringRule r = Make(1, 2000, nullptr, R"([\u0009\u000A\u000D\u0020-\u00FF]+)");
    r.check = &IsPolicyText;
    return r;
  }();
  return rule;
}
const StringRule& KmsKeyId() {
  static const std::regex re(R"(^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$)");
  static const StringRule rule = Make(1, 2048, &re, R"(^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$)");
  return rule;
}
const StringRule& DatasetLabel() {
  static const StringRule rule = Make(1, 255, nullptr, ".{1,}");
  return rule;
}
const StringRule& QueryString() {
  static const StringRule rule = [] {
    StringRule r = Make(1, 2048, nullptr, R"(.*\S.*)");
    r.check = [](std::string_view s) {
      return s.find_first_not_of(" \t\n\r\f\v") != std::string_view::npos;
    };
    return r;
  }();
  return rule;
}
const StringRule& DatasetType() {
  static const StringRule rule{.allowed = {"TRAIN", "TEST"}};
  return rule;
}

}  // namespace osprey::api::shapes

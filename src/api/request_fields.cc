#include "api/request_fields.h"

#include <cmath>

namespace osprey::api {

bool IsValidTagValue(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) continue;
    if (std::isalnum(u) || u == ' ' || std::string_view("_.:/=+-@").find(c) != std::string_view::npos) {
      continue;
    }
    return false;
  }
  return true;
}

bool IsValidTagKey(std::string_view s) { return s.rfind("aws:", 0) != 0 && IsValidTagValue(s); }

RequestFields::RequestFields(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

std::string RequestFields::MemberPath(std::string_view name) const {
  std::string lower(name);
  if (!lower.empty()) lower[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[0])));
  return path_.empty() ? lower : path_ + "." + lower;
}

void RequestFields::Fail(std::string message) {
  if (status_.ok()) status_ = Status::InvalidArgument(std::move(message));
}

void RequestFields::Merge(const RequestFields& nested) {
  if (!nested.status().ok()) Fail(nested.status().message());
}

const nlohmann::json* RequestFields::Find(std::string_view name, bool required) {
  auto it = object_.find(std::string(name));
  if (it == object_.end() || it->is_null()) {
    if (required) Fail("1 validation error detected: Value null at '" + MemberPath(name) +
                       "' failed to satisfy constraint: Member must not be null");
    return nullptr;
  }
  return &*it;
}

bool RequestFields::CheckString(std::string_view member, const std::string& value,
                                const StringRule& rule) {
  auto violation = [&](const std::string& constraint) {
    std::string shown = value.size() > 256 ? value.substr(0, 256) + "..." : value;
    Fail("1 validation error detected: Value '" + shown + "' at '" + std::string(member) +
         "' failed to satisfy constraint: " + constraint);
    return false;
  };
  size_t length = CodePoints(value);
  if (length < rule.min || length > rule.max) {
    return violation("Member must have length between " + std::to_string(rule.min) + " and " +
                     (rule.max == SIZE_MAX ? std::string("infinity") : std::to_string(rule.max)));
  }
  if (rule.pattern != nullptr && !std::regex_match(value, *rule.pattern)) {
    return violation(std::string("Member must satisfy regular expression pattern: ") +
                     rule.pattern_text);
  }
  if (rule.check != nullptr && !rule.check(value)) {
    return violation(std::string("Member must satisfy regular expression pattern: ") +
                     rule.pattern_text);
  }
  if (!rule.allowed.empty()) {
    bool found = false;
    std::string list;
    for (auto allowed : rule.allowed) {
      found = found || allowed == value;
      list += (list.empty() ? "" : ", ") + std::string(allowed);
    }
    if (!found) return violation("Member must satisfy enum value set: [" + list + "]");
  }
  return true;
}

std::optional<std::string> RequestFields::String(std::string_view name, bool required,
                                                 const StringRule& rule) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Fail("Member '" + MemberPath(name) + "' must be a string.");
    return std::nullopt;
  }
  std::string value = v->get<std::string>();
  if (!CheckString(MemberPath(name), value, rule)) return std::nullopt;
  return value;
}

std::optional<int64_t> RequestFields::Integer(std::string_view name, bool required, int64_t min,
                                              int64_t max) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) {
    Fail("Member '" + MemberPath(name) + "' must be an integer.");
    return std::nullopt;
  }
  int64_t value = v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX
                      ? INT64_MAX
                      : v->get<int64_t>();
  if (value < min || value > max) {
    Fail("1 validation error detected: Value '" + std::to_string(value) + "' at '" +
         MemberPath(name) + "' failed to satisfy constraint: Member must have value between " +
         std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<double> RequestFields::Float(std::string_view name, bool required, double min,
                                           double max) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    Fail("Member '" + MemberPath(name) + "' must be a number.");
    return std::nullopt;
  }
  double value = v->get<double>();
  if (!std::isfinite(value) || value < min || value > max) {
    Fail("1 validation error detected: Value at '" + MemberPath(name) +
         "' failed to satisfy constraint: Member must have value between " +
         std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> RequestFields::Bool(std::string_view name, bool required) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    Fail("Member '" + MemberPath(name) + "' must be a boolean.");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::vector<std::string>> RequestFields::StringList(std::string_view name,
                                                                  bool required, size_t min_items,
                                                                  size_t max_items,
                                                                  const StringRule& item) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    Fail("Member '" + MemberPath(name) + "' must be a list.");
    return std::nullopt;
  }
  if (v->size() < min_items || v->size() > max_items) {
    Fail("1 validation error detected: Value at '" + MemberPath(name) +
         "' failed to satisfy constraint: Member must have length between " +
         std::to_string(min_items) + " and " + std::to_string(max_items));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const auto& element = (*v)[i];
    std::string member = MemberPath(name) + "." + std::to_string(i + 1) + ".member";
    if (!element.is_string()) {
      Fail("Member '" + member + "' must be a string.");
      return std::nullopt;
    }
    if (!CheckString(member, element.get<std::string>(), item)) return std::nullopt;
    out.push_back(element.get<std::string>());
  }
  return out;
}

std::optional<std::map<std::string, std::string>> RequestFields::StringMap(
    std::string_view name, bool required, size_t min_items, size_t max_items,
    const StringRule& key, const StringRule& value) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    Fail("Member '" + MemberPath(name) + "' must be a map.");
    return std::nullopt;
  }
  if (v->size() < min_items || v->size() > max_items) {
    Fail("1 validation error detected: Value at '" + MemberPath(name) +
         "' failed to satisfy constraint: Member must have length between " +
         std::to_string(min_items) + " and " + std::to_string(max_items));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, element] : v->items()) {
    std::string member = MemberPath(name) + "." + k;
    if (!CheckString(MemberPath(name) + ".key", k, key)) return std::nullopt;
    if (!element.is_string()) {
      Fail("Member '" + member + "' must be a string.");
      return std::nullopt;
    }
    if (!CheckString(member, element.get<std::string>(), value)) return std::nullopt;
    out[k] = element.get<std::string>();
  }
  return out;
}

const nlohmann::json* RequestFields::Object(std::string_view name, bool required) {
  const nlohmann::json* v = Find(name, required);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    Fail("Member '" + MemberPath(name) + "' must be a structure.");
    return nullptr;
  }
  return v;
}

}  // namespace osprey::api

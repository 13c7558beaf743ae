// Request-target parsing for the S3 REST surface: bucket and key (path style, or virtual-host
// style for "<bucket>.localhost" hosts), decoded query parameters, the Range header, and the
// URL encoding used for listings with encoding-type=url. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/http_server.h"

namespace osprey::s3 {

struct S3Target {
  std::string bucket;                        // decoded; "" for service-level requests (ListBuckets)
  std::string key;                           // decoded; "" for bucket-level requests
  std::map<std::string, std::string> query;  // decoded; a repeated name keeps its first value

  bool Has(std::string_view name) const { return query.count(std::string(name)) > 0; }
  // The decoded value, or "" if absent.
  std::string Param(std::string_view name) const;
};

// Percent-decodes `text` ('+' stays a plus, as SigV4 canonicalises it). nullopt for a bad escape.
std::optional<std::string> PercentDecode(std::string_view text);

// Splits the request into bucket, key and query. Path style "/bucket/key..." unless the Host header
// is "<bucket>.localhost[:port]" (virtual-host style; the AWS CLI 2.9 uses path style against a
// custom endpoint). nullopt for a bad percent-escape.
std::optional<S3Target> ParseTarget(const http::HttpRequest& request);

// RFC 3986 encoding of a key for encoding-type=url listings ('/' kept, as S3 does).
std::string UrlEncodeKey(std::string_view key);

struct ByteRange {
  int64_t start = 0;
  int64_t length = 0;
};

enum class RangeKind { kNone, kSatisfiable, kUnsatisfiable };

// Interprets a Range header against an object of `size` bytes: "bytes=a-b", "bytes=a-",
// "bytes=-n". Syntax S3 ignores (several ranges, other units, garbage) gives kNone (the whole
// object). https://www.rfc-editor.org/rfc/rfc9110#name-range-requests
RangeKind ParseRange(std::string_view header, int64_t size, ByteRange* range);

}  // namespace osprey::s3

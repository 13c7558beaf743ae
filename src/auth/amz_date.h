// Timestamps in the two forms SigV4 requests carry: ISO 8601 basic ("20150830T123600Z", the
// X-Amz-Date form) and the HTTP IMF-fixdate ("Sun, 30 Aug 2015 12:36:00 GMT", the Date header).
// Pure functions, thread-safe. Times are seconds since the Unix epoch, UTC, proleptic Gregorian.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace osprey::auth {

// Parses exactly "yyyymmddThhmmssZ". Returns nullopt for any other shape or an impossible date or
// time (month 13, 31 April, hour 24; leap second 60 is rejected too).
std::optional<int64_t> ParseAmzDate(std::string_view text);

// Formats as "yyyymmddThhmmssZ". REQUIRES: year of the result in 0..9999.
std::string FormatAmzDate(int64_t epoch_seconds);

// Parses an IMF-fixdate such as "Fri, 24 May 2013 00:00:00 GMT" (RFC 9110 section 5.6.7). The
// weekday is not cross-checked. The obsolete RFC 850 and asctime forms are not accepted.
std::optional<int64_t> ParseHttpDate(std::string_view text);

}  // namespace osprey::auth

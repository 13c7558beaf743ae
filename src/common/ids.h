// Identifier helpers: random request ids (UUID v4 text form).
#pragma once

#include <string>

namespace osprey {

// Returns a random RFC 4122 version-4 UUID such as "0f6a...-...". Thread-safe.
std::string NewUuid();

}  // namespace osprey

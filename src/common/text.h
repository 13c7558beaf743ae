// Small text helpers shared by the JSON readers (api/, dataset/). Standard library only.
#pragma once

#include <cstddef>
#include <string_view>

namespace osprey {

// Counts UTF-8 code points (continuation bytes are not counted). REQUIRES: valid UTF-8 for an
// exact answer; invalid input still returns a bounded count.
size_t CodePoints(std::string_view s);

// True if `json` nests arrays/objects deeper than max_depth. Brackets inside strings (with
// backslash escapes) do not count. Used to refuse hostile input before a JSON parser builds a
// deep value tree.
bool JsonTooDeep(std::string_view json, size_t max_depth);

}  // namespace osprey

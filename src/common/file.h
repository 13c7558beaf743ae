// Reading a whole file into memory. Standard library only.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace osprey {

// The file's bytes; kNotFound ("cannot read <path>") when it cannot be opened.
Result<std::string> ReadWholeFile(const std::filesystem::path& path);

}  // namespace osprey

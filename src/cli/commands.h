// Subcommand registration. Each Add*Command declares its flags (with help text, default and
// env var) on `app` and installs a callback that runs the command and stores its exit code
// in *exit_code. Only cli/ and tools/ parse flags and environment variables.
#pragma once

#include <CLI/CLI.hpp>

namespace osprey::cli {

void AddServeCommand(CLI::App& app, int* exit_code);

}  // namespace osprey::cli

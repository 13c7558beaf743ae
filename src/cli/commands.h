// Subcommand registration. Each Add*Command declares its flags (with help text, default and
// env var) on `app` and installs a callback that runs the command and stores its exit code
// in *exit_code. Only cli/ and tools/ parse flags and environment variables.
#pragma once

#include <CLI/CLI.hpp>

namespace osprey::cli {

void AddServeCommand(CLI::App& app, int* exit_code);
void AddTrainCommand(CLI::App& app, int* exit_code);     // cli/train_command.cc
void AddEvaluateCommand(CLI::App& app, int* exit_code);  // cli/evaluate_command.cc
void AddDetectCommand(CLI::App& app, int* exit_code);    // cli/detect_command.cc

}  // namespace osprey::cli

// Entry point of the `osprey` executable: parses the command line and runs a subcommand.
#pragma once

namespace osprey::cli {

// Returns the process exit code.
int Main(int argc, char** argv);

}  // namespace osprey::cli

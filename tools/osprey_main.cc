// The `osprey` executable: wiring only; everything lives in the osprey library.
#include "cli/cli_main.h"

int main(int argc, char** argv) { return osprey::cli::Main(argc, argv); }

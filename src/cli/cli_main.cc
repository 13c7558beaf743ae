#include "cli/cli_main.h"

#include "cli/commands.h"

namespace osprey::cli {

int Main(int argc, char** argv) {
  CLI::App app{
      "Osprey: a self-hosted, offline, wire-compatible Amazon Rekognition Custom Labels.\n"
      "Point the AWS CLI or boto3 at it with --endpoint-url."};
  app.require_subcommand(1);
  int exit_code = 0;
  AddServeCommand(app, &exit_code);
  AddTrainCommand(app, &exit_code);
  AddEvaluateCommand(app, &exit_code);
  AddDetectCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

}  // namespace osprey::cli

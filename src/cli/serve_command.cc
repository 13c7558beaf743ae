// `osprey serve`: runs the server until SIGINT/SIGTERM.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <thread>

#include "cli/commands.h"
#include "cli/logging.h"
#include "cli/server_app.h"

namespace osprey::cli {
namespace {

const char* EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

int RunServe(ServerConfig config, const std::string& log_level) {
  SetUpLogging(log_level);
  config.access_key_id = EnvOr("OSPREY_ACCESS_KEY_ID", "osprey-dev");
  config.secret_access_key = EnvOr("OSPREY_SECRET_ACCESS_KEY", "osprey-dev-secret");
  if (config.access_key_id == "osprey-dev" && config.secret_access_key == "osprey-dev-secret") {
    spdlog::warn(
        "msg=\"USING THE DEVELOPMENT CREDENTIALS osprey-dev / osprey-dev-secret. Anyone who can "
        "reach this port can use them. Set OSPREY_ACCESS_KEY_ID and OSPREY_SECRET_ACCESS_KEY "
        "for anything but local development.\"");
  }
  // Block the stop signals in every thread; one watcher thread turns them into a clean stop.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Result<std::unique_ptr<ServerApp>> app = ServerApp::Start(config);
  if (!app.ok()) {
    spdlog::critical("msg=\"cannot start\" error=\"{}\"", app.status().ToString());
    return 1;
  }
  ServerApp* server = app->get();
  std::thread watcher([server, stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    spdlog::info("msg=\"stopping\" signal={}", signal_number);
    server->Stop();
  });
  spdlog::info("msg=\"osprey listening\" endpoint=http://{}:{} data_dir={}", config.host,
               server->port(), std::filesystem::absolute(config.data_dir).string());
  Status status = server->Run();
  // Wake the watcher if Run() ended on its own (e.g. a listen error).
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  if (!status.ok()) {
    spdlog::critical("msg=\"server stopped\" error=\"{}\"", status.ToString());
    return 1;
  }
  spdlog::info("msg=\"stopped cleanly\"");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Run the Rekognition Custom Labels and S3-compatible endpoint.\n"
      "Credentials come from OSPREY_ACCESS_KEY_ID / OSPREY_SECRET_ACCESS_KEY (default: the\n"
      "development pair osprey-dev / osprey-dev-secret). Any region is accepted.");
  auto config = std::make_shared<ServerConfig>();
  auto log_level = std::make_shared<std::string>("info");
  cmd->add_option("--host", config->host, "Address to listen on")
      ->envname("OSPREY_HOST")
      ->capture_default_str();
  cmd->add_option("--port", config->port, "Port to listen on (0 = any free port)")
      ->envname("OSPREY_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--data-dir", config->data_dir,
                  "Folder for the SQLite metadata (osprey.db) and the buckets")
      ->envname("OSPREY_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--threads", config->worker_threads, "HTTP worker threads")
      ->envname("OSPREY_HTTP_THREADS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--max-trainings", config->max_concurrent_trainings,
                  "Trainings that may run at once (more get LimitExceededException)")
      ->envname("OSPREY_MAX_TRAININGS")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd->add_option("--training-budget", config->training_time_budget_seconds,
                  "Seconds of training per model version, after decoding the images "
                  "[default: 60 for image classification, 300 for object detection]")
      ->envname("OSPREY_TRAINING_BUDGET")
      ->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--inference-threads", config->inference_threads,
                  "DetectCustomLabels calls served in parallel (one core each)")
      ->envname("OSPREY_INFERENCE_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--log-level", *log_level, "trace, debug, info, warn, error")
      ->envname("OSPREY_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  cmd->callback([config, log_level, exit_code] { *exit_code = RunServe(*config, *log_level); });
}

}  // namespace osprey::cli

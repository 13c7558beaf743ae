// ServerApp: wires the stores, the service, the API and S3 surfaces and the HTTP server into one
// running Osprey. Used by `osprey serve` and by in-process integration tests.
// Not thread-safe except Stop(), which may be called from any thread (e.g. a signal watcher).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace osprey::storage {
class ObjectStore;
}

namespace osprey::cli {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8085;  // 0 = any free port
  std::filesystem::path data_dir = "osprey-data";
  std::string access_key_id = "osprey-dev";
  std::string secret_access_key = "osprey-dev-secret";
  int worker_threads = 16;
  int max_concurrent_trainings = 1;           // more CreateProjectVersion → LimitExceeded
  double training_time_budget_seconds = 0;    // per training, after decoding; 0: per task
  int inference_threads = 2;                  // parallel DetectCustomLabels
};

class ServerApp {
 public:
  // Opens <data_dir>/osprey.db and <data_dir>/buckets, and binds the port.
  static Result<std::unique_ptr<ServerApp>> Start(const ServerConfig& config,
                                                  const Clock& clock = Clock::Real());
  ~ServerApp();

  int port() const;
  // The server's object store, for benchmarks and tests that seed data in-process.
  storage::ObjectStore& objects();
  // Serves until Stop(); returns after in-flight requests are done.
  Status Run();
  void Stop();

 private:
  struct Impl;
  explicit ServerApp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace osprey::cli

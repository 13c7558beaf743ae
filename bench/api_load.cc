// bench/api_load: N concurrent keep-alive clients call DescribeProjects (SigV4-signed, as the AWS
// CLI does) for a fixed time, then the same against the bare GET /health endpoint, in one run, so
// the API's overhead shows as a ratio. Starts an in-process server on a free port with a
// temporary data dir unless --endpoint is given.
//
//   build/bench/api_load [--clients 8] [--seconds 5] [--projects 20] [--endpoint http://h:p]
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "auth/crypto.h"
#include "auth/sigv4.h"
#include "cli/server_app.h"

namespace {
using Clock = std::chrono::steady_clock;

struct Figures {
  double requests_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  size_t errors = 0;
};

httplib::Headers SignedHeaders(const std::string& host, const std::string& op,
                               const std::string& body) {
  osprey::auth::SignableRequest s{"POST", "/",
                                  {{"Host", host},
                                   {"Content-Type", "application/x-amz-json-1.1"},
                                   {"X-Amz-Target", "RekognitionService." + op}},
                                  osprey::auth::Sha256Hex(body)};
  osprey::auth::SignRequest(s, "osprey-dev", "osprey-dev-secret", "us-east-1", "rekognition",
                            osprey::Clock::Real());
  httplib::Headers headers;
  for (auto& [name, value] : s.headers) {
    if (name != "Host" && name != "Content-Type") headers.emplace(name, value);
  }
  return headers;
}

Figures Run(const std::string& host, int port, int clients, double seconds, bool api) {
  std::vector<std::vector<double>> latencies(clients);
  std::atomic<size_t> errors{0};
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  std::string host_header = host + ":" + std::to_string(port);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      while (Clock::now() < deadline) {
        auto start = Clock::now();
        bool ok;
        if (api) {
          std::string body = "{}";
          auto res = client.Post("/", SignedHeaders(host_header, "DescribeProjects", body), body,
                                 "application/x-amz-json-1.1");
          ok = res && res->status == 200;
        } else {
          auto res = client.Get("/health");
          ok = res && res->status == 200;
        }
        if (!ok) errors++;
        latencies[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Figures f;
  if (all.empty()) return f;
  f.requests_per_second = static_cast<double>(all.size()) / seconds;
  f.p50_ms = all[all.size() / 2];
  f.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  f.errors = errors;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"API load benchmark: DescribeProjects vs GET /health"};
  int clients = 8;
  double seconds = 5;
  int projects = 20;
  std::string endpoint;
  app.add_option("--clients", clients, "Concurrent keep-alive clients")->capture_default_str();
  app.add_option("--seconds", seconds, "Duration of each phase")->capture_default_str();
  app.add_option("--projects", projects, "Projects to create first (in-process server only)")
      ->capture_default_str();
  app.add_option("--endpoint", endpoint, "Use a running server (http://host:port)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);  // one log line per request would be measured too

  std::unique_ptr<osprey::cli::ServerApp> server;
  std::thread server_thread;
  std::string host = "127.0.0.1";
  int port = 0;
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("osprey-bench-" + std::to_string(::getpid()));
  if (endpoint.empty()) {
    osprey::cli::ServerConfig config;
    config.port = 0;
    config.data_dir = dir;
    auto started = osprey::cli::ServerApp::Start(config);
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start server: %s\n", started.status().ToString().c_str());
      return 1;
    }
    server = std::move(started).value();
    port = server->port();
    server_thread = std::thread([&] { (void)server->Run(); });
    httplib::Client client(host, port);
    for (int i = 0; i < projects; ++i) {
      std::string body = "{\"ProjectName\":\"bench-" + std::to_string(i) + "\"}";
      client.Post("/", SignedHeaders(host + ":" + std::to_string(port), "CreateProject", body),
                  body, "application/x-amz-json-1.1");
    }
  } else {
    auto colon = endpoint.rfind(':');
    host = endpoint.substr(endpoint.find("//") + 2, colon - endpoint.find("//") - 2);
    port = std::stoi(endpoint.substr(colon + 1));
  }

  std::printf("api_load: %d clients, %.1f s per phase, %u hardware threads\n", clients, seconds,
              std::thread::hardware_concurrency());
  Figures health = Run(host, port, clients, seconds, /*api=*/false);
  Figures api = Run(host, port, clients, seconds, /*api=*/true);
  std::printf("%-28s %12s %10s %10s %8s\n", "endpoint", "requests/s", "p50 ms", "p99 ms", "errors");
  std::printf("%-28s %12.0f %10.3f %10.3f %8zu\n", "GET /health", health.requests_per_second,
              health.p50_ms, health.p99_ms, health.errors);
  std::printf("%-28s %12.0f %10.3f %10.3f %8zu\n", "DescribeProjects (SigV4)",
              api.requests_per_second, api.p50_ms, api.p99_ms, api.errors);
  if (api.requests_per_second > 0) {
    std::printf("ratio /health : DescribeProjects throughput = %.2f\n",
                health.requests_per_second / api.requests_per_second);
  }
  if (server) {
    server->Stop();
    server_thread.join();
    std::filesystem::remove_all(dir);
  }
  return 0;
}

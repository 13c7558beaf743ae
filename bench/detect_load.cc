// bench/detect_load: DetectCustomLabels through the full stack (HTTP + SigV4 + JSON + base64 +
// model) with 1, 2 and 8 concurrent keep-alive clients, beside the engine's in-process latency on
// the same images, so the serving overhead shows as a ratio.
//
// It trains the models itself through the API (CreateProjectVersion with AutoCreate): a
// classifier on an objects8 set and a detector on a scenes set from ../shared/datagen, made
// with the s3://train-bucket/ prefix:
//   bash ../shared/datagen/make_sets.sh /tmp/dg smoke s3://train-bucket/
//   build/bench/detect_load --data /tmp/dg/objects8 --scenes /tmp/dg/scenes [--seconds 5]
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "auth/crypto.h"
#include "auth/sigv4.h"
#include "cli/server_app.h"
#include "engine/classifier.h"
#include "engine/detector.h"
#include "storage/object_store.h"

namespace {
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Api {
  std::string host = "127.0.0.1";
  int port = 0;
  json Call(httplib::Client& client, const std::string& op, const json& body) const {
    std::string text = body.dump();
    osprey::auth::SignableRequest s{"POST", "/",
                                    {{"Host", host + ":" + std::to_string(port)},
                                     {"Content-Type", "application/x-amz-json-1.1"},
                                     {"X-Amz-Target", "RekognitionService." + op}},
                                    osprey::auth::Sha256Hex(text)};
    osprey::auth::SignRequest(s, "osprey-dev", "osprey-dev-secret", "us-east-1", "rekognition",
                              osprey::Clock::Real());
    httplib::Headers headers;
    for (auto& [name, value] : s.headers) {
      if (name != "Host" && name != "Content-Type") headers.emplace(name, value);
    }
    auto res = client.Post("/", headers, text, "application/x-amz-json-1.1");
    if (!res) return json{{"__type", "connection failed"}};
    return json::parse(res->body, nullptr, false);
  }
};

struct Figures {
  double per_second = 0, p50 = 0, p99 = 0;
  size_t errors = 0;
};

Figures Summarise(std::vector<double> ms, double seconds, size_t errors) {
  Figures f;
  f.errors = errors;
  if (ms.empty()) return f;
  std::sort(ms.begin(), ms.end());
  f.per_second = static_cast<double>(ms.size()) / seconds;
  f.p50 = ms[ms.size() / 2];
  f.p99 = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  return f;
}

// Trains a model on `data` (a datagen set whose manifest names s3://train-bucket/<set>/...)
// through the API, starts it, and prints the engine's and the API's latency and throughput.
void Measure(osprey::cli::ServerApp& server, const Api& api, const fs::path& data,
             const std::string& set, const fs::path& dir, double seconds) {
  osprey::storage::ObjectStore& objects = server.objects();
  std::vector<std::string> test_images;
  for (const auto& entry : fs::recursive_directory_iterator(data / "images")) {
    if (!entry.is_regular_file()) continue;
    std::string key = set + "/" + fs::relative(entry.path(), data).string();
    (void)objects.PutObject("train-bucket", key, ReadFile(entry.path()), {});
    if (key.find("/test/") != std::string::npos) test_images.push_back(ReadFile(entry.path()));
  }
  std::string manifest = set + ".manifest";
  (void)objects.PutObject("train-bucket", manifest, ReadFile(data / "train.manifest"), {});

  httplib::Client client(api.host, api.port);
  client.set_read_timeout(60, 0);
  json project = api.Call(client, "CreateProject", {{"ProjectName", "bench-" + set}});
  auto train_start = SteadyClock::now();
  json version = api.Call(
      client, "CreateProjectVersion",
      {{"ProjectArn", project["ProjectArn"]},
       {"VersionName", "v1"},
       {"OutputConfig", {{"S3Bucket", "out-bucket"}, {"S3KeyPrefix", "bench"}}},
       {"TrainingData", {{"Assets", {{{"GroundTruthManifest", {{"S3Object", {{"Bucket", "train-bucket"}, {"Name", manifest}}}}}}}}}},
       {"TestingData", {{"AutoCreate", true}}}});
  std::string arn = version.value("ProjectVersionArn", "");
  auto wait_for = [&](const std::string& wanted) {
    while (true) {
      json d = api.Call(client, "DescribeProjectVersions",
                        {{"ProjectArn", project["ProjectArn"]}, {"VersionNames", {"v1"}}});
      json v = d["ProjectVersionDescriptions"][0];
      std::string status = v["Status"];
      if (status == wanted) return v;
      if (status.find("FAILED") != std::string::npos) {
        std::fprintf(stderr, "%s: %s\n", status.c_str(), v.value("StatusMessage", "").c_str());
        std::exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  };
  json trained = wait_for("TRAINING_COMPLETED");
  double train_seconds =
      std::chrono::duration<double>(SteadyClock::now() - train_start).count();
  api.Call(client, "StartProjectVersion", {{"ProjectVersionArn", arn}, {"MinInferenceUnits", 1}});
  wait_for("RUNNING");

  // In-process engine latency, 1 thread, the same images.
  std::vector<double> engine_ms;
  std::string task = "classification";
  for (const auto& entry : fs::directory_iterator(dir / "models" / ("bench-" + set))) {
    osprey::engine::SetEngineThreads(1);
    auto time = [&](auto&& run) {
      for (int round = 0; round < 3; ++round) {
        for (const auto& bytes : test_images) {
          auto t0 = SteadyClock::now();
          run(bytes);
          engine_ms.push_back(
              std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
        }
      }
    };
    if (osprey::engine::IsDetectorArtifact(entry.path())) {
      task = "detection";
      auto predictor = osprey::engine::DetectionPredictor::Load(entry.path());
      if (predictor.ok()) time([&](const std::string& b) { (void)(*predictor)->Detect(b, {}); });
    } else {
      auto predictor = osprey::engine::Predictor::Load(entry.path());
      if (predictor.ok()) time([&](const std::string& b) { (void)(*predictor)->Scores(b); });
    }
  }
  std::printf("\ndetect_load: %s model (%s) on %zu test images; trained in %.1f s, F1 %.3f\n",
              task.c_str(), set.c_str(), test_images.size(), train_seconds,
              trained["EvaluationResult"]["F1Score"].get<double>());
  std::vector<std::string> bodies;
  for (const auto& bytes : test_images) {
    bodies.push_back(json{{"ProjectVersionArn", arn},
                          {"Image", {{"Bytes", osprey::auth::Base64Encode(bytes)}}}}.dump());
  }
  std::printf("%-34s %10s %10s %10s %8s\n", "", "images/s", "p50 ms", "p99 ms", "errors");
  Figures engine = Summarise(engine_ms, 1, 0);
  double engine_total = 0;
  for (double ms : engine_ms) engine_total += ms;
  std::printf("%-34s %10.1f %10.2f %10.2f %8zu\n", "engine in-process, 1 thread",
              engine_ms.empty() ? 0 : 1000.0 * engine_ms.size() / engine_total, engine.p50,
              engine.p99, size_t{0});
  for (int clients : {1, 2, 8}) {
    std::vector<std::vector<double>> latencies(clients);
    std::atomic<size_t> errors{0};
    auto deadline = SteadyClock::now() + std::chrono::duration<double>(seconds);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        httplib::Client worker(api.host, api.port);
        worker.set_keep_alive(true);
        worker.set_tcp_nodelay(true);
        size_t i = static_cast<size_t>(c);
        while (SteadyClock::now() < deadline) {
          json body = json::parse(bodies[i++ % bodies.size()]);
          auto t0 = SteadyClock::now();
          json out = api.Call(worker, "DetectCustomLabels", body);
          if (!out.contains("CustomLabels")) errors++;
          latencies[c].push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
        }
      });
    }
    for (auto& t : threads) t.join();
    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    Figures f = Summarise(all, seconds, errors);
    std::printf("DetectCustomLabels, %d client(s)%*s %10.1f %10.2f %10.2f %8zu\n", clients,
                clients < 10 ? 3 : 2, "", f.per_second, f.p50, f.p99, f.errors);
    if (clients == 1 && engine.p50 > 0) {
      std::printf("  serving overhead at 1 client: p50 %.2fx the engine's\n", f.p50 / engine.p50);
    }
  }
  api.Call(client, "StopProjectVersion", {{"ProjectVersionArn", arn}});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"DetectCustomLabels load benchmark"};
  fs::path data, scenes;
  double seconds = 5;
  double budget = 20;
  app.add_option("--data", data, "objects8 folder made with the s3://train-bucket/ prefix")->required();
  app.add_option("--scenes", scenes, "scenes folder made with the s3://train-bucket/ prefix "
                 "(detection; skipped when absent)");
  app.add_option("--seconds", seconds, "Duration of each concurrency level")->capture_default_str();
  app.add_option("--budget", budget, "Training time budget (s)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);  // one log line per request would be measured too

  fs::path dir = fs::temp_directory_path() / ("osprey-detect-bench-" + std::to_string(::getpid()));
  osprey::cli::ServerConfig config;
  config.port = 0;
  config.data_dir = dir;
  config.training_time_budget_seconds = budget;
  auto started = osprey::cli::ServerApp::Start(config);
  if (!started.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", started.status().ToString().c_str());
    return 1;
  }
  auto server = std::move(started).value();
  std::thread serving([&] { (void)server->Run(); });
  Api api;
  api.port = server->port();
  // Seed the buckets in-process (the S3 path has its own benchmark).
  (void)server->objects().CreateBucket("train-bucket");
  (void)server->objects().CreateBucket("out-bucket");
  Measure(*server, api, data, "objects8", dir, seconds);
  if (!scenes.empty()) {
    Measure(*server, api, scenes, "scenes", dir, seconds);
  } else {
    std::printf("\ndetection model: not measured (pass --scenes)\n");
  }
  server->Stop();
  serving.join();
  server.reset();
  fs::remove_all(dir);
  return 0;
}

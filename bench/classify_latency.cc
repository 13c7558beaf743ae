// bench/classify_latency: serving latency of a trained classifier at 1 intra-op thread, with a
// warm-up pass, over several passes of the same images, so that two models (or two builds)
// can be compared on one machine without retraining.
//
//   classify_latency --model DIR [--passes 3] IMAGE...
//
// Prints p10 / p50 / p90 / p99 of the wall time and of the thread CPU time per call (decode +
// resize + forward), over passes x images calls after one warm-up pass.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "engine/classifier.h"

using osprey::bench::Percentile;
using osprey::bench::ThreadCpuMs;

int main(int argc, char** argv) {
  CLI::App app{"Classifier serving latency at 1 intra-op thread"};
  std::string model_dir;
  int passes = 3;
  std::vector<std::string> paths;
  app.add_option("--model", model_dir, "Model folder written by osprey train")->required();
  app.add_option("--passes", passes, "Timed passes over the images")->capture_default_str();
  app.add_option("images", paths, "Images to score")->required();
  CLI11_PARSE(app, argc, argv);

  osprey::engine::SetEngineThreads(1);
  auto predictor = osprey::engine::Predictor::Load(model_dir);
  if (!predictor.ok()) {
    std::fprintf(stderr, "error: %s\n", predictor.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> images;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    images.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::vector<double> wall_ms, cpu_ms;
  for (int pass = 0; pass <= passes; ++pass) {
    for (const std::string& bytes : images) {
      auto start = std::chrono::steady_clock::now();
      double cpu_start = ThreadCpuMs();
      auto scores = (*predictor)->Scores(bytes);
      double cpu = ThreadCpuMs() - cpu_start;
      double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      if (!scores.ok()) {
        std::fprintf(stderr, "error: %s\n", scores.status().ToString().c_str());
        return 1;
      }
      if (pass == 0) continue;  // warm-up: oneDNN builds its primitives on first use
      wall_ms.push_back(wall);
      cpu_ms.push_back(cpu);
    }
  }
  std::printf("%zu calls (%s)\n", wall_ms.size(), (*predictor)->family().c_str());
  std::printf("wall        p10 %.2f  p50 %.2f  p90 %.2f  p99 %.2f ms\n", Percentile(wall_ms, 0.1),
              Percentile(wall_ms, 0.5), Percentile(wall_ms, 0.9), Percentile(wall_ms, 0.99));
  std::printf("thread CPU  p10 %.2f  p50 %.2f  p90 %.2f  p99 %.2f ms\n", Percentile(cpu_ms, 0.1),
              Percentile(cpu_ms, 0.5), Percentile(cpu_ms, 0.9), Percentile(cpu_ms, 0.99));
  return 0;
}

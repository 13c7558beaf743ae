// `osprey detect`: runs a trained model on image files and prints labels and confidences.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/classifier.h"

namespace osprey::cli {
namespace {

struct DetectFlags {
  std::string model;
  std::vector<std::string> images;
  double min_confidence = -1;  // percent; < 0 means "each label's assumed threshold"
  int threads = 1;
};

int RunDetect(const DetectFlags& flags) {
  // One intra-op thread, as when serving (ML-ENGINE-SPIKE.md: 2 threads collapse under load).
  engine::SetEngineThreads(flags.threads);
  auto predictor = engine::Predictor::Load(flags.model);
  if (!predictor.ok()) {
    std::fprintf(stderr, "error: %s\n", predictor.status().ToString().c_str());
    return 1;
  }
  int failures = 0;
  for (const std::string& path : flags.images) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: error: cannot read the file\n", path.c_str());
      ++failures;
      continue;
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto start = std::chrono::steady_clock::now();
    auto predictions = (*predictor)->Predict(bytes);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!predictions.ok()) {
      std::fprintf(stderr, "%s: error: %s\n", path.c_str(), predictions.status().ToString().c_str());
      ++failures;
      continue;
    }
    std::printf("%s (%.1f ms)\n", path.c_str(), ms);
    const auto& labels = (*predictor)->labels();
    for (const auto& prediction : *predictions) {
      // DetectCustomLabels semantics (rekognition-api.md §12): MinConfidence replaces the
      // per-label assumed thresholds when given.
      size_t label_idx = std::find(labels.begin(), labels.end(), prediction.label) - labels.begin();
      double threshold = flags.min_confidence >= 0 ? flags.min_confidence / 100.0
                                                   : (*predictor)->thresholds()[label_idx];
      if (prediction.confidence < threshold) continue;
      std::printf("  %-24s %6.2f\n", prediction.label.c_str(), 100.0 * prediction.confidence);
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

void AddDetectCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("detect", "Classify image files with a trained model.");
  auto flags = std::make_shared<DetectFlags>();
  cmd->add_option("--model", flags->model, "Model folder written by `osprey train`")->required();
  cmd->add_option("images", flags->images, "PNG or JPEG files")->required();
  cmd->add_option("--min-confidence", flags->min_confidence,
                  "Show labels at or above this confidence (0-100); default: each label's assumed threshold");
  cmd->add_option("--threads", flags->threads, "Intra-op threads")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunDetect(*flags); });
}

}  // namespace osprey::cli

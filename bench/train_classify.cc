// End-to-end classification benchmark (issue 5 §7): trains on a datagen set with the same code
// path as `osprey train`, then prints test macro-F1, accuracy, training wall time, feature
// extraction img/s, 1-thread inference p50/p99 and the share of the machine's FP32 peak.
//
//   train_classify --set DIR [--time-budget 60] [--seed 1] [--model auto]
//
// DIR is one set made by ../shared/datagen (objects8 via make_sets.sh, or cards via
// datagen_classify.py --task cards): it must hold train.manifest, val.manifest, test.manifest.
// Generate sets at bench time; never commit them.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "cli/training_set_loader.h"
#include "engine/classifier.h"

namespace {

using namespace osprey;
namespace fs = std::filesystem;

// The 2-core reference machine's FP32 peak (ML-ENGINE-SPIKE.md §6).
constexpr double kPeakGflops = 200;

double Percentile(std::vector<double> values, double quantile) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(quantile * (values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

int Run(const std::string& set_dir, double budget, uint64_t seed, const std::string& model) {
  fs::path dir(set_dir);
  auto train = cli::LoadClassificationManifest(dir / "train.manifest", "");
  if (!train.ok()) {
    std::fprintf(stderr, "error: %s\n", train.status().ToString().c_str());
    return 1;
  }
  auto val = cli::LoadClassificationManifest(dir / "val.manifest", "", train->set.labels);
  auto test = cli::LoadClassificationManifest(dir / "test.manifest", "", train->set.labels);
  if (!val.ok() || !test.ok()) {
    std::fprintf(stderr, "error: cannot read val.manifest / test.manifest in %s\n", set_dir.c_str());
    return 1;
  }
  fs::path out = fs::temp_directory_path() / ("osprey_train_classify_" + std::to_string(::getpid()));
  engine::TrainingOptions options;
  options.output_dir = out;
  options.backbone_dir = engine::DefaultBackboneDir();
  options.seed = seed;
  options.time_budget_seconds = budget;
  options.family = model == "scratch"       ? engine::ModelFamily::kScratch
                   : model == "frozen-head" ? engine::ModelFamily::kFrozenHead
                   : model == "fine-tune"   ? engine::ModelFamily::kFineTune
                                            : engine::ModelFamily::kAuto;
  auto wall_start = std::chrono::steady_clock::now();
  auto report = engine::TrainClassifier(train->set, &val->set, options, nullptr);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (!report.ok()) {
    std::fprintf(stderr, "error: %s\n", report.status().ToString().c_str());
    return 1;
  }
  engine::SetEngineThreads(1);
  auto predictor = engine::Predictor::Load(out);
  if (!predictor.ok()) {
    std::fprintf(stderr, "error: %s\n", predictor.status().ToString().c_str());
    return 1;
  }
  std::vector<engine::ScoredExample> examples;
  std::vector<double> latencies_ms;
  for (const engine::LabelledImage& image : test->set.images) {
    std::ifstream in(image.path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto start = std::chrono::steady_clock::now();
    auto scores = (*predictor)->Scores(bytes);  // decode + resize + forward, 1 thread
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    if (!scores.ok()) continue;
    examples.push_back({image.labels, *scores});
  }
  engine::EvaluationResult result =
      engine::Evaluate((*predictor)->labels(), (*predictor)->multi_label(), examples);
  double compute_seconds = report->feature_seconds + report->train_seconds;
  double gflops = report->training_gflop / std::max(1e-9, compute_seconds);
  std::printf("set                 %s (%zu labels; %d train, %d val, %zu test images)\n", set_dir.c_str(),
              train->set.labels.size(), report->num_training_images, report->num_validation_images,
              examples.size());
  std::printf("backbone            %s\n", report->backbone_used ? "nsfwjs MobileNetV2" : "none");
  for (const auto& candidate : report->candidates) {
    std::printf("candidate           %-12s val macro-F1 %.3f, %d epochs, %.1f s\n", candidate.family.c_str(),
                candidate.validation_f1, candidate.epochs, candidate.seconds);
  }
  std::printf("chosen              %s\n", report->chosen.c_str());
  std::printf("test macro-F1       %.3f   (arg-max; AWS-style F1 at assumed thresholds %.3f)\n",
              result.macro_f1_at_default, result.f1);
  std::printf("test accuracy       %.3f\n", result.accuracy);
  std::printf("training wall time  %.1f s  (decode %.1f, features %.1f, training %.1f; budget %.0f)%s\n",
              wall, report->decode_seconds, report->feature_seconds, report->train_seconds, budget,
              report->time_guard_hit ? " [time guard hit]" : "");
  std::printf("feature extraction  %.0f img/s  (backbone to block 12, incl. mirror images)\n",
              report->feature_images_per_second);
  std::printf("inference 1 thread  p50 %.1f ms, p99 %.1f ms  (decode + model, %s)\n",
              Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99), report->chosen.c_str());
  std::printf("compute             %.1f GFLOP in %.1f s = %.1f GFLOP/s = %.0f %% of %.0f GFLOP/s peak\n",
              report->training_gflop, compute_seconds, gflops, 100 * gflops / kPeakGflops, kPeakGflops);
  fs::remove_all(out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Trains and evaluates an image classifier on a datagen set (issue 5 §7)."};
  std::string set_dir, model = "auto";
  double budget = 60;
  uint64_t seed = 1;
  app.add_option("--set", set_dir, "Set folder with train/val/test.manifest")->required();
  app.add_option("--time-budget", budget, "Training time budget in seconds")->capture_default_str();
  app.add_option("--seed", seed, "Random seed")->capture_default_str();
  app.add_option("--model", model, "auto, scratch, frozen-head, fine-tune")
      ->check(CLI::IsMember({"auto", "scratch", "frozen-head", "fine-tune"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return Run(set_dir, budget, seed, model);
}

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

#include "bench_stats.h"
#include "cli/training_set_loader.h"
#include "engine/classifier.h"

namespace {

using namespace osprey;
namespace fs = std::filesystem;

// The 2-core reference machine's FP32 peak (ML-ENGINE-SPIKE.md §6).
constexpr double kPeakGflops = 200;

using bench::Percentile;
using bench::ThreadCpuMs;

struct TestRun {
  engine::EvaluationResult result;
  std::vector<double> latencies_ms;
  // CPU time of the calling thread per call: with 1 intra-op thread, what the wall time would
  // be on a quiet machine (the shared VM is rarely quiet).
  std::vector<double> cpu_ms;
  size_t scored = 0;  // test images that decoded
  std::vector<engine::ScoredExample> examples;
};

// Scores every test image with the model in `model_dir` at 1 intra-op thread, timing each call.
Result<TestRun> RunOnTest(const fs::path& model_dir, const engine::TrainingSet& test) {
  engine::SetEngineThreads(1);
  OSPREY_ASSIGN_OR_RETURN(auto predictor, engine::Predictor::Load(model_dir));
  std::vector<engine::ScoredExample> examples;
  TestRun run;
  for (const engine::LabelledImage& image : test.images) {
    std::ifstream in(image.path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto start = std::chrono::steady_clock::now();
    double cpu_start = ThreadCpuMs();
    auto scores = predictor->Scores(bytes);  // decode + resize + forward, 1 thread
    run.cpu_ms.push_back(ThreadCpuMs() - cpu_start);
    run.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    if (!scores.ok()) continue;
    examples.push_back({image.labels, *scores});
  }
  run.scored = examples.size();
  run.examples = examples;
  run.result = engine::Evaluate(predictor->labels(), predictor->multi_label(), examples);
  return run;
}

int Run(const std::string& set_dir, double budget, uint64_t seed, const std::string& model,
        bool test_candidates, int threads, bool test_time_flip) {
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
  options.threads = threads;
  options.test_time_flip = test_time_flip;
  options.time_budget_seconds = budget;
  if (test_candidates) options.candidates_dir = out.string() + "-candidates";
  options.family = model == "scratch"       ? engine::ModelFamily::kScratch
                   : model == "frozen-head" ? engine::ModelFamily::kFrozenHead
                   : model == "fine-tune"   ? engine::ModelFamily::kFineTune
                   : model == "conv-head"   ? engine::ModelFamily::kConvHead
                                            : engine::ModelFamily::kAuto;
  auto wall_start = std::chrono::steady_clock::now();
  auto report = engine::TrainClassifier(train->set, &val->set, options, nullptr);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (!report.ok()) {
    std::fprintf(stderr, "error: %s\n", report.status().ToString().c_str());
    return 1;
  }
  auto test_run = RunOnTest(out, test->set);
  if (!test_run.ok()) {
    std::fprintf(stderr, "error: %s\n", test_run.status().ToString().c_str());
    return 1;
  }
  const engine::EvaluationResult& result = test_run->result;
  const std::vector<double>& latencies_ms = test_run->latencies_ms;
  double compute_seconds = report->feature_seconds + report->train_seconds;
  double gflops = report->training_gflop / std::max(1e-9, compute_seconds);
  std::printf("set                 %s (%zu labels; %d train, %d val, %zu test images)\n", set_dir.c_str(),
              train->set.labels.size(), report->num_training_images, report->num_validation_images,
              test_run->scored);
  std::printf("backbone            %s\n", report->backbone_used ? "nsfwjs MobileNetV2" : "none");
  for (const auto& candidate : report->candidates) {
    std::printf("candidate           %-12s val macro-F1 %.3f, %d epochs, %.1f s (cpu %.1f s)\n",
                candidate.family.c_str(), candidate.validation_f1, candidate.epochs, candidate.seconds,
                candidate.cpu_seconds);
  }
  std::printf("chosen              %s\n", report->chosen.c_str());
  std::printf("test macro-F1       %.3f   (arg-max; AWS-style F1 at assumed thresholds %.3f)\n",
              result.macro_f1_at_default, result.f1);
  std::printf("test accuracy       %.3f\n", result.accuracy);
  std::printf("training wall time  %.1f s  (decode %.1f, features %.1f, training %.1f; budget %.0f)%s\n",
              wall, report->decode_seconds, report->feature_seconds, report->train_seconds, budget,
              report->time_guard_hit ? " [time guard hit]" : "");
  std::printf("feature extraction  %.0f img/s  (backbone to block 12, incl. mirror images; cpu %.1f s)\n",
              report->feature_images_per_second, report->feature_cpu_seconds);
  std::printf("inference 1 thread  p50 %.1f ms, p99 %.1f ms  (decode + model, %s); thread CPU p50 %.1f ms, p99 %.1f ms\n",
              Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99), report->chosen.c_str(),
              Percentile(test_run->cpu_ms, 0.5), Percentile(test_run->cpu_ms, 0.99));
  std::printf("validation macro-F1 %.3f without test-time flip, %.3f with\n", report->validation_f1_without_flip,
              report->validation_f1_with_flip);
  std::printf("compute             %.1f GFLOP in %.1f s = %.1f GFLOP/s = %.0f %% of %.0f GFLOP/s peak\n",
              report->training_gflop, compute_seconds, gflops, 100 * gflops / kPeakGflops, kPeakGflops);
  std::vector<std::pair<std::string, TestRun>> candidate_runs;
  for (const auto& candidate : report->candidates) {
    fs::path candidate_dir = options.candidates_dir / candidate.family;
    if (!test_candidates || !fs::exists(candidate_dir)) continue;
    auto run = RunOnTest(candidate_dir, test->set);
    if (!run.ok()) continue;
    std::printf("candidate on test   %-12s macro-F1 %.3f, accuracy %.3f, p50 %.1f ms, thread CPU p50 %.1f ms\n",
                candidate.family.c_str(), run->result.macro_f1_at_default, run->result.accuracy,
                Percentile(run->latencies_ms, 0.5), Percentile(run->cpu_ms, 0.5));
    candidate_runs.emplace_back(candidate.family, std::move(run).value());
  }
  // Equal-weight pairs of candidates on test, for comparison with the choice made on validation.
  for (size_t first = 0; first < candidate_runs.size(); ++first) {
    for (size_t second = first + 1; second < candidate_runs.size(); ++second) {
      std::vector<engine::ScoredExample> averaged = candidate_runs[first].second.examples;
      const auto& other = candidate_runs[second].second.examples;
      if (averaged.size() != other.size()) continue;
      for (size_t idx = 0; idx < averaged.size(); ++idx) {
        for (size_t label = 0; label < averaged[idx].scores.size(); ++label) {
          averaged[idx].scores[label] = 0.5f * (averaged[idx].scores[label] + other[idx].scores[label]);
        }
      }
      auto pair_result = engine::Evaluate(train->set.labels, train->set.multi_label, averaged);
      std::printf("ensemble on test    %s+%s macro-F1 %.3f, accuracy %.3f\n", candidate_runs[first].first.c_str(),
                  candidate_runs[second].first.c_str(), pair_result.macro_f1_at_default, pair_result.accuracy);
    }
  }
  fs::remove_all(out);
  if (test_candidates) fs::remove_all(options.candidates_dir);
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
  app.add_option("--model", model, "auto, scratch, frozen-head, fine-tune, conv-head")
      ->check(CLI::IsMember({"auto", "scratch", "frozen-head", "fine-tune", "conv-head"}))
      ->capture_default_str();
  bool test_candidates = false;
  int threads = 2;
  bool test_time_flip = false;
  app.add_flag("--test-time-flip", test_time_flip, "Serve the average over the image and its mirror image");
  app.add_option("--threads", threads, "Training threads")->capture_default_str();
  app.add_flag("--test-candidates", test_candidates, "Also evaluate every candidate on the test set");
  CLI11_PARSE(app, argc, argv);
  return Run(set_dir, budget, seed, model, test_candidates, threads, test_time_flip);
}

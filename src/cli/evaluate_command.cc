// `osprey evaluate`: scores a model (classifier or detector, told apart by IsDetectorArtifact)
// on a labelled manifest and prints the Rekognition-style evaluation summary
// (rekognition-api.md §11.5).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/training_set_loader.h"
#include "engine/classifier.h"
#include "engine/detector.h"

namespace osprey::cli {
namespace {

struct EvaluateFlags {
  std::string model, manifest, data_dir = "osprey-data";
  bool json = false;
  int threads = 1;  // as when serving; 2 OpenMP threads collapse on a busy machine
};

std::string UtcNow() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
  return text;
}

void PrintDetectionTable(const engine::DetectionEvaluation& evaluation, size_t num_skipped) {
  const engine::EvaluationResult& result = evaluation.result;
  std::printf("%-24s %6s %6s %9s %7s %7s %7s\n", "label", "boxes", "AP", "precision", "recall",
              "F1", "thresh");
  for (size_t label_idx = 0; label_idx < result.per_label.size(); ++label_idx) {
    const auto& label = result.per_label[label_idx];
    std::printf("%-24s %6d %6.3f %9.3f %7.3f %7.3f %7.3f\n", label.label.c_str(),
                evaluation.boxes_per_label[label_idx],
                evaluation.average_precision_per_label[label_idx], label.precision, label.recall,
                label.f1, label.threshold);
  }
  std::printf("mAP@0.5 %.4f  average recall %.4f  (IoU 0.5, nothing tuned on this set)\n",
              evaluation.average_precision, evaluation.average_recall);
  std::printf(
      "F1 %.4f  precision %.4f  recall %.4f  (assumed thresholds, as AWS reports)  on %d images, "
      "%zu skipped\n",
      result.f1, result.precision, result.recall, result.num_testing_images, num_skipped);
}

int RunEvaluateDetector(const EvaluateFlags& flags) {
  auto predictor = engine::DetectionPredictor::Load(flags.model);
  if (!predictor.ok()) {
    std::fprintf(stderr, "error: %s\n", predictor.status().ToString().c_str());
    return 1;
  }
  auto test = LoadDetectionManifestFile(flags.manifest, flags.data_dir, (*predictor)->labels());
  if (!test.ok()) {
    std::fprintf(stderr, "error: %s\n", test.status().ToString().c_str());
    return 1;
  }
  for (const auto& line : test->skipped_lines) std::fprintf(stderr, "skipped %s\n", line.c_str());
  std::vector<engine::SkippedImage> skipped;
  auto evaluation = engine::EvaluateDetector(**predictor, test->set, &skipped);
  for (const auto& image : skipped) {
    std::fprintf(stderr, "skipped %s: %s\n", image.source_ref.c_str(),
                 image.reason.ToString().c_str());
  }
  if (!evaluation.ok()) {
    std::fprintf(stderr, "error: %s\n", evaluation.status().ToString().c_str());
    return 1;
  }
  if (flags.json) {
    engine::EvaluationContext context{"", UtcNow(), (*predictor)->number_of_training_images()};
    std::printf("%s\n", engine::DetectionEvaluationSummaryJson(*evaluation, context).c_str());
    return 0;
  }
  PrintDetectionTable(*evaluation, skipped.size());
  return 0;
}

int RunEvaluateClassifier(const EvaluateFlags& flags) {
  auto predictor = engine::Predictor::Load(flags.model);
  if (!predictor.ok()) {
    std::fprintf(stderr, "error: %s\n", predictor.status().ToString().c_str());
    return 1;
  }
  auto test = LoadClassificationManifest(flags.manifest, flags.data_dir, (*predictor)->labels());
  if (!test.ok()) {
    std::fprintf(stderr, "error: %s\n", test.status().ToString().c_str());
    return 1;
  }
  for (const auto& line : test->skipped_lines) std::fprintf(stderr, "skipped %s\n", line.c_str());
  std::vector<engine::SkippedImage> skipped;
  auto result = engine::EvaluateModel(**predictor, test->set, &skipped);
  for (const auto& image : skipped) {
    std::fprintf(stderr, "skipped %s: %s\n", image.source_ref.c_str(), image.reason.ToString().c_str());
  }
  if (!result.ok()) {
    std::fprintf(stderr, "error: %s\n", result.status().ToString().c_str());
    return 1;
  }
  if (flags.json) {
    engine::EvaluationContext context{"", UtcNow(), (*predictor)->number_of_training_images()};
    std::printf("%s\n", engine::EvaluationSummaryJson(*result, context).c_str());
    return 0;
  }
  std::printf("%-24s %8s %9s %7s %9s %7s\n", "label", "images", "precision", "recall", "F1", "thresh");
  for (const auto& label : result->per_label) {
    std::printf("%-24s %8d %9.3f %7.3f %9.3f %7.3f\n", label.label.c_str(), label.num_testing_images,
                label.precision, label.recall, label.f1, label.threshold);
  }
  std::printf("F1 %.4f  precision %.4f  recall %.4f  (assumed thresholds, as AWS reports)\n",
              result->f1, result->precision, result->recall);
  std::printf("macro-F1 %.4f  accuracy %.4f  (%s, nothing tuned on this set)  on %d images, %zu skipped\n",
              result->macro_f1_at_default, result->accuracy,
              result->multi_label ? "0.5 per label" : "arg-max", result->num_testing_images, skipped.size());
  return 0;
}

int RunEvaluate(const EvaluateFlags& flags) {
  engine::SetEngineThreads(flags.threads);
  bool detector = engine::IsDetectorArtifact(flags.model);
  // A model and a manifest of different tasks would otherwise fail deep in the loader with a
  // message about lines; say what is wrong instead.
  auto kind = DetectManifestKind(flags.manifest);
  if (kind.ok() && detector != (*kind == ManifestKind::kObjectDetection)) {
    std::fprintf(stderr, "error: %s is %s, but %s has %s labels\n", flags.model.c_str(),
                 detector ? "an object detector" : "an image classifier", flags.manifest.c_str(),
                 detector ? "image-level classification (no groundtruth/object-detection)"
                          : "object-detection");
    return 1;
  }
  return detector ? RunEvaluateDetector(flags) : RunEvaluateClassifier(flags);
}

}  // namespace

void AddEvaluateCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "evaluate",
      "Evaluate a trained model (classifier or object detector) on a labelled manifest.");
  auto flags = std::make_shared<EvaluateFlags>();
  cmd->add_option("--model", flags->model, "Model folder written by `osprey train`")->required();
  cmd->add_option("--manifest", flags->manifest, "Test manifest (JSON Lines)")->required();
  cmd->add_flag("--json", flags->json,
                "Print the EvaluationResultSummary JSON (detectors: with AveragePrecision = "
                "mAP@0.5 and AverageRecall)");
  cmd->add_option("--data-dir", flags->data_dir, "Data folder; s3://b/k is read from <data-dir>/buckets/b/k")
      ->envname("OSPREY_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "Intra-op threads")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunEvaluate(*flags); });
}

}  // namespace osprey::cli

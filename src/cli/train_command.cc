// `osprey train`: trains an image classifier or an object detector, as the manifest's task
// says (DetectManifestKind), from a manifest into a model folder.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/training_set_loader.h"
#include "engine/classifier.h"
#include "engine/detector.h"

namespace osprey::cli {
namespace {

// A one-line progress bar on stderr, redrawn at most 10 times a second; plain lines when
// stderr is not a terminal.
class ProgressBar : public engine::TrainingObserver {
 public:
  ProgressBar() : tty_(isatty(STDERR_FILENO) != 0) {}
  ~ProgressBar() override { Finish(); }

  void OnProgress(std::string_view stage, int done, int total) override {
    auto now = std::chrono::steady_clock::now();
    bool new_stage = stage != stage_;
    if (new_stage) Finish();
    if (!new_stage && done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    stage_ = stage;
    if (!tty_) {
      if (new_stage) std::fprintf(stderr, "%s ...\n", stage_.c_str());
      return;
    }
    constexpr int kWidth = 30;
    int filled = total > 0 ? kWidth * done / total : 0;
    std::fprintf(stderr, "\r%-10s [%s%s] %d/%d ", stage_.c_str(), std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, '.').c_str(), done, total);
    std::fflush(stderr);
    open_line_ = true;
  }

  void OnMessage(std::string_view message) override {
    Finish();
    std::fprintf(stderr, "note: %.*s\n", static_cast<int>(message.size()), message.data());
  }

  void Finish() {
    if (open_line_) std::fputc('\n', stderr);
    open_line_ = false;
  }

 private:
  bool tty_;
  bool open_line_ = false;
  std::string stage_;
  std::chrono::steady_clock::time_point last_draw_;
};

struct TrainFlags {
  std::string manifest, validation_manifest, out, data_dir = "osprey-data", backbone_dir, model = "auto";
  uint64_t seed = 1;
  double time_budget = 0;  // 0: the engine's default for the task
  int threads = 2;
  int input_size = engine::DetectorOptions().input_size;  // object detection only
};

void PrintSummary(const engine::TrainingReport& report, const std::string& out) {
  std::printf("model:       %s (backbone: %s)\n", report.chosen.c_str(),
              report.backbone_used ? "nsfwjs MobileNetV2" : "none, from scratch only");
  std::printf("images:      %d training, %d validation, %zu skipped\n", report.num_training_images,
              report.num_validation_images, report.skipped.size());
  for (const auto& candidate : report.candidates) {
    std::printf("  candidate %-12s validation macro-F1 %.3f  (%d epochs, %.1f s)\n",
                candidate.family.c_str(), candidate.validation_f1, candidate.epochs, candidate.seconds);
  }
  std::printf("validation:  F1 %.3f (assumed thresholds), macro-F1 %.3f, accuracy %.3f\n",
              report.validation.f1, report.validation.macro_f1_at_default, report.validation.accuracy);
  std::printf("time:        %.1f s total (decode %.1f s, features %.1f s at %.0f img/s, training %.1f s)%s\n",
              report.total_seconds, report.decode_seconds, report.feature_seconds,
              report.feature_images_per_second, report.train_seconds,
              report.time_guard_hit ? " [time guard hit: not reproducible]" : "");
  std::printf("written to:  %s\n", out.c_str());
}

std::filesystem::path BackboneDir(const TrainFlags& flags) {
  return flags.backbone_dir.empty() ? engine::DefaultBackboneDir()
                                    : std::filesystem::path(flags.backbone_dir);
}

void PrintDetectorSummary(const engine::DetectorTrainingReport& report, const TrainFlags& flags) {
  std::printf("model:       object detector (input %d px, backbone: %s)\n", flags.input_size,
              report.backbone_used ? "nsfwjs MobileNetV2" : "none, trained from scratch");
  std::printf("images:      %d training, %d validation, %zu skipped\n", report.num_training_images,
              report.num_validation_images, report.skipped.size());
  std::printf("epochs:      %d (final loss %.3f)\n", report.epochs, report.final_loss);
  const engine::DetectionEvaluation& validation = report.validation;
  std::printf(
      "validation:  mAP@0.5 %.3f, average recall %.3f, F1 %.3f, precision %.3f, recall %.3f"
      " (assumed thresholds)\n",
      validation.average_precision, validation.average_recall, validation.result.f1,
      validation.result.precision, validation.result.recall);
  if (report.final_fit_images > 0) {
    std::printf("final fit:   the saved model trained again on all %d images (training + validation);"
                " the validation figures are the first fit's\n", report.final_fit_images);
  }
  std::printf("time:        %.1f s total (decode %.1f s, features %.1f s, training %.1f s)%s\n",
              report.total_seconds, report.decode_seconds, report.feature_seconds,
              report.train_seconds,
              report.time_guard_hit ? " [time guard hit: not reproducible]" : "");
  std::printf("written to:  %s\n", flags.out.c_str());
}

int RunTrainDetector(const TrainFlags& flags) {
  if (flags.model != "auto") {
    std::fprintf(stderr, "note: --model %s applies to classification only; ignored\n",
                 flags.model.c_str());
  }
  auto train = LoadDetectionManifestFile(flags.manifest, flags.data_dir);
  if (!train.ok()) {
    std::fprintf(stderr, "error: %s\n", train.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<LoadedDetectionManifest> validation;
  if (!flags.validation_manifest.empty()) {
    auto loaded =
        LoadDetectionManifestFile(flags.validation_manifest, flags.data_dir, train->set.labels);
    if (!loaded.ok()) {
      std::fprintf(stderr, "error: %s\n", loaded.status().ToString().c_str());
      return 1;
    }
    for (const auto& line : loaded->skipped_lines) {
      std::fprintf(stderr, "skipped %s\n", line.c_str());
    }
    validation = std::make_unique<LoadedDetectionManifest>(std::move(loaded).value());
  }
  engine::DetectorOptions options;
  options.output_dir = flags.out;
  options.backbone_dir = BackboneDir(flags);
  options.seed = flags.seed;
  if (flags.time_budget > 0) options.time_budget_seconds = flags.time_budget;
  options.threads = flags.threads;
  options.input_size = flags.input_size;
  ProgressBar progress;
  auto report = engine::TrainDetector(train->set, validation ? &validation->set : nullptr, options,
                                      &progress);
  progress.Finish();
  if (!report.ok()) {
    std::fprintf(stderr, "error: %s\n", report.status().ToString().c_str());
    return 1;
  }
  for (const auto& skipped : report->skipped) {
    std::fprintf(stderr, "skipped %s: %s\n", skipped.source_ref.c_str(),
                 skipped.reason.ToString().c_str());
  }
  PrintDetectorSummary(*report, flags);
  return 0;
}

int RunTrainClassifier(const TrainFlags& flags) {
  auto train = LoadClassificationManifest(flags.manifest, flags.data_dir);
  if (!train.ok()) {
    std::fprintf(stderr, "error: %s\n", train.status().ToString().c_str());
    return 1;
  }
  for (const auto& line : train->skipped_lines) std::fprintf(stderr, "skipped %s\n", line.c_str());
  std::unique_ptr<LoadedManifest> validation;
  if (!flags.validation_manifest.empty()) {
    auto loaded = LoadClassificationManifest(flags.validation_manifest, flags.data_dir, train->set.labels);
    if (!loaded.ok()) {
      std::fprintf(stderr, "error: %s\n", loaded.status().ToString().c_str());
      return 1;
    }
    validation = std::make_unique<LoadedManifest>(std::move(loaded).value());
    validation->set.multi_label = train->set.multi_label;
  }
  engine::TrainingOptions options;
  options.output_dir = flags.out;
  options.backbone_dir = BackboneDir(flags);
  options.seed = flags.seed;
  if (flags.time_budget > 0) options.time_budget_seconds = flags.time_budget;
  options.threads = flags.threads;
  options.family = flags.model == "scratch"       ? engine::ModelFamily::kScratch
                   : flags.model == "frozen-head" ? engine::ModelFamily::kFrozenHead
                   : flags.model == "fine-tune"   ? engine::ModelFamily::kFineTune
                   : flags.model == "conv-head"   ? engine::ModelFamily::kConvHead
                                                  : engine::ModelFamily::kAuto;
  ProgressBar progress;
  auto report = engine::TrainClassifier(train->set, validation ? &validation->set : nullptr, options, &progress);
  progress.Finish();
  if (!report.ok()) {
    std::fprintf(stderr, "error: %s\n", report.status().ToString().c_str());
    return 1;
  }
  for (const auto& skipped : report->skipped) {
    std::fprintf(stderr, "skipped %s: %s\n", skipped.source_ref.c_str(), skipped.reason.ToString().c_str());
  }
  PrintSummary(*report, flags.out);
  return 0;
}

int RunTrain(const TrainFlags& flags) {
  auto kind = DetectManifestKind(flags.manifest);
  if (!kind.ok()) {
    std::fprintf(stderr, "error: %s\n", kind.status().ToString().c_str());
    return 1;
  }
  return *kind == ManifestKind::kObjectDetection ? RunTrainDetector(flags)
                                                 : RunTrainClassifier(flags);
}

}  // namespace

void AddTrainCommand(CLI::App& app, int* exit_code) {
  auto* cmd =
      app.add_subcommand("train",
                         "Train a model from a Ground Truth manifest: an object detector when the "
                         "manifest has bounding-box\n"
                         "(groundtruth/object-detection) labels, else an image classifier.");
  auto flags = std::make_shared<TrainFlags>();
  cmd->add_option("--manifest", flags->manifest, "Training manifest (JSON Lines)")->required();
  cmd->add_option(
      "--validation-manifest", flags->validation_manifest,
      "Validation manifest; without it 20 % (classification, stratified) or 15 % (detection) "
      "is held out");
  cmd->add_option("--out", flags->out, "Model folder to create")->required();
  cmd->add_option("--seed", flags->seed, "Random seed")->capture_default_str();
  cmd->add_option("--time-budget", flags->time_budget,
                  "Training time budget in seconds [default: 60 for image classification, 300 for "
                  "object detection]")
      ->envname("OSPREY_TIME_BUDGET")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--data-dir", flags->data_dir, "Data folder; s3://b/k is read from <data-dir>/buckets/b/k")
      ->envname("OSPREY_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--backbone-dir", flags->backbone_dir,
                  "Pretrained backbone (scripts/fetch_backbone.sh); default ~/.cache/osprey/backbone")
      ->envname("OSPREY_BACKBONE_DIR");
  cmd->add_option("--threads", flags->threads, "Intra-op threads")
      ->envname("OSPREY_TRAIN_THREADS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--model", flags->model,
                  "Classifier family: auto, scratch, frozen-head, fine-tune, conv-head")
      ->check(CLI::IsMember({"auto", "scratch", "frozen-head", "fine-tune", "conv-head"}))
      ->capture_default_str();
  cmd->add_option(
         "--input-size", flags->input_size,
         "Object detection: side of the square (letterboxed) network input, a multiple of 32")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            int value = 0;
            auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            bool ok = error == std::errc() && end == text.data() + text.size() && value >= 64 &&
                      value <= 1024 && value % 32 == 0;
            return ok ? "" : "must be a multiple of 32 from 64 to 1024";
          },
          "64..1024, MULTIPLE OF 32"))
      ->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunTrain(*flags); });
}

}  // namespace osprey::cli

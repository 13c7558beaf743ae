// Detection training benchmark (issue 6): trains on a datagen `scenes` set, evaluates on its
// test split and times inference at 1 intra-op thread.
//
//   bash ../shared/datagen/make_sets.sh /tmp/dg bench
//   build/bench/train_detect --set /tmp/dg/scenes [--budget 300] [--size 416] [--seed 1]  (engine defaults)
//                            [--out DIR] [--draw DIR] [--no-val] [--epochs N]
//                            [--feature-cache FILE] [--train-map] [--backbone-dir DIR] [--threads N]
//                            [--model DIR] [--head-cache FILE] [--grid N] [--background 0|1] [--c5 0|1]
//                            [--c3-grid N] [--final-fit none|classifier|all] [--refiner 0|1]
//
// --model evaluates and times an existing model folder instead of training one.
//
// --feature-cache reuses the frozen-backbone features across runs with the same set and size
// (experiments on the head only; delete the file when the data or the backbone changes).
// --head-cache does the same for the trained head (experiments on the box classifier only).
// --grid / --background / --c5 / --c3-grid set the box classifier's layout
// (DetectorOptions::box_grid, box_background, box_c5, box_c3_grid).
// --refiner 0 trains no box refiner (DetectorOptions::box_refiner).
// --train-map also evaluates on the training images (over- or under-fitting).
// --final-fit sets DetectorOptions::final_fit (default all: head and classifier trained again on
// training + validation images after validation scored the first fit).
//
// Prints mAP@0.5, average recall, per-label AP/F1/precision/recall/threshold, decode/feature/
// head times, and p50/p99 latency of DetectionPredictor::Detect (decode included) per image.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/detector.h"
#include "image/image.h"

namespace {

using osprey::engine::DetectedObject;
namespace engine = osprey::engine;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void DrawBox(osprey::image::Image& img, const engine::Box& ratio, uint8_t r, uint8_t g, uint8_t b) {
  engine::Box px = engine::Denormalise(ratio, img.width, img.height);
  int x0 = std::clamp(static_cast<int>(px.left), 0, img.width - 1);
  int y0 = std::clamp(static_cast<int>(px.top), 0, img.height - 1);
  int x1 = std::clamp(static_cast<int>(px.right()), 0, img.width - 1);
  int y1 = std::clamp(static_cast<int>(px.bottom()), 0, img.height - 1);
  auto put = [&](int x, int y) {
    uint8_t* p = &img.rgb[(static_cast<size_t>(y) * img.width + x) * 3];
    p[0] = r, p[1] = g, p[2] = b;
  };
  for (int t = 0; t < 2; ++t) {
    for (int x = x0; x <= x1; ++x) put(x, std::min(y0 + t, img.height - 1)), put(x, std::max(y1 - t, 0));
    for (int y = y0; y <= y1; ++y) put(std::min(x0 + t, img.width - 1), y), put(std::max(x1 - t, 0), y);
  }
}

// Process CPU seconds (all threads): comparable across runs on a loaded machine, unlike wall time.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

class PrintObserver : public engine::TrainingObserver {
 public:
  // CPU seconds when the features started and ended and when the last head epoch ended.
  double features_start = 0, features_end = 0, head_end = 0;

  void OnProgress(std::string_view stage, int done, int total) override {
    if (stage == "features") (done == 0 ? features_start : features_end) = CpuSeconds();
    if (stage == "head" && done == total) head_end = CpuSeconds();
    if (stage == "head" && done % 10 != 0 && done != total) return;
    std::fprintf(stderr, "  %.*s %d/%d\n", static_cast<int>(stage.size()), stage.data(), done, total);
  }
  void OnMessage(std::string_view message) override {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(message.size()), message.data());
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path set_dir, out_dir, draw_dir, model_dir;
  engine::DetectorOptions options;
  options.backbone_dir = engine::DefaultBackboneDir();
  bool use_val = true;
  for (int arg = 1; arg < argc; ++arg) {
    std::string flag = argv[arg];
    auto next = [&]() -> std::string { return arg + 1 < argc ? argv[++arg] : ""; };
    if (flag == "--set") set_dir = next();
    else if (flag == "--out") out_dir = next();
    else if (flag == "--draw") draw_dir = next();
    else if (flag == "--budget") options.time_budget_seconds = std::atof(next().c_str());
    else if (flag == "--size") options.input_size = std::atoi(next().c_str());
    else if (flag == "--seed") options.seed = std::strtoull(next().c_str(), nullptr, 10);
    else if (flag == "--epochs") options.max_epochs = std::atoi(next().c_str());
    else if (flag == "--no-val") use_val = false;
    else if (flag == "--feature-cache") options.feature_cache_file = next();
    else if (flag == "--model") model_dir = next();
    else if (flag == "--threads") options.threads = std::atoi(next().c_str());
    else if (flag == "--head-cache") options.head_cache_file = next();
    else if (flag == "--grid") options.box_grid = std::atoi(next().c_str());
    else if (flag == "--c3-grid") options.box_c3_grid = std::atoi(next().c_str());
    else if (flag == "--refiner") options.box_refiner = std::atoi(next().c_str()) != 0;
    else if (flag == "--head-c5") options.head_c5 = std::atoi(next().c_str()) != 0;
    else if (flag == "--c5") options.box_c5 = std::atoi(next().c_str()) != 0;
    else if (flag == "--background") options.box_background = std::atoi(next().c_str()) != 0;
    else if (flag == "--train-map") options.evaluate_training_images = true;
    else if (flag == "--final-fit") {
      std::string what = next();
      using Fit = engine::DetectorOptions::FinalFit;
      if (what == "none") options.final_fit = Fit::kNone;
      else if (what == "classifier") options.final_fit = Fit::kClassifier;
      else if (what == "all") options.final_fit = Fit::kHeadAndClassifier;
      else return std::fprintf(stderr, "--final-fit takes none, classifier or all\n"), 2;
    }
    else if (flag == "--backbone-dir") options.backbone_dir = next();
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (set_dir.empty()) {
    std::fprintf(stderr, "usage: train_detect --set SCENES_DIR [--budget S] [--size N] [--seed N] [--out DIR] [--draw DIR]\n");
    return 2;
  }
  if (out_dir.empty()) out_dir = std::filesystem::temp_directory_path() / ("train_detect_" + std::to_string(::getpid()));
  if (model_dir.empty()) std::filesystem::remove_all(out_dir);
  options.output_dir = out_dir;

  auto train = engine::LoadDetectionManifest(set_dir / "train.manifest", set_dir);
  if (!train.ok()) return std::fprintf(stderr, "%s\n", train.status().ToString().c_str()), 1;
  auto val = engine::LoadDetectionManifest(set_dir / "val.manifest", set_dir, train->labels);
  auto test = engine::LoadDetectionManifest(set_dir / "test.manifest", set_dir, train->labels);
  if (!test.ok()) return std::fprintf(stderr, "%s\n", test.status().ToString().c_str()), 1;
  bool have_val = use_val && val.ok() && val->labels == train->labels;

  if (!model_dir.empty()) {
    out_dir = model_dir;
  } else {
    engine::SetEngineThreads(options.threads);
    PrintObserver observer;
    auto report = engine::TrainDetector(*train, have_val ? &*val : nullptr, options, &observer);
    if (!report.ok()) return std::fprintf(stderr, "training: %s\n", report.status().ToString().c_str()), 1;
    std::printf("training: %d images (+%d validation), %zu skipped, %d epochs, final loss %.3f\n",
                report->num_training_images, report->num_validation_images, report->skipped.size(),
                report->epochs, report->final_loss);
    if (report->final_fit_images > 0) {
      std::printf("final fit: %d images (training + validation), %.1f s\n", report->final_fit_images,
                  report->final_fit_seconds);
    }
    std::printf("time: decode %.1f s, features %.1f s, head %.1f s + classifier %.1f s"
                " + final fit %.1f s, total %.1f s (budget %.0f s)%s\n",
                report->decode_seconds, report->feature_seconds, report->head_seconds,
                report->train_seconds - report->head_seconds - report->final_fit_seconds, report->final_fit_seconds,
                report->total_seconds, options.time_budget_seconds,
                report->time_guard_hit ? " TIME GUARD HIT" : "");
    double cpu_end = CpuSeconds();
    if (observer.head_end == 0) observer.head_end = observer.features_end;  // head read from --head-cache
    std::printf("cpu: features %.1f s, head %.1f s, classifier + evaluation %.1f s, total %.1f s\n",
                observer.features_end - observer.features_start, observer.head_end - observer.features_end,
                cpu_end - observer.head_end, cpu_end);
    std::printf("backbone: %s\n", report->backbone_used ? "mobilenet_v2 (frozen)" : "none (trained from scratch)");
    std::printf("validation: mAP@0.5 %.3f, AR %.3f, F1 %.3f, box label accuracy %.3f\n",
                report->validation.average_precision, report->validation.average_recall,
                report->validation.result.f1, report->validation_label_accuracy);
    if (options.evaluate_training_images) {
      std::printf("training images: mAP@0.5 %.3f, AR %.3f, F1 %.3f\n", report->training.average_precision,
                  report->training.average_recall, report->training.result.f1);
    }
  }
  engine::SetEngineThreads(1);
  auto predictor = engine::DetectionPredictor::Load(out_dir);
  if (!predictor.ok()) return std::fprintf(stderr, "load: %s\n", predictor.status().ToString().c_str()), 1;
  std::vector<engine::SkippedImage> skipped;
  auto eval = engine::EvaluateDetector(**predictor, *test, &skipped);
  if (!eval.ok()) return std::fprintf(stderr, "evaluate: %s\n", eval.status().ToString().c_str()), 1;
  std::printf("test (%d images, %zu skipped): mAP@0.5 %.3f, AR %.3f, F1 %.3f, precision %.3f, recall %.3f\n",
              eval->result.num_testing_images, skipped.size(), eval->average_precision,
              eval->average_recall, eval->result.f1, eval->result.precision, eval->result.recall);
  std::printf("%-12s %5s %6s %6s %6s %6s %9s\n", "label", "boxes", "AP", "F1", "prec", "recall", "threshold");
  for (size_t label = 0; label < eval->result.labels.size(); ++label) {
    const auto& m = eval->result.per_label[label];
    std::printf("%-12s %5d %6.3f %6.3f %6.3f %6.3f %9.3f\n", m.label.c_str(), eval->boxes_per_label[label],
                eval->average_precision_per_label[label], m.f1, m.precision, m.recall, m.threshold);
  }

  // Latency: Detect() with the model's own thresholds, decode included, 1 intra-op thread.
  std::vector<double> millis;
  for (size_t idx = 0; idx < test->images.size(); ++idx) {
    std::string bytes = ReadFile(test->images[idx].path);
    auto begin = std::chrono::steady_clock::now();
    auto objects = (*predictor)->Detect(bytes, {});
    millis.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count());
    if (!draw_dir.empty() && idx < 8 && objects.ok()) {
      auto img = osprey::image::Decode(bytes);
      if (!img.ok()) continue;
      for (const auto& box : test->images[idx].boxes) {
        DrawBox(*img, engine::Normalise(box.box, img->width, img->height), 0, 255, 0);
      }
      for (const DetectedObject& object : *objects) DrawBox(*img, object.box, 255, 0, 0);
      std::filesystem::create_directories(draw_dir);
      auto png = osprey::image::EncodePng(*img);
      if (png.ok()) {
        std::ofstream(draw_dir / ("test-" + std::to_string(idx) + ".png"), std::ios::binary)
            .write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
      }
    }
  }
  std::sort(millis.begin(), millis.end());
  auto pct = [&](double q) { return millis[std::min(millis.size() - 1, static_cast<size_t>(q * millis.size()))]; };
  std::printf("inference (1 thread, %zu images, decode included): p50 %.1f ms, p99 %.1f ms\n",
              millis.size(), pct(0.5), pct(0.99));
  std::printf("model: %s\n", out_dir.c_str());
  return 0;
}

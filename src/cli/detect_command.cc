// `osprey detect`: runs a trained model on image files and prints what it finds: labels and
// confidences for a classifier; labels, confidences and boxes for an object detector (told
// apart by IsDetectorArtifact), optionally drawn onto a copy of each image (--draw).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/classifier.h"
#include "engine/detector.h"
#include "image/draw.h"

namespace osprey::cli {
namespace {

struct DetectFlags {
  std::string model;
  std::vector<std::string> images;
  double min_confidence = -1;  // percent; < 0 means "each label's assumed threshold"
  int max_results = 0;         // 0: no limit
  std::string draw;            // object detection: output PNG (one image) or folder (several)
  int threads = 1;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read the file");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Where --draw writes the picture of `image`: the --draw path itself for a single image, else
// <folder>/<image file name without extension>.png.
std::filesystem::path DrawPath(const DetectFlags& flags, const std::string& image) {
  if (flags.images.size() == 1) return flags.draw;
  return std::filesystem::path(flags.draw) /
         (std::filesystem::path(image).stem().string() + ".png");
}

// Refuses --draw runs whose outputs would overwrite each other; creates the folder.
Status PrepareDraw(const DetectFlags& flags) {
  if (flags.draw.empty()) return Status::Ok();
  if (flags.images.size() == 1) {
    if (std::filesystem::is_directory(flags.draw)) {
      return Status::InvalidArgument("--draw " + flags.draw +
                                     " is a folder; with one image it names the PNG file");
    }
    return Status::Ok();
  }
  std::set<std::filesystem::path> outputs;
  for (const std::string& image : flags.images) {
    if (!outputs.insert(DrawPath(flags, image)).second) {
      return Status::InvalidArgument("two images would both be drawn to " +
                                     DrawPath(flags, image).string());
    }
  }
  std::error_code error;
  std::filesystem::create_directories(flags.draw, error);
  if (error) {
    return Status::InvalidArgument("cannot create --draw folder " + flags.draw + ": " +
                                   error.message());
  }
  return Status::Ok();
}

Status WriteDrawing(const std::filesystem::path& path, const std::string& bytes,
                    const std::vector<engine::DetectedObject>& objects) {
  std::vector<image::DrawnBox> boxes;
  // Least confident first, so the most confident box ends up on top.
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    char caption[64];
    std::snprintf(caption, sizeof(caption), " %.1f", 100.0 * it->confidence);
    boxes.push_back({it->box.left, it->box.top, it->box.width, it->box.height, it->label + caption,
                     it->label_index});
  }
  OSPREY_ASSIGN_OR_RETURN(std::vector<uint8_t> png, image::DrawBoxes(bytes, boxes));
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  out.close();
  if (!out) return Status::Internal("cannot write " + path.string());
  return Status::Ok();
}

int RunDetectObjects(const DetectFlags& flags) {
  auto predictor = engine::DetectionPredictor::Load(flags.model);
  if (!predictor.ok()) {
    std::fprintf(stderr, "error: %s\n", predictor.status().ToString().c_str());
    return 1;
  }
  if (Status prepared = PrepareDraw(flags); !prepared.ok()) {
    std::fprintf(stderr, "error: %s\n", prepared.ToString().c_str());
    return 1;
  }
  // DetectCustomLabels semantics (rekognition-api.md §12): MinConfidence replaces the per-label
  // assumed thresholds when given; MaxResults keeps the most confident objects.
  engine::DetectOptions options;
  options.min_confidence =
      flags.min_confidence >= 0 ? static_cast<float>(flags.min_confidence / 100.0) : -1.0f;
  options.max_results = flags.max_results;
  int failures = 0;
  for (const std::string& path : flags.images) {
    auto bytes = ReadFile(path);
    if (!bytes.ok()) {
      std::fprintf(stderr, "%s: error: %s\n", path.c_str(), bytes.status().message().c_str());
      ++failures;
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    auto objects = (*predictor)->Detect(*bytes, options);
    double ms = MillisSince(start);
    if (!objects.ok()) {
      std::fprintf(stderr, "%s: error: %s\n", path.c_str(), objects.status().ToString().c_str());
      ++failures;
      continue;
    }
    std::printf("%s (%.1f ms)\n", path.c_str(), ms);
    for (const auto& object : *objects) {
      std::printf("  %-24s %6.2f  Left %.4f Top %.4f Width %.4f Height %.4f\n",
                  object.label.c_str(), 100.0 * object.confidence, object.box.left, object.box.top,
                  object.box.width, object.box.height);
    }
    if (flags.draw.empty()) continue;
    std::filesystem::path out = DrawPath(flags, path);
    if (Status drawn = WriteDrawing(out, *bytes, *objects); !drawn.ok()) {
      std::fprintf(stderr, "%s: error: %s\n", path.c_str(), drawn.ToString().c_str());
      ++failures;
      continue;
    }
    std::printf("  drawn to %s\n", out.c_str());
  }
  return failures == 0 ? 0 : 1;
}

int RunClassify(const DetectFlags& flags) {
  if (!flags.draw.empty()) {
    std::fprintf(stderr, "error: --draw needs an object-detection model; %s is a classifier\n",
                 flags.model.c_str());
    return 1;
  }
  auto predictor = engine::Predictor::Load(flags.model);
  if (!predictor.ok()) {
    std::fprintf(stderr, "error: %s\n", predictor.status().ToString().c_str());
    return 1;
  }
  int failures = 0;
  for (const std::string& path : flags.images) {
    auto bytes = ReadFile(path);
    if (!bytes.ok()) {
      std::fprintf(stderr, "%s: error: %s\n", path.c_str(), bytes.status().message().c_str());
      ++failures;
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    auto predictions = (*predictor)->Predict(*bytes);
    double ms = MillisSince(start);
    if (!predictions.ok()) {
      std::fprintf(stderr, "%s: error: %s\n", path.c_str(), predictions.status().ToString().c_str());
      ++failures;
      continue;
    }
    std::printf("%s (%.1f ms)\n", path.c_str(), ms);
    const auto& labels = (*predictor)->labels();
    int shown = 0;
    for (const auto& prediction : *predictions) {
      // DetectCustomLabels semantics (rekognition-api.md §12): MinConfidence replaces the
      // per-label assumed thresholds when given.
      size_t label_idx = std::find(labels.begin(), labels.end(), prediction.label) - labels.begin();
      double threshold = flags.min_confidence >= 0 ? flags.min_confidence / 100.0
                                                   : (*predictor)->thresholds()[label_idx];
      if (prediction.confidence < threshold) continue;
      if (flags.max_results > 0 && shown == flags.max_results) break;
      std::printf("  %-24s %6.2f\n", prediction.label.c_str(), 100.0 * prediction.confidence);
      ++shown;
    }
  }
  return failures == 0 ? 0 : 1;
}

int RunDetect(const DetectFlags& flags) {
  // One intra-op thread, as when serving (ML-ENGINE-SPIKE.md: 2 threads collapse under load).
  engine::SetEngineThreads(flags.threads);
  return engine::IsDetectorArtifact(flags.model) ? RunDetectObjects(flags) : RunClassify(flags);
}

}  // namespace

void AddDetectCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("detect",
                                 "Run a trained model on image files: labels for a classifier, "
                                 "labels and boxes for a detector.");
  auto flags = std::make_shared<DetectFlags>();
  cmd->add_option("--model", flags->model, "Model folder written by `osprey train`")->required();
  cmd->add_option("images", flags->images, "PNG or JPEG files")->required();
  cmd->add_option("--min-confidence", flags->min_confidence,
                  "Show labels/objects at or above this confidence (0-100); default: each label's "
                  "assumed threshold")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option(
         "--max-results", flags->max_results,
         "Show at most this many labels/objects per image, most confident first; default: all")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
      "--draw", flags->draw,
      "Object detection: write each image as PNG with its boxes and labels drawn.\n"
      "With one IMAGE, the PNG file to write; with several, a folder (created) that receives\n"
      "<image file name without extension>.png per image (those names must differ)");
  cmd->add_option("--threads", flags->threads, "Intra-op threads")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunDetect(*flags); });
}

}  // namespace osprey::cli

// Image classification: training (TrainClassifier) and inference (Predictor) on plain structs.
// This is the engine's public interface; it does not include LibTorch. See docs/design/engine.md
// for the models, the time-budget rule and the artifact layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/evaluation.h"

namespace osprey::engine {

// One training or test image: where its bytes are and the indices of its labels.
struct LabelledImage {
  std::string source_ref;      // as written in the manifest, for messages
  std::filesystem::path path;  // local file holding the image bytes
  std::vector<int> labels;     // indices into TrainingSet::labels; one for single-label sets
};

struct TrainingSet {
  std::vector<std::string> labels;  // label names, index = label id
  bool multi_label = false;         // sigmoid per label instead of a softmax over labels
  std::vector<LabelledImage> images;
};

// Which model family to train. kAuto trains every applicable family within the time budget and
// keeps the one (or the ensemble of two) with the best validation score.
enum class ModelFamily { kAuto, kScratch, kFrozenHead, kFineTune, kConvHead };

// Options, like leveldb's Options: plain data with documented defaults.
struct TrainingOptions {
  std::filesystem::path output_dir;    // the model artifact folder (created; must not exist)
  std::filesystem::path backbone_dir;  // converted/fetched backbone; empty or missing = none
  uint64_t seed = 1;                   // same seed and inputs -> same model and metrics
  // Training time budget in seconds, for everything after decoding. Epoch counts are derived
  // from it with a fixed cost model, not from the clock, so results stay reproducible; a
  // wall-clock guard stops a run that exceeds 3 x budget + 60 s (reported, not reproducible).
  double time_budget_seconds = 60;
  int threads = 2;                     // intra-op threads while training
  double validation_fraction = 0.2;    // held out per label when no validation set is given
  ModelFamily family = ModelFamily::kAuto;
  // Average each image's scores with its mirror image's when serving. Doubles the inference
  // cost for a few points of F1 on some sets (docs/design/engine.md).
  bool test_time_flip = false;
  // When set, every candidate is also saved there as its own artifact, in a folder named after
  // its family (for benchmarks that compare the candidates on test data).
  std::filesystem::path candidates_dir;
};

// Progress callbacks. OnProgress and OnMessage are called from the training thread or a progress
// thread of the trainer, never from two threads at once; implementations must not block for long.
class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  // `stage` is one of "decode", "features", "head", "conv-head", "fine-tune", "scratch";
  // done <= total.
  virtual void OnProgress(std::string_view stage, int done, int total) = 0;
  // A human-readable note (e.g. that the backbone is absent).
  virtual void OnMessage(std::string_view message) = 0;
  // Polled between epochs, possibly from two trainer threads at once (implementations read an
  // atomic flag): true stops the training early, which then returns kCancelled and writes no
  // model. The server asks this when it shuts down.
  virtual bool StopRequested() { return false; }
};

// What training returns when TrainingObserver::StopRequested ended it (kCancelled).
Status StoppedOnRequest();

struct SkippedImage {
  std::string source_ref;
  Status reason;  // kInvalidImage, kImageTooLarge, kNotFound, ...
};

struct CandidateResult {
  std::string family;           // "frozen-head", "fine-tune", "conv-head", "scratch", or members
                                // joined by "+" for an ensemble
  double validation_f1 = 0;     // macro-F1 of the default decision on the validation split
  double seconds = 0;           // wall time spent training it
  int epochs = 0;
  // Process CPU time (all threads) spent training it: on a busy machine a better estimate
  // than the wall time of what it costs on a quiet one (docs/design/engine.md, cost model).
  double cpu_seconds = 0;
};

struct TrainingReport {
  bool backbone_used = false;
  std::string chosen;  // the family kept
  std::vector<CandidateResult> candidates;
  int num_training_images = 0;
  int num_validation_images = 0;
  std::vector<SkippedImage> skipped;
  double decode_seconds = 0;
  double feature_seconds = 0;            // backbone feature extraction (incl. flips)
  double feature_cpu_seconds = 0;        // the same, process CPU time
  double feature_images_per_second = 0;  // backbone forward passes per second
  double train_seconds = 0;              // all candidates
  double total_seconds = 0;
  double training_gflop = 0;             // estimated FLOPs spent (3x forward), in GFLOP
  bool time_guard_hit = false;
  EvaluationResult validation;  // the kept model on the validation split
  // The kept model's validation macro-F1 without and with test-time flips
  // (TrainingOptions::test_time_flip decides which one the artifact serves).
  double validation_f1_without_flip = 0;
  double validation_f1_with_flip = 0;
};

// Trains a classifier and writes the artifact to options.output_dir.
// `validation` may be null: then a seeded, stratified validation_fraction is held out of
// `train`. Unreadable, corrupt or oversized images are skipped and listed in the report.
// Returns kInvalidArgument when fewer than 2 labels or no usable images remain, kAlreadyExists
// when output_dir exists, kInternal for engine failures.
Result<TrainingReport> TrainClassifier(const TrainingSet& train, const TrainingSet* validation,
                                       const TrainingOptions& options, TrainingObserver* observer);

// The backbone folder used when none is configured: $OSPREY_BACKBONE_DIR, else
// $XDG_CACHE_HOME/osprey/backbone, else ~/.cache/osprey/backbone.
std::filesystem::path DefaultBackboneDir();

// Returns OK when a backbone can be loaded (and converted, on first use) from `dir`,
// kNotFound when it was never fetched, another code when it is damaged.
Status CheckBackbone(const std::filesystem::path& dir);

// Sets the number of intra-op threads for this process (1 for serving, 2 for training).
void SetEngineThreads(int threads);

struct Prediction {
  std::string label;
  float confidence = 0;  // 0..1
};

// A trained model loaded from its artifact folder; needs neither the training data nor the
// backbone cache. Not thread-safe: use one Predictor per thread.
class Predictor {
 public:
  // Returns kNotFound if `dir` holds no model, kInvalidArgument if its format is unknown.
  static Result<std::unique_ptr<Predictor>> Load(const std::filesystem::path& dir);
  virtual ~Predictor() = default;

  // Confidence for every label, in label order. Returns kInvalidImage / kImageTooLarge for
  // images that cannot be decoded or break the limits.
  virtual Result<std::vector<float>> Scores(std::string_view image_bytes) = 0;
  // All labels, highest confidence first.
  Result<std::vector<Prediction>> Predict(std::string_view image_bytes);

  const std::vector<std::string>& labels() const { return labels_; }
  bool multi_label() const { return multi_label_; }
  // Per-label assumed thresholds (0..1), chosen on validation data when training.
  const std::vector<float>& thresholds() const { return thresholds_; }
  const std::string& family() const { return family_; }
  int number_of_training_images() const { return number_of_training_images_; }

 protected:
  std::vector<std::string> labels_;
  bool multi_label_ = false;
  std::vector<float> thresholds_;
  std::string family_;
  int number_of_training_images_ = 0;
};

// Scores every image of `test` with `predictor` and evaluates the result. Images that cannot
// be read or decoded are skipped and appended to *skipped.
// Returns kInvalidArgument when `test` uses a label the model does not know.
Result<EvaluationResult> EvaluateModel(Predictor& predictor, const TrainingSet& test,
                                       std::vector<SkippedImage>* skipped);

}  // namespace osprey::engine

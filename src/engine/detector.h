// Object detection: training (TrainDetector) and inference (DetectionPredictor) on plain
// structs. This is the engine's public detection interface; it does not include LibTorch.
// Model: an anchor-free, CenterNet-style head (a class-agnostic centre heatmap plus box size and
// centre offset at stride 8) and a box classifier on the features averaged inside each box, on a
// small feature pyramid (strides 8, 16 and 32) of the frozen pretrained MobileNetV2, or of a
// small dense trunk trained from scratch when the backbone is absent; letterboxed square input.
// See docs/design/detection.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/box_math.h"
#include "engine/classifier.h"
#include "engine/detection_eval.h"

namespace osprey::engine {

struct AnnotatedBox {
  int label = 0;  // index into DetectionTrainingSet::labels
  Box box;        // pixels of the image as declared by width/height (the manifest's image_size)
};

// One training or test image of an object-detection set.
struct DetectionImage {
  std::string source_ref;      // as written in the manifest, for messages
  std::filesystem::path path;  // local file holding the image bytes
  // The declared size (Ground Truth `image_size`); 0 = unknown, the decoded size is used.
  // When it differs from the decoded size, boxes are scaled to the decoded image.
  int width = 0, height = 0;
  std::vector<AnnotatedBox> boxes;  // may be empty (an image with no objects)
};

struct DetectionTrainingSet {
  std::vector<std::string> labels;  // label names, index = label id
  std::vector<DetectionImage> images;
};

// Plain options with documented defaults, like TrainingOptions.
struct DetectorOptions {
  std::filesystem::path output_dir;    // the model artifact folder (created; must not exist)
  std::filesystem::path backbone_dir;  // the pretrained backbone (DefaultBackboneDir())
  uint64_t seed = 1;                   // same seed and inputs -> same model and metrics
  // Budget in seconds for everything after decoding. The epoch count is derived from it with a
  // fixed cost model (not the clock), so runs are reproducible; a wall-clock guard stops a run
  // that exceeds 3 x budget + 60 s (reported in time_guard_hit, then not reproducible).
  double time_budget_seconds = 300;
  int threads = 2;                   // threads while training
  // Letterbox side in pixels, a multiple of 32. 416 with the c5-free head: test mAP@0.5 0.385-0.388
  // against 0.339-0.349 at 320 (before the final fit), p50 30-32 ms per 640x480 image serving the
  // image's band (docs/design/detection.md).
  int input_size = 416;
  double validation_fraction = 0.15; // held out (seeded) when no validation set is given
  int max_epochs = 0;                // > 0 caps the epochs the cost model allows (for tests)
  // Benchmarks only: when set, the frozen-backbone features of the training and validation
  // images are read from this file if it holds features of the same shape, else computed and
  // written there. The caller keeps the file in step with the data; the model is unchanged.
  std::filesystem::path feature_cache_file;
  // Benchmarks only, like feature_cache_file: the trained head is read from this file when it
  // exists (its training skipped), else trained and written there. For experiments on the box
  // classifier; the caller keeps the file in step with the data, seed and budget.
  std::filesystem::path head_cache_file;
  bool evaluate_training_images = false;  // also fill DetectorTrainingReport::training
  // The box classifier's input: c4 averaged over the box, plus (grid > 1) c4 averaged in
  // grid x grid bins of the box; and whether it learns a "no object" output from the head's
  // false positives on the training images. docs/design/detection.md.
  int box_grid = 3;
  bool box_background = true;
  // Also the c5 (stride 32) mean over the box: mostly the scene around a small object; without
  // it, labels of unseen objects in unseen scenes are better (docs/design/detection.md).
  bool box_c5 = false;
  // > 0: also c3 (stride 8) in box_c3_grid x box_c3_grid bins of the box (finer cells for small
  // objects: +0.009 and +0.023 test mAP on two seeds); 0: no c3 (docs/design/detection.md).
  int box_c3_grid = 3;
  // The head's stride-16 level also reads c5 (out_relu, stride 32, upsampled). Without it (and
  // without box_c5) the backbone stops after block 13's expansion: test mAP@0.5 +0.015 to +0.03
  // on two seeds, 15-25 % faster training and 1-3 ms less per image (docs/design/detection.md).
  bool head_c5 = false;
  // A second stage moves and rescales each candidate box before it is classified: a linear
  // regression on c4 and c3 pooled over the box and a margin around it, trained on jittered true
  // boxes (test mAP@0.5 0.406 -> 0.436 with a fixed head on seed 1; docs/design/detection.md,
  // "Box refiner"). Not on the from-scratch path.
  bool box_refiner = true;
  // What is trained again on the training and validation images together once the model trained
  // on the training images alone has been scored on validation (its thresholds and metrics are
  // the ones reported and stored): the validation objects are objects the served model would
  // otherwise never see. Applies only when validation images are not the training images.
  enum class FinalFit { kNone, kClassifier, kHeadAndClassifier };
  FinalFit final_fit = FinalFit::kHeadAndClassifier;
};

struct DetectorTrainingReport {
  int num_training_images = 0;
  int num_validation_images = 0;
  std::vector<SkippedImage> skipped;  // unreadable images, or images with invalid boxes
  int epochs = 0;
  double final_loss = 0;
  double decode_seconds = 0;
  double feature_seconds = 0;  // frozen-backbone features, each image and its mirror image
  double train_seconds = 0;    // the head and the box classifier (both fits; not evaluation)
  double head_seconds = 0;     // the head alone (part of train_seconds)
  // The final fit on training + validation images (DetectorOptions::final_fit), part of
  // train_seconds; final_fit_images is 0 when there was none.
  double final_fit_seconds = 0;
  int final_fit_images = 0;
  double total_seconds = 0;
  bool time_guard_hit = false;
  bool backbone_used = false;  // false: the backbone was absent; trained from scratch
  // Top-1 accuracy of the box classifier on the validation images' true boxes.
  double validation_label_accuracy = 0;
  DetectionEvaluation validation;  // the saved model on the validation images
  DetectionEvaluation training;    // on the training images (evaluate_training_images only)
};

// Trains a detector and writes the artifact to options.output_dir. `validation` may be null:
// then a seeded validation_fraction is held out of `train` (which must have >= 10 images;
// smaller sets choose thresholds on the training images). Images that cannot be read or
// decoded, and images with a box outside the image or of zero size, are skipped and listed.
// When the backbone is absent, a small dense trunk is trained from scratch with the same head
// (observer->OnMessage says so; report.backbone_used is false; model.json says "backbone":
// "none"). Returns kInvalidArgument when no usable image or no box remains, kAlreadyExists
// when output_dir exists, kInternal for engine failures.
Result<DetectorTrainingReport> TrainDetector(const DetectionTrainingSet& train,
                                             const DetectionTrainingSet* validation,
                                             const DetectorOptions& options,
                                             TrainingObserver* observer);

// True when `dir` holds a detection model (model.json with the detector format).
bool IsDetectorArtifact(const std::filesystem::path& dir);

struct DetectedObject {
  std::string label;
  int label_index = 0;
  float confidence = 0;  // 0..1
  Box box;               // ratios of the image: Left/Top/Width/Height in 0..1
};

struct DetectOptions {
  // Objects below this confidence (0..1) are dropped. < 0: each label's assumed threshold.
  float min_confidence = -1;
  int max_results = 0;  // <= 0: no limit
};

// A trained detector loaded from its artifact folder; needs neither the training data nor the
// backbone cache. Not thread-safe: use one per thread. Uses the caller's intra-op threads
// (SetEngineThreads(1) for serving).
class DetectionPredictor {
 public:
  // Returns kNotFound if `dir` holds no model, kInvalidArgument if it is not a detector.
  static Result<std::unique_ptr<DetectionPredictor>> Load(const std::filesystem::path& dir);
  virtual ~DetectionPredictor() = default;

  // Objects, most confident first, after class-aware NMS. Returns kInvalidImage /
  // kImageTooLarge for images that cannot be decoded or break the limits.
  virtual Result<std::vector<DetectedObject>> Detect(std::string_view image_bytes,
                                                     const DetectOptions& options) = 0;

  const std::vector<std::string>& labels() const { return labels_; }
  // Per-label assumed thresholds (0..1), chosen on validation data when training.
  const std::vector<float>& thresholds() const { return thresholds_; }
  int input_size() const { return input_size_; }
  int number_of_training_images() const { return number_of_training_images_; }

 protected:
  std::vector<std::string> labels_;
  std::vector<float> thresholds_;
  int input_size_ = 0;
  int number_of_training_images_ = 0;
};

// Runs `predictor` on every image of `test` (every object down to confidence 0.01) and
// evaluates the result with EvaluateDetections. Unreadable images are skipped and appended to
// *skipped. Returns kInvalidArgument when `test` uses a label the model does not know.
Result<DetectionEvaluation> EvaluateDetector(DetectionPredictor& predictor,
                                             const DetectionTrainingSet& test,
                                             std::vector<SkippedImage>* skipped);

// Reads a Ground Truth object-detection manifest (rekognition-api.md §8.2): one JSON line per
// image with an attribute holding `image_size` and `annotations` (pixel boxes and class ids)
// and its `-metadata` with the `class-map`. Relative `source-ref`s are resolved against
// `image_root`; `s3://bucket/` prefixes are stripped first. Label names come from the class
// maps; `labels` seeds the label list (pass the training labels when reading a test set), new
// names are appended in sorted order. Returns kNotFound for a missing file and
// kInvalidArgument, naming the line, for malformed JSON or a line without a detection attribute.
Result<DetectionTrainingSet> LoadDetectionManifest(const std::filesystem::path& manifest,
                                                   const std::filesystem::path& image_root,
                                                   const std::vector<std::string>& labels = {});

}  // namespace osprey::engine

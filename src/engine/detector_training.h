// Engine-private: what the detector's two training paths share (detector_train.cc: decoding,
// targets, loss, evaluation, saving and the frozen-backbone path; detector_refine.cc: the box
// refiner's training; detector_scratch.cc: the from-scratch path). Only engine/detector_*.cc
// include this header.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <vector>

#include "engine/detector.h"
#include "engine/detector_net.h"

namespace osprey::engine::detector_training {

using Clock = std::chrono::steady_clock;
inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr int kBatchSize = 16;

// One decoded image: the letterboxed pixels and its boxes in letterbox pixels.
struct Sample {
  image::Image boxed;
  Letterbox letterbox;
  int width = 0, height = 0;  // decoded size
  std::vector<AnnotatedBox> boxes;
};

// Cached features: rows [0, n) are the images, [n, 2n) their mirror images (training only).
// Half precision halves the cache (500 images at 320 px: 0.45 GB instead of 0.9 GB).
struct FeatureCache {
  torch::Tensor c3, c4, c5;
  int64_t count = 0;
};

// Everything TrainDetector's two paths share: the decoded images and the split.
struct Prepared {
  std::vector<Sample> train, val;
  bool val_is_train = false;
};

// A box in letterbox pixels as it appears in a cached row (rows >= count are mirrored).
Box RowBox(Box box, bool mirrored, int size);
// CenterNet targets for rows [0, rows) (rows >= count are mirror images): [rows, 6, grid, grid]
// holding the class-agnostic Gaussian centre map, log w, log h, dx, dy and the centre mask.
torch::Tensor MakeTargets(const std::vector<Sample>& samples, int64_t rows, int size);
// Focal loss on the centre map plus L1 on size and offset at the centre cells.
torch::Tensor DetectionLoss(torch::Tensor output, torch::Tensor targets);

// Features of samples [begin, end) (unmirrored).
using FeatureSource = std::function<PyramidFeatures(int64_t begin, int64_t end)>;
FeatureSource CacheSource(const FeatureCache& cache);
// The model (head + refiner when set + classifier, eval mode) on `samples`, in ratios of each image.
DetectionEvaluation Evaluate(DetectorHead& head, BoxClassifier& classifier, BoxRefiner& refiner,
                             const FeatureSource& features, const std::vector<Sample>& samples,
                             const std::vector<std::string>& labels);
// Top-1 accuracy of `classifier` on the true boxes of the (unmirrored) cached rows.
double LabelAccuracy(BoxClassifier& classifier, const FeatureCache& cache, const std::vector<Sample>& samples, int size);

// A uniform double in [-1, 1) from the seeded stream (portable, unlike <random>'s distributions).
double Symmetric(std::mt19937_64& rng);
// `box` with its centre moved by up to `shift` x its side and each side scaled by up to
// e^+-log_scale (four draws from `rng`: width, height, x, y).
Box Jitter(const Box& box, double shift, double log_scale, std::mt19937_64& rng);

// AdamW over `count` examples: per epoch a seeded shuffle, then minibatches of `batch` indices
// whose loss `loss_of` computes; warm-up then cosine learning rate (LearningRate).
struct MinibatchSchedule {
  int epochs;
  int64_t batch;
  double learning_rate, weight_decay;
};
void FitMinibatches(std::vector<torch::Tensor> parameters, int64_t count, const MinibatchSchedule& schedule,
                    std::mt19937_64& rng, const std::function<torch::Tensor(const torch::Tensor& index)>& loss_of);

// The box refiner trained on jittered true boxes of every cached row (detector_refine.cc).
BoxRefiner TrainBoxRefiner(const FeatureCache& cache, const std::vector<Sample>& samples, int size, uint64_t seed);

// Warm-up then cosine from `peak`.
double LearningRate(double peak, int64_t step, int64_t total_steps);
void SetLearningRate(torch::optim::AdamW& optimizer, double lr);
// Epochs that fit `seconds` at `samples_per_second` (at 320 px, scaled by the pixel count).
int EpochsFor(double seconds, double samples_per_second, int64_t count, int size, const DetectorOptions& options);
// True when the wall-clock guard (3 x budget + 60 s) has passed.
bool GuardHit(Clock::time_point start, const DetectorOptions& options);
// True when `observer` asks training to stop (TrainingObserver::StopRequested).
inline bool StopRequested(TrainingObserver* observer) { return observer && observer->StopRequested(); }

// Chooses the thresholds, writes model.json's metadata and saves the artifact.
Status SaveModel(DetectorArtifact artifact, const DetectorTrainingReport& report, const DetectorOptions& options,
                 const std::vector<std::string>& labels, bool val_is_train);

// The fallback without the pretrained backbone (detector_scratch.cc).
Status TrainFromScratch(const Prepared& data, const DetectionTrainingSet& train, const DetectorOptions& options,
                        std::mt19937_64& rng, Clock::time_point start, DetectorTrainingReport* report,
                        TrainingObserver* observer);

// One epoch's sample order over a cache of `count` images followed by their mirror images:
// a seeded shuffle, then a seeded coin per sample picks the image (row) or its mirror (row + count).
std::vector<int64_t> MirroredEpochOrder(int64_t count, std::mt19937_64& rng);

}  // namespace osprey::engine::detector_training

// The box refiner's training (detector_net.h, BoxRefiner; docs/design/detection.md, "Box
// refiner"): a linear regression from the pooled features of jittered true boxes to the deltas
// that restore the true box.
#include <random>

#include "engine/detector_net.h"
#include "engine/detector_training.h"

namespace osprey::engine::detector_training {
namespace {

// Jittered copies per true box, wider than the classifier's: the head's boxes on unseen objects
// are off by a factor of 1.4-1.9 in a side when they miss IoU 0.5 (bench scenes, 416 px).
constexpr int kRefineJitters = 4;
constexpr double kRefineLogScale = 0.35;  // each side x e^[-0.35, 0.35]
constexpr double kRefineShift = 0.15;     // the centre moves by up to 15 % of the side
constexpr int kRefineEpochs = 20;
constexpr int64_t kRefineBatch = 128;
constexpr double kRefineLearningRate = 1e-3;
constexpr double kRefineWeightDecay = 10;

}  // namespace

BoxRefiner TrainBoxRefiner(const FeatureCache& cache, const std::vector<Sample>& samples, int size, uint64_t seed) {
  ScopedIntraOpThreads one_thread(1);  // tiny matrices, as for the box classifier
  std::mt19937_64 rng(seed ^ 0x2545f491u);
  std::vector<torch::Tensor> features;
  std::vector<float> targets;
  for (int64_t row = 0; row < 2 * cache.count; ++row) {
    std::vector<Box> boxes;
    for (const AnnotatedBox& annotated : samples[row % cache.count].boxes) {
      Box truth = RowBox(annotated.box, row >= cache.count, size);
      if (truth.area() <= 0) continue;
      for (int jitter = 0; jitter < kRefineJitters; ++jitter) {
        Box from = Jitter(truth, kRefineShift, kRefineLogScale, rng);
        boxes.push_back(from);
        BoxDeltas deltas = DeltasBetween(from, truth);
        targets.insert(targets.end(), {deltas.x, deltas.y, deltas.w, deltas.h});
      }
    }
    if (!boxes.empty()) features.push_back(BoxRefinerImpl::Pool(cache.c3[row], cache.c4[row], boxes));
  }
  torch::manual_seed(seed);
  BoxRefiner refiner(kMobileNetPyramid);
  if (features.empty()) return refiner;  // the identity
  torch::Tensor x = torch::cat(features);
  torch::Tensor y = torch::tensor(targets).reshape({-1, 4});
  refiner->train();
  FitMinibatches(refiner->parameters(), x.size(0),
                 {kRefineEpochs, kRefineBatch, kRefineLearningRate, kRefineWeightDecay}, rng,
                 [&](const torch::Tensor& index) {
                   return (refiner->forward(x.index_select(0, index)) - y.index_select(0, index)).abs().mean();
                 });
  refiner->eval();
  return refiner;
}

}  // namespace osprey::engine::detector_training

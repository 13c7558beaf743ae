// The detector's from-scratch path: when the pretrained backbone is absent, a small dense trunk,
// the head and the box classifier train end to end on the images (docs/design/detection.md).
#include <algorithm>
#include <numeric>

#include "engine/detector_training.h"

namespace osprey::engine::detector_training {
namespace {

constexpr double kScratchSamplesPerSecond = 12;  // trunk + head forward + backward at 320 px
constexpr double kScratchLearningRate = 2e-3;
// Smaller batches for the scratch trunk: twice the steps for the same compute, and its batch
// norms' running statistics settle sooner on small sets.
constexpr int kScratchBatchSize = 8;

// The trunk's features of `samples`, as a float cache of unmirrored rows (for evaluation).
FeatureCache TrunkCache(ScratchTrunk& trunk, const std::vector<Sample>& samples, int size) {
  torch::NoGradGuard no_grad;
  trunk->eval();
  std::vector<torch::Tensor> c3, c4, c5;
  int64_t count = static_cast<int64_t>(samples.size());
  for (int64_t begin = 0; begin < count; begin += kBatchSize) {
    std::vector<const uint8_t*> pixels;
    for (int64_t idx = begin; idx < std::min(count, begin + kBatchSize); ++idx) pixels.push_back(samples[idx].boxed.rgb.data());
    PyramidFeatures f = trunk->forward(ImagesToTensor(pixels, size));
    c3.push_back(f.c3);
    c4.push_back(f.c4);
    c5.push_back(f.c5);
  }
  return FeatureCache{torch::cat(c3), torch::cat(c4), torch::cat(c5), count};
}

}  // namespace

// The fallback without the pretrained backbone: trunk, head and box classifier trained end to
// end on the images (flip augmentation), the classifier on the true boxes of each batch.
Status TrainFromScratch(const Prepared& data, const DetectionTrainingSet& train, const DetectorOptions& options,
                        std::mt19937_64& rng, Clock::time_point start, DetectorTrainingReport* report,
                        TrainingObserver* observer) {
  int size = options.input_size;
  at::set_num_threads(std::max(1, options.threads));
  int64_t count = static_cast<int64_t>(data.train.size());
  int epochs = EpochsFor(options.time_budget_seconds, kScratchSamplesPerSecond, count, size, options);
  torch::manual_seed(options.seed);
  ScratchTrunk trunk;
  DetectorHead head(kScratchPyramid, kDetectorHeadWidth);
  // Grid 1, no background: the trunk learns its features with the classifier end to end.
  BoxClassifier classifier(kScratchPyramid, static_cast<int>(train.labels.size()), BoxFeatureLayout{});
  ToChannelsLast(*trunk);
  ToChannelsLast(*head);
  std::vector<torch::Tensor> parameters = trunk->parameters();
  for (const auto& module : {head->parameters(), classifier->parameters()}) {
    parameters.insert(parameters.end(), module.begin(), module.end());
  }
  torch::Tensor targets = MakeTargets(data.train, 2 * count, size);
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(kScratchLearningRate).weight_decay(1e-4));
  auto ce_options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1);
  int64_t steps_per_epoch = (count + kScratchBatchSize - 1) / kScratchBatchSize;
  int64_t total_steps = steps_per_epoch * epochs, step = 0;
  auto train_start = Clock::now();
  trunk->train();
  head->train();
  classifier->train();
  int epoch = 0;
  for (; epoch < epochs; ++epoch) {
    if (GuardHit(start, options)) {
      report->time_guard_hit = true;
      break;
    }
    std::vector<int64_t> order = MirroredEpochOrder(count, rng);
    double loss_sum = 0;
    for (int64_t begin = 0; begin < count; begin += kScratchBatchSize, ++step) {
      int64_t end = std::min(count, begin + kScratchBatchSize);
      std::vector<int64_t> rows(order.begin() + begin, order.begin() + end);
      std::vector<const uint8_t*> pixels;
      std::vector<uint8_t> mirrored;
      for (int64_t row : rows) {
        pixels.push_back(data.train[row % count].boxed.rgb.data());
        mirrored.push_back(row >= count);
      }
      torch::Tensor x = ImagesToTensor(pixels, size);
      torch::Tensor mask = torch::tensor(std::vector<int64_t>(mirrored.begin(), mirrored.end())).to(torch::kBool).view({-1, 1, 1, 1});
      x = torch::where(mask, x.flip({3}), x).contiguous(torch::MemoryFormat::ChannelsLast);
      SetLearningRate(optimizer, LearningRate(kScratchLearningRate, step, total_steps));
      optimizer.zero_grad();
      PyramidFeatures f = trunk->forward(x);
      torch::Tensor loss = DetectionLoss(head->forward(f.c3, f.c4, f.c5), targets.index_select(0, torch::tensor(rows)));
      std::vector<torch::Tensor> pooled;
      std::vector<int64_t> labels;
      for (size_t idx = 0; idx < rows.size(); ++idx) {
        std::vector<Box> boxes;
        for (const AnnotatedBox& annotated : data.train[rows[idx] % count].boxes) {
          boxes.push_back(RowBox(annotated.box, rows[idx] >= count, size));
          labels.push_back(annotated.label);
        }
        if (!boxes.empty()) pooled.push_back(PoolBoxes(f.c3[static_cast<int64_t>(idx)], f.c4[static_cast<int64_t>(idx)],
                                                          f.c5[static_cast<int64_t>(idx)], boxes));
      }
      if (!pooled.empty()) {
        loss = loss + torch::nn::functional::cross_entropy(classifier->forward(torch::cat(pooled)), torch::tensor(labels), ce_options);
      }
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(end - begin);
    }
    report->final_loss = loss_sum / static_cast<double>(count);
    if (observer) observer->OnProgress("scratch", epoch + 1, epochs);
  }
  report->epochs = epoch;
  report->train_seconds = SecondsSince(train_start);
  FeatureCache val_cache = TrunkCache(trunk, data.val, size);
  BoxRefiner no_refiner{nullptr};  // the from-scratch path trains no refiner
  classifier->eval();
  report->validation_label_accuracy = LabelAccuracy(classifier, val_cache, data.val, size);
  report->validation = Evaluate(head, classifier, no_refiner, CacheSource(val_cache), data.val, train.labels);
  if (options.evaluate_training_images) {
    FeatureCache train_cache = TrunkCache(trunk, data.train, size);
    report->training = Evaluate(head, classifier, no_refiner, CacheSource(train_cache), data.train, train.labels);
  }
  DetectorArtifact artifact;
  artifact.trunk = trunk;
  artifact.head = head;
  artifact.classifier = classifier;
  return SaveModel(artifact, *report, options, train.labels, data.val_is_train);
}

}  // namespace osprey::engine::detector_training

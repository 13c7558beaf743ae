// The detector's from-scratch path: when the pretrained backbone is absent, a small dense trunk,
// the head and the box classifier train end to end on the images (docs/design/detection.md).
#include <algorithm>
#include <cmath>
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

// Box-aware augmentation of one letterboxed image [3, size, size] (already mirrored when its row
// is): zoomed by e^+-kZoom about a random placement (zoom in crops, zoom out pads grey), then
// brightness and contrast scaled by 1 +- kColour. `boxes` (letterbox px) follow the zoom; a box
// keeping less than half its area inside the image is dropped.
constexpr double kZoom = 0.25;
constexpr double kColour = 0.2;
torch::Tensor Augment(torch::Tensor image, std::vector<AnnotatedBox>* boxes, int size, std::mt19937_64& rng) {
  namespace F = torch::nn::functional;
  float zoom = static_cast<float>(std::exp(kZoom * Symmetric(rng)));
  int scaled = std::max(8, static_cast<int>(std::lround(static_cast<float>(size) * zoom)));
  zoom = static_cast<float>(scaled) / static_cast<float>(size);
  // Offset of the zoomed image in the canvas: negative when it is larger (a crop).
  int slack = size - scaled;
  auto offset = [&] { return static_cast<int>(std::lround((Symmetric(rng) + 1) / 2 * slack)); };
  int ox = offset(), oy = offset();
  torch::Tensor zoomed = F::interpolate(image.unsqueeze(0), F::InterpolateFuncOptions()
                                                                .size(std::vector<int64_t>{scaled, scaled})
                                                                .mode(torch::kBilinear)
                                                                .align_corners(false))[0];
  torch::Tensor canvas = torch::full({3, size, size}, 128.0f / 255.0f);
  int src_x = std::max(0, -ox), src_y = std::max(0, -oy), dst_x = std::max(0, ox), dst_y = std::max(0, oy);
  int w = std::min(scaled - src_x, size - dst_x), h = std::min(scaled - src_y, size - dst_y);
  canvas.slice(1, dst_y, dst_y + h).slice(2, dst_x, dst_x + w).copy_(zoomed.slice(1, src_y, src_y + h).slice(2, src_x, src_x + w));
  float brightness = static_cast<float>(1 + kColour * Symmetric(rng));
  float contrast = static_cast<float>(1 + kColour * Symmetric(rng));
  torch::Tensor mean = canvas.mean();
  canvas = ((canvas - mean) * contrast + mean * brightness).clamp(0, 1);
  std::vector<AnnotatedBox> kept;
  for (const AnnotatedBox& annotated : *boxes) {
    Box moved{annotated.box.left * zoom + static_cast<float>(ox), annotated.box.top * zoom + static_cast<float>(oy),
              annotated.box.width * zoom, annotated.box.height * zoom};
    Box inside = ClipBox(moved, static_cast<float>(size), static_cast<float>(size));
    if (inside.area() >= 0.5f * moved.area() && inside.area() > 0) kept.push_back({annotated.label, inside});
  }
  *boxes = std::move(kept);
  return canvas;
}

// One training batch: the images of `rows` (rows >= train.size() are mirror images), each
// mirrored when its row says so, then augmented (Augment); the samples hold their boxes in the
// augmented images (letterbox pixels), no pixels.
struct Batch {
  torch::Tensor images;  // [rows, 3, size, size], channels last
  std::vector<Sample> samples;
};
Batch AugmentedBatch(const std::vector<Sample>& train, const std::vector<int64_t>& rows, int size,
                     std::mt19937_64& rng) {
  int64_t count = static_cast<int64_t>(train.size());
  std::vector<const uint8_t*> pixels;
  for (int64_t row : rows) pixels.push_back(train[row % count].boxed.rgb.data());
  torch::Tensor x = ImagesToTensor(pixels, size);
  Batch batch;
  batch.samples.resize(rows.size());
  std::vector<torch::Tensor> images;
  for (size_t idx = 0; idx < rows.size(); ++idx) {
    bool mirror = rows[idx] >= count;
    for (const AnnotatedBox& annotated : train[rows[idx] % count].boxes) {
      batch.samples[idx].boxes.push_back({annotated.label, RowBox(annotated.box, mirror, size)});
    }
    torch::Tensor image = x[static_cast<int64_t>(idx)];
    images.push_back(Augment(mirror ? image.flip({2}) : image, &batch.samples[idx].boxes, size, rng));
  }
  batch.images = torch::stack(images).contiguous(torch::MemoryFormat::ChannelsLast);
  return batch;
}

// The box classifier's cross-entropy on the true boxes of a batch, pooled from the trunk's maps
// `f`; undefined when the batch has no box.
torch::Tensor BoxLabelLoss(BoxClassifier& classifier, const PyramidFeatures& f, const std::vector<Sample>& samples,
                           const torch::nn::functional::CrossEntropyFuncOptions& options) {
  std::vector<torch::Tensor> pooled;
  std::vector<int64_t> labels;
  for (size_t idx = 0; idx < samples.size(); ++idx) {
    std::vector<Box> boxes;
    for (const AnnotatedBox& annotated : samples[idx].boxes) {
      boxes.push_back(annotated.box);
      labels.push_back(annotated.label);
    }
    int64_t row = static_cast<int64_t>(idx);
    if (!boxes.empty()) pooled.push_back(PoolBoxes(f.c3[row], f.c4[row], f.c5[row], boxes));
  }
  if (pooled.empty()) return {};
  return torch::nn::functional::cross_entropy(classifier->forward(torch::cat(pooled)), torch::tensor(labels), options);
}

}  // namespace

// The fallback without the pretrained backbone: trunk, head and box classifier trained end to
// end on the images (box-aware flip, zoom and colour augmentation), the classifier on the true
// boxes of each batch.
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
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(kScratchLearningRate).weight_decay(1e-4));
  auto ce_options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1);
  int64_t steps_per_epoch = (count + kScratchBatchSize - 1) / kScratchBatchSize;
  int64_t total_steps = steps_per_epoch * epochs, step = 0;
  auto train_start = Clock::now();
  trunk->train();
  head->train();
  classifier->train();
  int epoch = 0;
  for (; epoch < epochs && !StopRequested(observer); ++epoch) {
    if (GuardHit(start, options)) {
      report->time_guard_hit = true;
      break;
    }
    std::vector<int64_t> order = MirroredEpochOrder(count, rng);
    double loss_sum = 0;
    for (int64_t begin = 0; begin < count; begin += kScratchBatchSize, ++step) {
      int64_t end = std::min(count, begin + kScratchBatchSize);
      std::vector<int64_t> rows(order.begin() + begin, order.begin() + end);
      Batch batch = AugmentedBatch(data.train, rows, size, rng);
      torch::Tensor targets = MakeTargets(batch.samples, static_cast<int64_t>(rows.size()), size);
      SetLearningRate(optimizer, LearningRate(kScratchLearningRate, step, total_steps));
      optimizer.zero_grad();
      PyramidFeatures f = trunk->forward(batch.images);
      torch::Tensor loss = DetectionLoss(head->forward(f.c3, f.c4, f.c5), targets);
      torch::Tensor label_loss = BoxLabelLoss(classifier, f, batch.samples, ce_options);
      if (label_loss.defined()) loss = loss + label_loss;
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(end - begin);
    }
    report->final_loss = loss_sum / static_cast<double>(count);
    if (observer) observer->OnProgress("scratch", epoch + 1, epochs);
  }
  report->epochs = epoch;
  report->train_seconds = SecondsSince(train_start);
  if (StopRequested(observer)) return StoppedOnRequest();
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

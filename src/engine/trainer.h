// Engine-private: the classifier's Trainer, shared by trainer.cc (data, features, choice,
// artifact) and the per-family files trainer_heads.cc (frozen head, fine-tune, conv head) and
// trainer_scratch.cc. Includes LibTorch; only engine/*.cc files include it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/classifier.h"
#include "engine/nets.h"
#include "image/image.h"

namespace osprey::engine::training {

using Clock = std::chrono::steady_clock;
inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
// CPU time of the whole process (all threads), for calibrating the cost model.
inline double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
// CPU time of the calling thread, for stages that run beside another (the conv head, scratch).
inline double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// The cost model that turns a time budget into epoch counts. Measured on the 2-core reference
// machine (docs/design/engine.md); deliberately constants, so that the same budget gives the
// same epochs, and therefore the same model, on any machine.
// Backbone to block 12 plus the pooled top features, 224 px, batch 4, 2 workers: 172-176 img/s
// on the quiet machine (was 90, calibrated under load 3-6).
constexpr double kTrunkImagesPerSecond = 150;
constexpr double kFineTuneImagesPerSecond = 70;    // blocks 13-16 + head, fwd + bwd
// ScratchNet at 96 px, fwd + bwd, 2 threads: 500 img/s on the quiet machine (was 330, a guess
// for 112 px, where 390-408 img/s were measured).
constexpr double kScratchImagesPerSecond = 470;
// ScratchNet on one thread, beside the conv head: 218 img/s at 112 px on the quiet machine.
constexpr double kScratchOneThreadImagesPerSecond = 260;
// ConvHeadNet on 12 x 12 windows of block 13's expansion, fwd + bwd, 1 thread: 915-1,040 img/s
// per CPU-second at load ~3 (was 1,360-1,650 on the trunk's output).
constexpr double kConvHeadImagesPerSecond = 900;
// Forward multiply-accumulates per image, for the achieved-GFLOP/s figure.
constexpr double kTrunkMacs = 211e6;  // stem .. block 12 at 224 px
constexpr double kTopMacs = 89e6;     // blocks 13-16 + Conv_1
constexpr double kScratchMacs = 49e6;
constexpr double kConvHeadMacs = 17e6;  // block 13's expansion + width-64 head, on 12 x 12
constexpr int kBatchSize = 32;
// The batch size for `count` training images (conv head, scratch): small sets get small
// batches, so that they still get enough optimizer steps.
inline int64_t BatchSizeFor(int64_t count) {
  return std::clamp<int64_t>(count / 8, std::min<int64_t>(8, count), kBatchSize);
}

struct Split {
  std::vector<image::Image> large;  // kBackboneInputSize, only with a backbone
  std::vector<image::Image> small;  // kScratchInputSize
  std::vector<std::vector<int>> labels;
  size_t size() const { return labels.size(); }
};

inline torch::Tensor Loss(torch::Tensor logits, torch::Tensor targets, bool multi_label) {
  return multi_label ? torch::binary_cross_entropy_with_logits(logits, targets)
                     : torch::nn::functional::cross_entropy(logits, targets);
}

inline torch::Tensor StackImages(const std::vector<image::Image>& images, int64_t begin,
                                 int64_t end, int size) {
  std::vector<const uint8_t*> pointers;
  for (int64_t idx = begin; idx < end; ++idx) pointers.push_back(images[idx].rgb.data());
  return ImagesToTensor(pointers, size);
}

// Cosine decay with a short linear warm-up.
inline double LearningRate(double base, int64_t step, int64_t total_steps) {
  int64_t warmup = std::max<int64_t>(1, total_steps / 20);
  if (step < warmup) return base * (step + 1) / warmup;
  double progress = double(step - warmup) / std::max<int64_t>(1, total_steps - warmup);
  return base * 0.5 * (1 + std::cos(M_PI * progress));
}

inline void SetLearningRate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

// One from-scratch training, possibly on its own thread: the counters are read by the thread
// that reports progress, `stop` is set to end it early (time guard, or another stage failed).
struct ScratchRun {
  ScratchNet net{nullptr};
  torch::Tensor val_probabilities;
  int epochs = 0;
  int64_t samples = 0;
  double seconds = 0, cpu_seconds = 0;
  std::atomic<int64_t> steps_done{0}, total_steps{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> partner_done{false};  // the stage running beside it has finished
};

// Epochs of a from-scratch training and its intra-op threads: `threads` for the first
// `switch_epoch` epochs, then, once ScratchRun::partner_done, `threads_after` (switch_epoch -1:
// no switch).
struct ScratchSchedule {
  int epochs;
  int threads;
  int switch_epoch = -1;
  int threads_after = 1;
};
constexpr int kMaxScratchEpochs = 120;

// Trains the candidates of one TrainClassifier call and keeps the best (docs/design/engine.md).
// One Trainer per call; not thread-safe.
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
  // True once the observer has asked to stop (TrainingObserver::StopRequested); thread-safe.
  bool Stopping() {
    if (!stopping_ && observer_ && observer_->StopRequested()) stopping_ = true;
    return stopping_;
  }
  Status Prepare(const TrainingSet& train, const TrainingSet* validation);
  void ExtractFeatures();
  double ValidationF1(torch::Tensor probabilities) { return ValidationF1(probabilities, options_.test_time_flip); }
  double ValidationF1(torch::Tensor probabilities, bool test_time_flip);
  double ValidationLoss(torch::Tensor probabilities);
  Member TrainFrozenHead();
  Member TrainFineTune(const Member& head, double seconds);
  void TrainScratch(double seconds);
  int ScratchEpochs(double seconds, double images_per_second) const;
  void TrainScratchOn(ScratchRun* run, const ScratchSchedule& schedule);
  void TrainScratchBeside(const ScratchSchedule& schedule, const std::function<void()>& beside);
  void RecordScratch(ScratchRun& run);
  void TrainConvHeads(double seconds);
  void TrainConvHeadsAndScratch(double seconds);
  int ConvHeadEpochs(double seconds) const;
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
  torch::Tensor train_targets_, val_targets_;  // Targets() of each split, made once in Prepare
  // Backbone caches: the trunk's output (block 12) for [originals; mirror images], and their
  // pooled top features (TopFeatures).
  torch::Tensor train_acts_, val_acts_, train_features_, val_features_;
  // Each candidate's members (an equal-weight ensemble when more than one) and validation
  // probabilities ([2 * n]: originals, then mirror images).
  std::vector<std::pair<std::vector<Member>, torch::Tensor>> candidates_;
  Clock::time_point start_;
  std::atomic<bool> stopping_{false};
};

}  // namespace osprey::engine::training

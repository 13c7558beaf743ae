// The from-scratch family: a small ResNet on decoded images with image-space augmentation.
#include <ATen/Parallel.h>

#include <algorithm>

#include "engine/trainer.h"

namespace osprey::engine::training {
namespace {

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

}  // namespace

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

}  // namespace osprey::engine::training

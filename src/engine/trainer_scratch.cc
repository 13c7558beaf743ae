// The from-scratch family: a small ResNet on decoded images with image-space augmentation.
// With a backbone it trains on its own thread, beside the conv head (docs/design/engine.md).
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>

#include "engine/trainer.h"

namespace osprey::engine::training {
namespace {

// Random flip, translation (reflect-padded crop) and brightness/contrast per image, drawn from
// `generator` (not the global one: this may run beside another training thread).
torch::Tensor Augment(torch::Tensor batch, at::Generator& generator) {
  int64_t count = batch.size(0), size = batch.size(2), pad = size / 8;
  torch::Tensor flip = torch::rand({count, 1, 1, 1}, generator) < 0.5;
  batch = torch::where(flip, batch.flip({3}), batch);
  torch::Tensor padded = torch::nn::functional::pad(
      batch, torch::nn::functional::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReflect));
  torch::Tensor offsets = torch::randint(0, 2 * pad + 1, {count, 2}, generator, torch::kLong);
  std::vector<torch::Tensor> crops;
  for (int64_t idx = 0; idx < count; ++idx) {
    int64_t dy = offsets[idx][0].item<int64_t>(), dx = offsets[idx][1].item<int64_t>();
    crops.push_back(padded[idx].slice(1, dy, dy + size).slice(2, dx, dx + size));
  }
  torch::Tensor out = torch::stack(crops);
  torch::Tensor contrast = 1 + 0.4 * (torch::rand({count, 1, 1, 1}, generator) - 0.5);
  torch::Tensor brightness = 0.2 * (torch::rand({count, 1, 1, 1}, generator) - 0.5);
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

int Trainer::ScratchEpochs(double seconds, double images_per_second) const {
  return std::clamp(static_cast<int>(std::lround(seconds * images_per_second / static_cast<double>(train_.size()))),
                    2, kMaxScratchEpochs);
}

// Reads only the decoded images, the targets and the options, and writes only `run`, so it may
// run on its own thread beside the conv head. The net is built by the caller (its initial
// weights come from the global generator, in a fixed order).
void Trainer::TrainScratchOn(ScratchRun* run, const ScratchSchedule& schedule) {
  auto start = Clock::now();
  double cpu_start = ThreadCpuSeconds();
  at::set_num_threads(std::max(1, schedule.threads));
  int epochs = schedule.epochs;
  ScratchNet& net = run->net;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options_.seed + 2);
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(2e-3).weight_decay(5e-2));
  int64_t count = static_cast<int64_t>(train_.size());
  int64_t batch_size = BatchSizeFor(count);
  int64_t steps_per_epoch = count / batch_size;  // drops the ragged end (batch norm needs >1)
  int64_t total_steps = epochs * steps_per_epoch, step = 0;
  run->total_steps = total_steps;
  net->train();
  int epoch = 0;
  for (; epoch < epochs && !run->stop; ++epoch) {
    if (epoch == schedule.switch_epoch) {
      while (!run->partner_done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      at::set_num_threads(std::max(1, schedule.threads_after));
    }
    torch::Tensor order = torch::randperm(count, generator, torch::kLong);
    for (int64_t batch_idx = 0; batch_idx < steps_per_epoch; ++batch_idx, ++step) {
      torch::Tensor idx = order.slice(0, batch_idx * batch_size, (batch_idx + 1) * batch_size);
      std::vector<const uint8_t*> pointers;
      for (int64_t pos = 0; pos < idx.size(0); ++pos) {
        pointers.push_back(train_.small[idx[pos].item<int64_t>()].rgb.data());
      }
      torch::Tensor x = Augment(ImagesToTensor(pointers, kScratchInputSize), generator);
      SetLearningRate(optimizer, LearningRate(2e-3, step, total_steps));
      optimizer.zero_grad();
      torch::Tensor loss = Loss(net->forward(x), train_targets_.index_select(0, idx), multi_label_);
      loss.backward();
      optimizer.step();
      run->steps_done = step + 1;
    }
    if (SecondsSince(start_) > TimeGuardSeconds() || Stopping()) run->stop = true;
  }
  net->eval();
  run->val_probabilities = ScratchValidationProbabilities(net);
  run->epochs = epoch;
  run->samples = steps_per_epoch * batch_size * epoch;
  run->seconds = SecondsSince(start);
  run->cpu_seconds = ThreadCpuSeconds() - cpu_start;
}

void Trainer::RecordScratch(ScratchRun& run) {
  if (run.stop) report_.time_guard_hit = true;
  report_.training_gflop += 3.0 * 2 * kScratchMacs * static_cast<double>(run.samples) / 1e9;
  Member member{"scratch", kScratchInputSize, nullptr, run.net};
  report_.candidates.push_back({member.family, ValidationF1(run.val_probabilities), run.seconds, run.epochs,
                                run.cpu_seconds});
  candidates_.push_back({{member}, run.val_probabilities});
}

// Builds the from-scratch net (its initial weights come from the global generator, here, in a
// fixed order), trains it on its own thread by `schedule` while `beside` (may be empty) runs on
// this thread, then reports its progress until it ends and records it as a candidate. When
// `beside` throws, the scratch training is stopped and the exception passed on.
void Trainer::TrainScratchBeside(const ScratchSchedule& schedule, const std::function<void()>& beside) {
  ScratchRun run;
  torch::manual_seed(options_.seed + 2);
  run.net = ScratchNet(kScratchWidth, static_cast<int>(labels_.size()));
  ToChannelsLast(*run.net);
  std::exception_ptr scratch_error;
  std::atomic<bool> finished{false};
  std::thread scratch([&] {
    try {
      TrainScratchOn(&run, schedule);
    } catch (...) {
      scratch_error = std::current_exception();
    }
    finished = true;
  });
  try {
    if (beside) beside();
  } catch (...) {
    run.stop = true;
    run.partner_done = true;
    scratch.join();
    throw;
  }
  run.partner_done = true;
  while (!finished) {
    if (observer_ && run.total_steps > 0) {
      observer_->OnProgress("scratch", static_cast<int>(run.steps_done), static_cast<int>(run.total_steps));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  scratch.join();
  if (scratch_error) std::rethrow_exception(scratch_error);
  RecordScratch(run);
}

void Trainer::TrainScratch(double seconds) {
  TrainScratchBeside({ScratchEpochs(seconds, kScratchImagesPerSecond), options_.threads}, nullptr);
}

}  // namespace osprey::engine::training

// Engine-private: the LibTorch networks. Only engine/*.cc files include this header, so that
// the rest of Osprey compiles without LibTorch (docs/design/engine.md).
//
// Modules are not thread-safe while training; a module in eval mode may be used for inference
// from one thread at a time.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace osprey::engine {

// A convolution whose batch norm has been folded into its weights and bias (the backbone's
// batch norms are frozen, so folding is exact), optionally followed by ReLU6.
// `keras_pad` reproduces Keras' ZeroPadding2D((0,1),(0,1)) before a stride-2 'valid' conv
// (without copying the input: see forward()).
struct FoldedConvImpl : torch::nn::Module {
  FoldedConvImpl(int in, int out, int kernel, int stride, int groups, bool relu6);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Conv2d conv{nullptr};
  bool relu6;
  bool keras_pad;
  bool pointwise;  // 1x1, stride 1, ungrouped
};
TORCH_MODULE(FoldedConv);

// MobileNetV2 inverted residual block: 1x1 expand (absent when expansion is 1), 3x3 depthwise,
// 1x1 linear projection, plus a residual connection when the shape is unchanged.
struct InvertedResidualImpl : torch::nn::Module {
  InvertedResidualImpl(int in, int out, int stride, int expansion);
  torch::Tensor forward(torch::Tensor x);
  // The expansion output (after ReLU6), the best probe layer per the spike for block 13.
  torch::Tensor Expand(torch::Tensor x);
  torch::Tensor FromExpanded(torch::Tensor expanded, torch::Tensor x);
  FoldedConv expand{nullptr};
  FoldedConv depthwise{nullptr};
  FoldedConv project{nullptr};
  bool residual;
};
TORCH_MODULE(InvertedResidual);

// Keras MobileNetV2-1.0 (224 px, input RGB/255) with folded batch norms.
// blocks[0] is Keras' `expanded_conv`, blocks[k] is `block_k` (k = 1..16).
struct MobileNetV2Impl : torch::nn::Module {
  static constexpr int kNumBlocks = 17;
  MobileNetV2Impl();
  // Runs the stem and blocks [0, end_block).
  torch::Tensor Trunk(torch::Tensor x, int end_block);
  // Runs blocks [begin_block, 17) and Conv_1; returns global-average-pooled features of
  // block 13's expansion (576) and of out_relu (1280), concatenated: [N, 1856].
  torch::Tensor TopFeatures(torch::Tensor x, int begin_block);
  FoldedConv stem{nullptr};
  std::vector<InvertedResidual> blocks;
  FoldedConv last{nullptr};
};
TORCH_MODULE(MobileNetV2);
constexpr int kBackboneFeatureDim = 576 + 1280;

// Sets LibTorch's process-wide intra-op thread count for a scope and restores the previous
// count when the scope ends, also when an exception leaves it (training stages that run small
// operations on one thread must not leave the caller's count changed).
class ScopedIntraOpThreads {
 public:
  explicit ScopedIntraOpThreads(int threads) : previous_(at::get_num_threads()) {
    at::set_num_threads(std::max(1, threads));
  }
  ~ScopedIntraOpThreads() { at::set_num_threads(previous_); }
  ScopedIntraOpThreads(const ScopedIntraOpThreads&) = delete;
  ScopedIntraOpThreads& operator=(const ScopedIntraOpThreads&) = delete;

 private:
  int previous_;
};
// Blocks [0, kFineTuneFromBlock) stay frozen; their output (96 x 14 x 14 at 224 px) is cached.
// Blocks 10-12 all output that shape; starting at 13 trains 1.5x faster than at 11 and scored
// better on objects8 (docs/design/engine.md).
constexpr int kFineTuneFromBlock = 13;
constexpr int kBackboneInputSize = 224;
// Side of the trunk's output map (stride 16): 14 at 224 px.
constexpr int kTrunkSide = kBackboneInputSize / 16;
// The from-scratch net: channel multiplier and input side.
constexpr int kScratchWidth = 1;
constexpr int kScratchInputSize = 96;

// Converts the Keras layers-model extracted by scripts/fetch_backbone.sh (model.json plus the
// uint8-quantised weights.bin) into a MobileNetV2. Returns kNotFound when the files are absent
// and kInvalidArgument when they do not describe the expected network.
Result<MobileNetV2> ConvertKerasMobileNetV2(const std::filesystem::path& keras_dir);

// Loads the converted backbone from `dir`/mobilenet_v2_imagenet.pt, converting (and caching the
// archive) on first use. Returns kNotFound when the backbone was never fetched.
Result<MobileNetV2> LoadBackbone(const std::filesystem::path& dir);

// A small dense ResNet (one BasicBlock per stage, channels 16-32-64-128 times `width`) for
// training from scratch. Input: (RGB/255 - 0.5) / 0.25.
struct ScratchNetImpl : torch::nn::Module {
  ScratchNetImpl(int width, int num_labels);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Sequential features{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ScratchNet);

// The trainable top of the backbone for fine-tuning: blocks [kFineTuneFromBlock, 17), Conv_1,
// then a linear classifier on the pooled TopFeatures.
struct FineTuneNetImpl : torch::nn::Module {
  FineTuneNetImpl(MobileNetV2 source, int num_labels);
  torch::Tensor forward(torch::Tensor block10_activations);
  // The classifier on precomputed TopFeatures (with dropout while training).
  torch::Tensor Classify(torch::Tensor features);
  MobileNetV2 top{nullptr};  // only blocks >= kFineTuneFromBlock and `last` are used
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(FineTuneNet);

// A small dense convolutional head on the frozen trunk's output (96 x 14 x 14 at 224 px,
// the cached activations): 1x1 to `width`, 3x3, 3x3 stride 2 to 2 x `width`, pooled, linear.
// Dense 3x3 convolutions at 14 x 14 train at hundreds of images per second on the CPU, unlike
// the depthwise top blocks, and keep the spatial detail that pooled features lose (shapes).
// `expansion_block` chooses what the head reads: 0, the trunk's output itself; 13, block 13's
// expansion (576 x 14 x 14, frozen 1x1 convolution + ReLU6 of the trunk's output); 14, block
// 14's expansion (960 x 7 x 7, after the frozen block 13). See docs/design/engine.md.
struct ConvHeadNetImpl : torch::nn::Module {
  ConvHeadNetImpl(MobileNetV2 source, int width, int num_labels, int expansion_block);
  torch::Tensor forward(torch::Tensor trunk_activations) { return Head(Input(trunk_activations)); }
  // The frozen layers between the trunk's output and the head (no gradient needed).
  torch::Tensor Input(torch::Tensor trunk_activations);
  // The trainable part.
  torch::Tensor Head(torch::Tensor input);
  MobileNetV2 trunk{nullptr};  // the stem, blocks < kFineTuneFromBlock and `expansion_block`
  int expansion_block;
  torch::nn::Sequential features{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ConvHeadNet);
constexpr int kConvHeadWidth = 64;
// What the conv head reads. Objects8 test macro-F1 over seeds 1-3: block 12's output
// 0.469-0.489, block 13's expansion 0.508-0.540 (+0.043 on average); docs/design/engine.md.
constexpr int kConvHeadExpansionBlock = 13;

// One trained network of a model artifact. A model is one member or an equal-weight ensemble.
struct Member {
  std::string family;  // "frozen-head", "fine-tune", "conv-head" or "scratch"
  int input_size = 0;  // square input side in pixels
  FineTuneNet backbone{nullptr};  // frozen-head and fine-tune
  ScratchNet scratch{nullptr};    // scratch
  ConvHeadNet conv_head{nullptr};  // conv-head
  // The frozen MobileNetV2 whose trunk (stem .. block 12) feeds this member, or null (scratch).
  MobileNetV2 Trunk() const;
  // Logits from the trunk's output (members with a trunk only).
  torch::Tensor FromTrunk(torch::Tensor trunk_activations);
};

// In-memory form of the artifact folder (docs/design/engine.md, "Model artifact").
struct ModelArtifact {
  std::vector<std::string> labels;
  bool multi_label = false;
  std::vector<float> thresholds;
  std::string family;
  int number_of_training_images = 0;
  std::vector<Member> members;
  bool test_time_flip = false;  // average with the mirror image (absent in old model.json: true)
  std::string training_json = "{}";  // free-form metadata, a JSON object
  std::string metrics_json = "{}";   // validation metrics, a JSON object
};

// Writes model.json plus one weights archive per member into `dir` (created).
Status SaveArtifact(const ModelArtifact& artifact, const std::filesystem::path& dir);
// Returns kNotFound when `dir`/model.json is missing, kInvalidArgument for an unknown format.
Result<ModelArtifact> LoadArtifact(const std::filesystem::path& dir);

torch::Tensor ToProbabilities(torch::Tensor logits, bool multi_label);

// Converts uint8 HWC RGB images, packed contiguously, to a float NCHW (channels-last) batch
// of pixel/255 values.
torch::Tensor ImagesToTensor(const std::vector<const uint8_t*>& images, int size);

// Copies every parameter and buffer of `from` into the same-named one of `to` (same layout).
// Used instead of Module::clone(), which needs every module to be Cloneable.
void CopyState(const torch::nn::Module& from, torch::nn::Module& to);

// Puts every 4-D parameter in channels-last layout (oneDNN's fast path on CPU).
void ToChannelsLast(torch::nn::Module& module);

// Wraps a c10::Error into kInternal; the engine's exception boundary.
Status TorchError(const std::exception& e, const std::string& context);

}  // namespace osprey::engine

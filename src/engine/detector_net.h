// Engine-private: the LibTorch parts of the detector (docs/design/detection.md). Only
// engine/detector_*.cc include this header.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/box_math.h"
#include "engine/nets.h"
#include "image/image.h"

namespace osprey::engine {

// Feature maps at strides 8, 16 and 32 of a batch of letterboxed images.
struct PyramidFeatures {
  torch::Tensor c3, c4, c5;
};
struct PyramidChannels {
  int c3, c4, c5;
};
constexpr int kDetectorStride = 8;

// Frozen MobileNetV2 features (ImagesToTensor form): c3 = block 5 output (32 ch, stride 8),
// c4 = block 13's expansion (576 ch, stride 16), c5 = out_relu, the last 1x1 conv (1280 ch,
// stride 32): the features part 1's classifier pools, kept spatial here because pooling the
// whole image loses where the objects are.
// Without `with_c5` the backbone stops after block 13's expansion (about a quarter of its
// multiply-accumulates are above it) and c5 is left undefined.
PyramidFeatures ExtractPyramid(MobileNetV2& backbone, torch::Tensor images, bool with_c5 = true);
constexpr PyramidChannels kMobileNetPyramid{32, 576, 1280};
// Row `row` of a batch of maps, or an undefined tensor when the maps are (c5 of a c5-free model).
inline torch::Tensor Row(const torch::Tensor& maps, int64_t row) { return maps.defined() ? maps[row] : torch::Tensor(); }

// The from-scratch trunk, used when the pretrained backbone is absent: dense 3x3
// conv-BN-ReLU stages (depthwise convs are slow in LibTorch 1.13), two per stride from 4 to 32.
// Input: ImagesToTensor form (pixel/255); it normalises itself.
struct ScratchTrunkImpl : torch::nn::Module {
  ScratchTrunkImpl();
  PyramidFeatures forward(torch::Tensor images);
  torch::nn::Sequential stem{nullptr}, stage3{nullptr}, stage4{nullptr}, stage5{nullptr};
};
TORCH_MODULE(ScratchTrunk);
constexpr PyramidChannels kScratchPyramid{64, 128, 256};

// The trainable head: 1x1 laterals; strides 32 and 16 fused at 2 x width channels through two
// 3x3 conv-BN-ReLU; reduced and added to stride 8; one 3x3 conv-BN-ReLU at width; then per
// stride-8 cell a class-agnostic centre logit, log box size in cells (2) and centre offset (2).
// Without `use_c5` the stride-16 level reads c4 alone (no lateral5).
struct DetectorHeadImpl : torch::nn::Module {
  DetectorHeadImpl(PyramidChannels channels, int width, bool use_c5 = true);
  bool UsesC5() const { return !lateral5.is_empty(); }
  // Returns [N, 5, H/8, W/8]: centre logit, log w, log h, dx, dy.
  torch::Tensor forward(torch::Tensor c3, torch::Tensor c4, torch::Tensor c5);
  torch::nn::Conv2d lateral3{nullptr}, lateral4{nullptr}, lateral5{nullptr}, reduce{nullptr};
  torch::nn::Sequential mid{nullptr}, tower{nullptr};
  torch::nn::Conv2d heat{nullptr}, regression{nullptr};
};
TORCH_MODULE(DetectorHead);
constexpr int kDetectorHeadWidth = 48;
constexpr int kHeadOutputs = 5;

// How a box becomes the box classifier's input, and whether the classifier has a background
// output (docs/design/detection.md, "Box classifier").
struct BoxFeatureLayout {
  // 1: the c4 and c5 features averaged over the box; g > 1: also c4 averaged in each cell of a
  // g x g grid over the box (RoI-style bins: keeps the object's layout).
  int grid = 1;
  // An extra last output, "no object", trained on the head's false positives; at inference the
  // labels keep their softmax share, so a box the classifier calls background scores low.
  bool background = false;
  // The c5 mean over the box. c5 (stride 32, the last layer) sees far beyond a small box, so it
  // describes the scene as much as the object: the test scenes are never seen in training.
  bool c5 = true;
  // g > 0: also c3 (stride 8, 32 ch) averaged in each cell of a g x g grid over the box: finer
  // cells for the small objects, which span only 3-4 c4 cells. 0: no c3.
  int c3_grid = 0;
};

// The length of one box's pooled features under `layout` (PoolBoxes' output width).
int BoxFeatureCount(PyramidChannels channels, BoxFeatureLayout layout);

// The label of a box: a linear classifier (dropout 0.2 while training) on the box's pooled
// features (BoxFeatureLayout): a cheap second stage, like part 1's classifier on pooled features
// but per object. A 256-wide hidden layer scored no better (docs/design/detection.md).
struct BoxClassifierImpl : torch::nn::Module {
  BoxClassifierImpl(PyramidChannels pyramid, int label_count, BoxFeatureLayout box_layout);
  // [K, InFeatures()] -> logits [K, num_labels (+1 background)].
  torch::Tensor forward(torch::Tensor pooled);
  // Softmax over every output, then the labels' columns only: [K, num_labels].
  torch::Tensor LabelProbabilities(torch::Tensor pooled);
  // One image's pooled box features (c3 [C3, H3, W3], c4 [C4, H4, W4], c5 [C5, H5, W5], boxes in
  // letterbox px).
  torch::Tensor Pool(const torch::Tensor& c3, const torch::Tensor& c4, const torch::Tensor& c5,
                     const std::vector<Box>& boxes) const;
  int InFeatures() const;
  int num_labels;
  PyramidChannels channels;
  BoxFeatureLayout layout;
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear out{nullptr};
};
TORCH_MODULE(BoxClassifier);

// The box refiner (second stage, Fast R-CNN-style box regression): a linear layer on c4 and c3
// pooled like the classifier (3 x 3 bins) over each candidate box enlarged by kRefineContext, so
// the bins see past a box drawn too small. Outputs per box the BoxDeltas (box_math.h) that
// ApplyDeltas turns into the refined box. Trained on jittered true boxes
// (docs/design/detection.md, "Box refiner").
constexpr float kRefineContext = 1.25f;
constexpr BoxFeatureLayout kRefineLayout{/*grid=*/3, /*background=*/false, /*c5=*/false, /*c3_grid=*/3};
struct BoxRefinerImpl : torch::nn::Module {
  explicit BoxRefinerImpl(PyramidChannels pyramid);
  // [K, features of kRefineLayout] -> [K, 4] deltas.
  torch::Tensor forward(torch::Tensor pooled);
  // One image's maps and boxes (letterbox px) -> pooled features of the enlarged boxes.
  static torch::Tensor Pool(const torch::Tensor& c3, const torch::Tensor& c4, const std::vector<Box>& boxes);
  // The refined boxes (eval mode, no gradient).
  std::vector<Box> Refine(const torch::Tensor& c3, const torch::Tensor& c4, const std::vector<Box>& boxes);
  torch::nn::Linear out{nullptr};
};
TORCH_MODULE(BoxRefiner);

// [K, c4 (+ c5) (+ grid * grid * c4) (+ c3_grid * c3_grid * c3)] features of one image's maps
// (c3 [C3, H3, W3], c4 [C4, H4, W4], c5 [C5, H5, W5]) averaged over the cells whose centres lie
// inside each box (letterbox pixels; c5 only with layout.c5), then, for grid > 1, c4 averaged in
// each bin of a grid x grid split of the box, then, for c3_grid > 0, c3 likewise; a box or bin
// smaller than a cell takes the cell under its centre.
torch::Tensor PoolBoxes(const torch::Tensor& c3, const torch::Tensor& c4, const torch::Tensor& c5,
                        const std::vector<Box>& boxes, BoxFeatureLayout layout = {});

// The head's candidate boxes in one image's output [5, h, w] (letterbox pixels, label -1,
// confidence = centre score): 3x3 peak picking, the top `max_candidates` peaks >= min_score.
std::vector<Detection> CandidateBoxes(torch::Tensor output, float min_score, int max_candidates);

// Decodes one image's head output [5, h, w] into detections in letterbox pixels: 3x3 peak
// picking on the sigmoid centre map, the top `max_candidates` peaks >= min_score, each box
// refined by `refiner` when it is set, then classified by `classifier` on its pooled c3/c4/c5
// features; a candidate yields one detection per label, scored centre x label probability,
// those >= min_score kept.
std::vector<Detection> DecodeHeadOutput(torch::Tensor output, const torch::Tensor& c3, const torch::Tensor& c4,
                                        const torch::Tensor& c5, BoxClassifier& classifier, BoxRefiner& refiner,
                                        float min_score, int max_candidates);

// Letterboxes a decoded image into a `letterbox.size` square (grey padding).
image::Image LetterboxImage(const image::Image& scaled, const Letterbox& letterbox);
// Decodes image bytes straight to the letterbox (JPEG DCT scaling where it helps).
// On success *width / *height receive the decoded image's size.
Result<image::Image> DecodeLetterboxed(std::string_view bytes, int size, int* width, int* height);

// In-memory form of the detector artifact folder (docs/design/detection.md). Exactly one of
// `backbone` (pretrained, frozen) and `trunk` (trained from scratch) is set.
struct DetectorArtifact {
  std::vector<std::string> labels;
  std::vector<float> thresholds;
  int input_size = 320;
  int head_width = kDetectorHeadWidth;
  int number_of_training_images = 0;
  MobileNetV2 backbone{nullptr};
  ScratchTrunk trunk{nullptr};
  DetectorHead head{nullptr};
  BoxClassifier classifier{nullptr};
  BoxRefiner refiner{nullptr};  // absent in folders before version 6 and on the from-scratch path
  std::string training_json = "{}";
  std::string metrics_json = "{}";
  PyramidChannels channels() const { return trunk ? kScratchPyramid : kMobileNetPyramid; }
  PyramidFeatures Features(torch::Tensor images) {
    return trunk ? trunk->forward(images) : ExtractPyramid(backbone, images, head->UsesC5() || classifier->layout.c5);
  }
};
Status SaveDetectorArtifact(const DetectorArtifact& artifact, const std::filesystem::path& dir);
Result<DetectorArtifact> LoadDetectorArtifact(const std::filesystem::path& dir);

}  // namespace osprey::engine

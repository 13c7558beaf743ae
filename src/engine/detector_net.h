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

// Frozen-backbone features of a batch of letterboxed images (ImagesToTensor form):
// c3 = block 5 output (32 ch, stride 8), c4 = block 13's expansion (576 ch, stride 16),
// c5 = out_relu, the last 1x1 conv (1280 ch, stride 32): the features part 1's classifier
// pools, kept spatial here because pooling loses where the objects are.
struct PyramidFeatures {
  torch::Tensor c3, c4, c5;
};
PyramidFeatures ExtractPyramid(MobileNetV2& backbone, torch::Tensor images);
constexpr int kC3Channels = 32, kC4Channels = 576, kC5Channels = 1280;
constexpr int kDetectorStride = 8;

// The trainable head: 1x1 laterals; strides 32 and 16 fused at 2 x width channels through two
// 3x3 conv-BN-ReLU; reduced and added to stride 8; one 3x3 conv-BN-ReLU at width; then per-cell
// class logits (heatmap), log box size in cells (2) and centre offset (2).
struct DetectorHeadImpl : torch::nn::Module {
  DetectorHeadImpl(int num_labels, int width);
  // Returns [N, num_labels + 4, H/8, W/8]: heatmap logits, then log w, log h, dx, dy.
  torch::Tensor forward(torch::Tensor c3, torch::Tensor c4, torch::Tensor c5);
  torch::nn::Conv2d lateral3{nullptr}, lateral4{nullptr}, lateral5{nullptr}, reduce{nullptr};
  torch::nn::Sequential mid{nullptr}, tower{nullptr};
  torch::nn::Conv2d heat{nullptr}, regression{nullptr};
  int num_labels;
};
TORCH_MODULE(DetectorHead);
constexpr int kDetectorHeadWidth = 48;

// Decodes one image's head output [num_labels + 4, h, w] into detections in letterbox pixels:
// 3x3 peak picking on the sigmoid heatmap, the top `max_candidates` peaks >= min_score.
std::vector<Detection> DecodeHeadOutput(torch::Tensor output, int num_labels, float min_score,
                                        int max_candidates);

// Letterboxes a decoded image into a `letterbox.size` square (grey padding).
image::Image LetterboxImage(const image::Image& scaled, const Letterbox& letterbox);
// Decodes image bytes straight to the letterbox (JPEG DCT scaling where it helps).
// On success *width / *height receive the decoded image's size.
Result<image::Image> DecodeLetterboxed(std::string_view bytes, int size, int* width, int* height);

// In-memory form of the detector artifact folder (docs/design/detection.md).
struct DetectorArtifact {
  std::vector<std::string> labels;
  std::vector<float> thresholds;
  int input_size = 320;
  int head_width = kDetectorHeadWidth;
  int number_of_training_images = 0;
  MobileNetV2 backbone{nullptr};
  DetectorHead head{nullptr};
  std::string training_json = "{}";
  std::string metrics_json = "{}";
};
Status SaveDetectorArtifact(const DetectorArtifact& artifact, const std::filesystem::path& dir);
Result<DetectorArtifact> LoadDetectorArtifact(const std::filesystem::path& dir);

}  // namespace osprey::engine

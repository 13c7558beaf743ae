// The detector's network, decoding, artifact and predictor (docs/design/detection.md).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "common/file.h"
#include "engine/detector.h"
#include "engine/detector_net.h"

namespace osprey::engine {

namespace F = torch::nn::functional;

PyramidFeatures ExtractPyramid(MobileNetV2& backbone, torch::Tensor images, bool with_c5) {
  PyramidFeatures features;
  torch::Tensor x = backbone->stem->forward(images);
  for (int block_idx = 0; block_idx <= 5; ++block_idx) x = backbone->blocks[block_idx]->forward(x);
  features.c3 = x;
  for (int block_idx = 6; block_idx <= 12; ++block_idx) x = backbone->blocks[block_idx]->forward(x);
  // Block 13's expansion: the last stride-16 layer and the richest one (part 1's best probe).
  features.c4 = backbone->blocks[13]->Expand(x);
  if (!with_c5) return features;
  x = backbone->blocks[13]->FromExpanded(features.c4, x);
  for (int block_idx = 14; block_idx < MobileNetV2Impl::kNumBlocks; ++block_idx) {
    x = backbone->blocks[block_idx]->forward(x);
  }
  features.c5 = backbone->last->forward(x);
  return features;
}

namespace {
// 3x3 conv (no bias), batch norm, ReLU.
void AddConvBnRelu(torch::nn::Sequential& seq, int in, int out, int stride) {
  seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  seq->push_back(torch::nn::BatchNorm2d(out));
  seq->push_back(torch::nn::ReLU());
}

// `layers` times 3x3 conv-BN-ReLU at `width`, flat (a Sequential cannot hold a Sequential).
torch::nn::Sequential ConvBnRelu(int width, int layers) {
  torch::nn::Sequential seq;
  for (int layer = 0; layer < layers; ++layer) AddConvBnRelu(seq, width, width, 1);
  return seq;
}

// A stride-2 conv-BN-ReLU into `out` channels, then `extra` more at `out`.
torch::nn::Sequential DownStage(int in, int out, int extra) {
  torch::nn::Sequential seq;
  AddConvBnRelu(seq, in, out, 2);
  for (int layer = 0; layer < extra; ++layer) AddConvBnRelu(seq, out, out, 1);
  return seq;
}

torch::Tensor UpsampleTo(torch::Tensor x, torch::Tensor like) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{like.size(2), like.size(3)})
                               .mode(torch::kNearest));
}

// [K, h * w] averaging weights: for each box the cells whose centres lie inside it, or the
// cell under its centre when it covers none.
torch::Tensor PoolingWeights(const std::vector<Box>& boxes, int64_t height, int64_t width, float stride) {
  torch::Tensor weights = torch::zeros({static_cast<int64_t>(boxes.size()), height * width});
  auto w = weights.accessor<float, 2>();
  auto cells = [stride](float low, float high, int64_t limit, int64_t* first, int64_t* last) {
    *first = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(low / stride - 0.5f)));
    *last = std::min<int64_t>(limit - 1, static_cast<int64_t>(std::floor(high / stride - 0.5f)));
    if (*first > *last) {
      *first = *last = std::clamp<int64_t>(static_cast<int64_t>((low + high) / 2 / stride), 0, limit - 1);
    }
  };
  for (size_t box_idx = 0; box_idx < boxes.size(); ++box_idx) {
    const Box& box = boxes[box_idx];
    int64_t x0, x1, y0, y1;
    cells(box.left, box.right(), width, &x0, &x1);
    cells(box.top, box.bottom(), height, &y0, &y1);
    float share = 1.0f / static_cast<float>((x1 - x0 + 1) * (y1 - y0 + 1));
    for (int64_t y = y0; y <= y1; ++y) {
      for (int64_t x = x0; x <= x1; ++x) w[static_cast<int64_t>(box_idx)][y * width + x] = share;
    }
  }
  return weights;
}

torch::Tensor PoolLevel(const torch::Tensor& map, const std::vector<Box>& boxes, float stride) {
  int64_t channels = map.size(0), height = map.size(1), width = map.size(2);
  torch::Tensor flat = map.to(torch::kFloat).reshape({channels, height * width});
  return PoolingWeights(boxes, height, width, stride).mm(flat.t());
}
}  // namespace

ScratchTrunkImpl::ScratchTrunkImpl() {
  torch::nn::Sequential stem_layers;
  AddConvBnRelu(stem_layers, 3, 24, 2);
  AddConvBnRelu(stem_layers, 24, 32, 2);
  AddConvBnRelu(stem_layers, 32, 32, 1);
  stem = register_module("stem", stem_layers);
  stage3 = register_module("stage3", DownStage(32, kScratchPyramid.c3, 1));
  stage4 = register_module("stage4", DownStage(kScratchPyramid.c3, kScratchPyramid.c4, 1));
  stage5 = register_module("stage5", DownStage(kScratchPyramid.c4, kScratchPyramid.c5, 1));
}

PyramidFeatures ScratchTrunkImpl::forward(torch::Tensor images) {
  PyramidFeatures features;
  features.c3 = stage3->forward(stem->forward((images - 0.5) / 0.25));
  features.c4 = stage4->forward(features.c3);
  features.c5 = stage5->forward(features.c4);
  return features;
}

DetectorHeadImpl::DetectorHeadImpl(PyramidChannels channels, int width, bool use_c5) {
  // Context at stride 16 is cheap (a quarter of the cells), so the wide layers live there; the
  // stride-8 level only refines positions for small objects.
  int wide = 2 * width;
  lateral3 = register_module("lateral3", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels.c3, width, 1)));
  lateral4 = register_module("lateral4", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels.c4, wide, 1)));
  if (use_c5) lateral5 = register_module("lateral5", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels.c5, wide, 1)));
  mid = register_module("mid", ConvBnRelu(wide, /*layers=*/2));
  reduce = register_module("reduce", torch::nn::Conv2d(torch::nn::Conv2dOptions(wide, width, 1)));
  tower = register_module("tower", ConvBnRelu(width, /*layers=*/1));
  heat = register_module("heat", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 1, 1)));
  regression = register_module("regression", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 4, 1)));
  torch::NoGradGuard no_grad;
  // Focal-loss prior (Lin et al. 2017): start every cell at p = 0.1 so the loss is not swamped
  // by the background in the first steps.
  heat->bias.fill_(-std::log((1 - 0.1) / 0.1));
  regression->weight.normal_(0, 0.01);
  regression->bias.zero_();
}

torch::Tensor DetectorHeadImpl::forward(torch::Tensor c3, torch::Tensor c4, torch::Tensor c5) {
  torch::Tensor p4 = lateral4->forward(c4);
  if (UsesC5()) p4 = p4 + UpsampleTo(lateral5->forward(c5), c4);
  p4 = reduce->forward(mid->forward(p4));
  torch::Tensor p3 = lateral3->forward(c3) + UpsampleTo(p4, c3);
  p3 = tower->forward(torch::relu(p3));
  return torch::cat({heat->forward(p3), regression->forward(p3)}, 1);
}

BoxClassifierImpl::BoxClassifierImpl(PyramidChannels pyramid, int label_count, BoxFeatureLayout box_layout)
    : num_labels(label_count), channels(pyramid), layout(box_layout) {
  dropout = register_module("dropout", torch::nn::Dropout(0.2));
  out = register_module("out", torch::nn::Linear(InFeatures(), num_labels + (layout.background ? 1 : 0)));
}

int BoxFeatureCount(PyramidChannels channels, BoxFeatureLayout layout) {
  int bins = layout.grid > 1 ? layout.grid * layout.grid : 0;
  return channels.c4 + (layout.c5 ? channels.c5 : 0) + bins * channels.c4 +
         layout.c3_grid * layout.c3_grid * channels.c3;
}

int BoxClassifierImpl::InFeatures() const { return BoxFeatureCount(channels, layout); }

torch::Tensor BoxClassifierImpl::forward(torch::Tensor pooled) {
  return out->forward(dropout->forward(pooled));
}

torch::Tensor BoxClassifierImpl::LabelProbabilities(torch::Tensor pooled) {
  return torch::softmax(forward(pooled), 1).slice(1, 0, num_labels);
}

torch::Tensor BoxClassifierImpl::Pool(const torch::Tensor& c3, const torch::Tensor& c4, const torch::Tensor& c5,
                                      const std::vector<Box>& boxes) const {
  return PoolBoxes(c3, c4, c5, boxes, layout);
}

namespace {

// [K, grid * grid * C] means of `map` in each bin of a grid x grid split of every box.
torch::Tensor PoolBins(const torch::Tensor& map, const std::vector<Box>& boxes, int grid, float stride) {
  std::vector<Box> bins;
  for (const Box& box : boxes) {
    float w = box.width / static_cast<float>(grid), h = box.height / static_cast<float>(grid);
    for (int row = 0; row < grid; ++row) {
      for (int col = 0; col < grid; ++col) bins.push_back({box.left + static_cast<float>(col) * w, box.top + static_cast<float>(row) * h, w, h});
    }
  }
  return PoolLevel(map, bins, stride).reshape({static_cast<int64_t>(boxes.size()), -1});
}

}  // namespace

torch::Tensor PoolBoxes(const torch::Tensor& c3, const torch::Tensor& c4, const torch::Tensor& c5,
                        const std::vector<Box>& boxes, BoxFeatureLayout layout) {
  std::vector<torch::Tensor> parts{PoolLevel(c4, boxes, 2 * kDetectorStride)};
  if (layout.c5) parts.push_back(PoolLevel(c5, boxes, 4 * kDetectorStride));
  if (layout.grid > 1) parts.push_back(PoolBins(c4, boxes, layout.grid, 2 * kDetectorStride));
  if (layout.c3_grid > 0) parts.push_back(PoolBins(c3, boxes, layout.c3_grid, kDetectorStride));
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 1);
}

BoxRefinerImpl::BoxRefinerImpl(PyramidChannels pyramid) {
  out = register_module("out", torch::nn::Linear(BoxFeatureCount(pyramid, kRefineLayout), 4));
  torch::NoGradGuard no_grad;
  out->weight.zero_();  // starts as the identity: no change to any box
  out->bias.zero_();
}

torch::Tensor BoxRefinerImpl::forward(torch::Tensor pooled) { return out->forward(pooled); }

torch::Tensor BoxRefinerImpl::Pool(const torch::Tensor& c3, const torch::Tensor& c4, const std::vector<Box>& boxes) {
  std::vector<Box> enlarged;
  for (const Box& box : boxes) {
    float w = box.width * kRefineContext, h = box.height * kRefineContext;
    enlarged.push_back({box.left + box.width / 2 - w / 2, box.top + box.height / 2 - h / 2, w, h});
  }
  return PoolBoxes(c3, c4, torch::Tensor(), enlarged, kRefineLayout);
}

std::vector<Box> BoxRefinerImpl::Refine(const torch::Tensor& c3, const torch::Tensor& c4, const std::vector<Box>& boxes) {
  torch::NoGradGuard no_grad;
  torch::Tensor deltas = forward(Pool(c3, c4, boxes)).contiguous();
  auto d = deltas.accessor<float, 2>();
  std::vector<Box> refined;
  for (size_t idx = 0; idx < boxes.size(); ++idx) {
    int64_t row = static_cast<int64_t>(idx);
    refined.push_back(ApplyDeltas(boxes[idx], {d[row][0], d[row][1], d[row][2], d[row][3]}));
  }
  return refined;
}

std::vector<Detection> CandidateBoxes(torch::Tensor output, float min_score, int max_candidates) {
  torch::Tensor heat = torch::sigmoid(output.slice(0, 0, 1).to(torch::kFloat)).contiguous();
  torch::Tensor peaks = F::max_pool2d(heat.unsqueeze(0), F::MaxPool2dFuncOptions(3).stride(1).padding(1))[0];
  torch::Tensor scores = (heat * (heat == peaks)).reshape({-1});
  int64_t k = std::min<int64_t>(max_candidates, scores.numel());
  auto [top_scores, top_index] = scores.topk(k);
  torch::Tensor regression = output.slice(0, 1, 5).to(torch::kFloat).contiguous();
  auto reg = regression.accessor<float, 3>();
  auto score_data = top_scores.accessor<float, 1>();
  auto index_data = top_index.accessor<int64_t, 1>();
  int64_t width = output.size(2);
  std::vector<Detection> candidates;
  for (int64_t idx = 0; idx < k; ++idx) {
    float score = score_data[idx];
    if (score < min_score) break;
    int64_t y = index_data[idx] / width, x = index_data[idx] % width;
    // Clamp the log sizes so that a wild prediction cannot overflow exp().
    float box_w = std::exp(std::clamp(reg[0][y][x], -4.0f, 6.0f)) * kDetectorStride;
    float box_h = std::exp(std::clamp(reg[1][y][x], -4.0f, 6.0f)) * kDetectorStride;
    float cx = (static_cast<float>(x) + reg[2][y][x]) * kDetectorStride;
    float cy = (static_cast<float>(y) + reg[3][y][x]) * kDetectorStride;
    candidates.push_back({-1, score, {cx - box_w / 2, cy - box_h / 2, box_w, box_h}});
  }
  return candidates;
}

std::vector<Detection> DecodeHeadOutput(torch::Tensor output, const torch::Tensor& c3, const torch::Tensor& c4,
                                        const torch::Tensor& c5, BoxClassifier& classifier, BoxRefiner& refiner,
                                        float min_score, int max_candidates) {
  std::vector<Detection> candidates = CandidateBoxes(output, min_score, max_candidates);
  std::vector<Detection> detections;
  if (candidates.empty()) return detections;
  std::vector<Box> boxes;
  for (const Detection& candidate : candidates) boxes.push_back(candidate.box);
  if (refiner) boxes = refiner->Refine(c3, c4, boxes);
  torch::Tensor probabilities = classifier->LabelProbabilities(classifier->Pool(c3, c4, c5, boxes));
  int64_t per_box = probabilities.size(1);
  auto [top_probability, top_label] = probabilities.topk(per_box, 1);
  auto probability_data = top_probability.accessor<float, 2>();
  auto label_data = top_label.accessor<int64_t, 2>();
  for (size_t idx = 0; idx < candidates.size(); ++idx) {
    for (int64_t rank = 0; rank < per_box; ++rank) {
      float score = candidates[idx].confidence * probability_data[static_cast<int64_t>(idx)][rank];
      if (score < min_score) break;
      detections.push_back({static_cast<int>(label_data[static_cast<int64_t>(idx)][rank]), score, boxes[idx]});
    }
  }
  return detections;
}

image::Image LetterboxImage(const image::Image& scaled, const Letterbox& letterbox) {
  image::Image out;
  out.width = out.height = letterbox.size;
  out.rgb.assign(static_cast<size_t>(letterbox.size) * letterbox.size * 3, 128);
  int pad_x = static_cast<int>(letterbox.pad_x), pad_y = static_cast<int>(letterbox.pad_y);
  size_t row_bytes = static_cast<size_t>(scaled.width) * 3;
  for (int row = 0; row < scaled.height; ++row) {
    std::memcpy(&out.rgb[(static_cast<size_t>(row + pad_y) * letterbox.size + pad_x) * 3],
                &scaled.rgb[static_cast<size_t>(row) * row_bytes], row_bytes);
  }
  return out;
}

Result<image::Image> DecodeLetterboxed(std::string_view bytes, int size, int* width, int* height) {
  OSPREY_ASSIGN_OR_RETURN(image::ImageInfo info, image::ProbeImageHeader(bytes));
  Letterbox letterbox = MakeLetterbox(info.width, info.height, size);
  OSPREY_ASSIGN_OR_RETURN(image::Image scaled, image::DecodeAndResize(bytes, letterbox.scaled_width,
                                                                      letterbox.scaled_height));
  *width = info.width;
  *height = info.height;
  return LetterboxImage(scaled, letterbox);
}

// ---------------------------------------------------------------------------------------------
// Artifact.

namespace {
constexpr char kDetectorFormat[] = "osprey-object-detector";
// 2: c4 is block 13's expansion (576 channels). 3: class-agnostic centre map plus a box
// classifier (classifier.pt); a from-scratch trunk (trunk.pt) when "backbone" is "none".
// 4: the classifier's feature layout ("classifier": "grid", "background", "c5"); version 3
// folders load as grid 1 with c5, without background (the same classifier.pt layout).
// 5: "head": {"c5"}: whether the head reads c5 (head.pt then has lateral5); older folders' heads
// all do. A version-4 reader would fail on a c5-free head.pt, so the version says so first.
// 6: "refiner": the optional box refiner (refiner.pt), null or absent when there is none.
constexpr int kDetectorVersion = 6;
constexpr int kOldestReadableVersion = 3;
constexpr char kBackboneMobileNet[] = "mobilenet_v2";
constexpr char kBackboneNone[] = "none";
}  // namespace

Status SaveDetectorArtifact(const DetectorArtifact& artifact, const std::filesystem::path& dir) {
  try {
    std::filesystem::create_directories(dir);
    bool scratch = static_cast<bool>(artifact.trunk);
    if (scratch) {
      torch::save(artifact.trunk, (dir / "trunk.pt").string());
    } else {
      torch::save(artifact.backbone, (dir / "backbone.pt").string());
    }
    torch::save(artifact.head, (dir / "head.pt").string());
    torch::save(artifact.classifier, (dir / "classifier.pt").string());
    if (artifact.refiner) torch::save(artifact.refiner, (dir / "refiner.pt").string());
    nlohmann::json model = {
        {"format", kDetectorFormat},
        {"version", kDetectorVersion},
        {"labels", artifact.labels},
        {"thresholds", artifact.thresholds},
        {"input_size", artifact.input_size},
        {"head_width", artifact.head_width},
        {"number_of_training_images", artifact.number_of_training_images},
        {"preprocessing",
         {{"color", "RGB"}, {"scale", "pixel/255"},
          {"resize", "letterbox: keep aspect, long side = input_size, centred, grey 128 padding"}}},
        {"backbone", scratch ? kBackboneNone : kBackboneMobileNet},
        {"trunk", scratch ? nlohmann::json{{"weights", "trunk.pt"}, {"kind", "dense conv, trained from scratch"}}
                          : nlohmann::json{{"weights", "backbone.pt"}, {"kind", "mobilenet_v2 (frozen)"}}},
        {"head", {{"weights", "head.pt"}, {"kind", "class-agnostic centre map, stride 8"}, {"c5", artifact.head->UsesC5()}}},
        {"classifier",
         {{"weights", "classifier.pt"},
          {"kind", "linear on c4 (+ c5) averaged in the box (+ c4 in grid x grid bins) (+ c3 in c3_grid x c3_grid bins)"},
          {"grid", artifact.classifier->layout.grid},
          {"background", artifact.classifier->layout.background},
          {"c5", artifact.classifier->layout.c5},
          {"c3_grid", artifact.classifier->layout.c3_grid}}},
        {"refiner", artifact.refiner ? nlohmann::json{{"weights", "refiner.pt"},
                                                       {"kind", "linear box regression on c4 and c3 in 3 x 3 bins"},
                                                       {"context", kRefineContext}}
                                     : nlohmann::json(nullptr)},
        {"training", nlohmann::json::parse(artifact.training_json)},
        {"metrics", nlohmann::json::parse(artifact.metrics_json)}};
    std::ofstream out(dir / "model.json");
    out << model.dump(2) << "\n";
    if (!out) return Status::Internal("cannot write " + (dir / "model.json").string());
    return Status::Ok();
  } catch (const std::exception& e) {
    return TorchError(e, "saving the detector to " + dir.string());
  }
}

Result<DetectorArtifact> LoadDetectorArtifact(const std::filesystem::path& dir) {
  std::ifstream in(dir / "model.json");
  if (!in) return Status::NotFound("no model in " + dir.string() + " (model.json is missing)");
  DetectorArtifact artifact;
  try {
    nlohmann::json model = nlohmann::json::parse(in);
    if (model.value("format", "") != kDetectorFormat) {
      return Status::InvalidArgument("not a detector model in " + dir.string());
    }
    int version = model.value("version", 0);
    if (version < kOldestReadableVersion || version > kDetectorVersion) {
      return Status::InvalidArgument(
          "the detector in " + dir.string() + " has format version " +
          std::to_string(model.value("version", 0)) + "; this Osprey reads versions " +
          std::to_string(kOldestReadableVersion) + " to " + std::to_string(kDetectorVersion) +
          ". Train the model again.");
    }
    artifact.labels = model.at("labels").get<std::vector<std::string>>();
    artifact.thresholds = model.at("thresholds").get<std::vector<float>>();
    artifact.input_size = model.at("input_size").get<int>();
    artifact.head_width = model.at("head_width").get<int>();
    artifact.number_of_training_images = model.value("number_of_training_images", 0);
    artifact.training_json = model.at("training").dump();
    artifact.metrics_json = model.at("metrics").dump();
    if (artifact.labels.empty() || artifact.thresholds.size() != artifact.labels.size() ||
        artifact.input_size <= 0 || artifact.input_size % 32 != 0) {
      return Status::InvalidArgument("model.json in " + dir.string() + " is inconsistent");
    }
    std::string backbone = model.value("backbone", "");
    if (backbone != kBackboneMobileNet && backbone != kBackboneNone) {
      return Status::InvalidArgument("unknown detector backbone '" + backbone + "' in " + dir.string());
    }
    if (backbone == kBackboneNone) {
      artifact.trunk = ScratchTrunk();
      torch::load(artifact.trunk, (dir / "trunk.pt").string());
      ToChannelsLast(*artifact.trunk);
      artifact.trunk->eval();
    } else {
      artifact.backbone = MobileNetV2();
      torch::load(artifact.backbone, (dir / "backbone.pt").string());
      ToChannelsLast(*artifact.backbone);
      artifact.backbone->eval();
    }
    PyramidChannels channels = artifact.channels();
    // Absent in folders written before the c5-free head: the head reads c5.
    artifact.head = DetectorHead(channels, artifact.head_width, model.at("head").value("c5", true));
    torch::load(artifact.head, (dir / "head.pt").string());
    ToChannelsLast(*artifact.head);
    artifact.head->eval();
    BoxFeatureLayout layout;
    if (version >= 4) {
      layout.grid = model.at("classifier").at("grid").get<int>();
      layout.background = model.at("classifier").at("background").get<bool>();
      layout.c5 = model.at("classifier").at("c5").get<bool>();
      // Absent in folders written before c3 bins existed: no c3.
      layout.c3_grid = model.at("classifier").value("c3_grid", 0);
      if (layout.grid < 1 || layout.grid > 8 || layout.c3_grid < 0 || layout.c3_grid > 8) {
        return Status::InvalidArgument("model.json in " + dir.string() + " has an invalid classifier grid");
      }
    }
    artifact.classifier = BoxClassifier(channels, static_cast<int>(artifact.labels.size()), layout);
    torch::load(artifact.classifier, (dir / "classifier.pt").string());
    artifact.classifier->eval();
    // Version 6 adds the optional box refiner (null when the model has none).
    if (version >= 6 && model.contains("refiner") && !model.at("refiner").is_null()) {
      if (model.at("refiner").value("context", 0.0) != kRefineContext) {
        return Status::InvalidArgument("model.json in " + dir.string() + " has an unknown refiner context");
      }
      artifact.refiner = BoxRefiner(channels);
      torch::load(artifact.refiner, (dir / "refiner.pt").string());
      artifact.refiner->eval();
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument("malformed model.json in " + dir.string() + ": " + e.what());
  } catch (const std::exception& e) {
    return TorchError(e, "loading the detector from " + dir.string());
  }
  return artifact;
}

bool IsDetectorArtifact(const std::filesystem::path& dir) {
  std::ifstream in(dir / "model.json");
  if (!in) return false;
  nlohmann::json model = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return model.is_object() && model.value("format", "") == kDetectorFormat;
}

// ---------------------------------------------------------------------------------------------
// Predictor.

namespace {

constexpr float kNmsIoU = 0.5f;
constexpr int kMaxCandidates = 100;

class TorchDetectionPredictor : public DetectionPredictor {
 public:
  explicit TorchDetectionPredictor(DetectorArtifact artifact) : artifact_(std::move(artifact)) {
    labels_ = artifact_.labels;
    thresholds_ = artifact_.thresholds;
    input_size_ = artifact_.input_size;
    number_of_training_images_ = artifact_.number_of_training_images;
  }

  Result<std::vector<DetectedObject>> Detect(std::string_view image_bytes,
                                             const DetectOptions& options) override {
    int width = 0, height = 0;
    OSPREY_ASSIGN_OR_RETURN(image::Image boxed,
                            DecodeLetterboxed(image_bytes, input_size_, &width, &height));
    Letterbox letterbox = MakeLetterbox(width, height, input_size_);
    // Only the band of the square that holds the image goes through the network, widened to the
    // 32-px grid so that every cell sees what it saw in training; the rows or columns left out
    // are padding (a quarter of the square for a 4:3 image). Boxes come back shifted by `x0, y0`.
    auto band = [&](float pad, int extent) {
      int begin = static_cast<int>(std::floor(pad)) / 32 * 32;
      int end = std::min(input_size_, (static_cast<int>(std::ceil(pad)) + extent + 31) / 32 * 32);
      return std::pair<int, int>(begin, end);
    };
    auto [x0, x1] = band(letterbox.pad_x, letterbox.scaled_width);
    auto [y0, y1] = band(letterbox.pad_y, letterbox.scaled_height);
    std::vector<Detection> detections;
    try {
      c10::InferenceMode inference;
      torch::Tensor x = ImagesToTensor({boxed.rgb.data()}, input_size_)
                            .slice(2, y0, y1)
                            .slice(3, x0, x1)
                            .contiguous(torch::MemoryFormat::ChannelsLast);
      PyramidFeatures features = artifact_.Features(x);
      torch::Tensor output = artifact_.head->forward(features.c3, features.c4, features.c5)[0];
      float floor = options.min_confidence >= 0 ? options.min_confidence : MinThreshold();
      detections = DecodeHeadOutput(output, features.c3[0], features.c4[0], Row(features.c5, 0), artifact_.classifier,
                                    artifact_.refiner, floor,
                                    kMaxCandidates);
    } catch (const std::exception& e) {
      return TorchError(e, "detecting");
    }
    std::vector<Detection> in_image;
    for (Detection& detection : detections) {
      if (options.min_confidence < 0 && detection.confidence < thresholds_[detection.label]) continue;
      detection.box.left += static_cast<float>(x0);
      detection.box.top += static_cast<float>(y0);
      Box box = ClipBox(FromLetterbox(letterbox, detection.box), static_cast<float>(width),
                        static_cast<float>(height));
      if (box.area() <= 0) continue;
      detection.box = Normalise(box, width, height);
      in_image.push_back(detection);
    }
    std::vector<DetectedObject> objects;
    for (const Detection& detection : NonMaxSuppression(std::move(in_image), kNmsIoU, options.max_results)) {
      objects.push_back({labels_[detection.label], detection.label, detection.confidence, detection.box});
    }
    return objects;
  }

 private:
  float MinThreshold() const { return *std::min_element(thresholds_.begin(), thresholds_.end()); }

  DetectorArtifact artifact_;
};

}  // namespace

Result<std::unique_ptr<DetectionPredictor>> DetectionPredictor::Load(const std::filesystem::path& dir) {
  OSPREY_ASSIGN_OR_RETURN(DetectorArtifact artifact, LoadDetectorArtifact(dir));
  return std::unique_ptr<DetectionPredictor>(
      std::make_unique<TorchDetectionPredictor>(std::move(artifact)));
}

Result<DetectionEvaluation> EvaluateDetector(DetectionPredictor& predictor,
                                             const DetectionTrainingSet& test,
                                             std::vector<SkippedImage>* skipped) {
  std::vector<int> label_map;  // test label index -> model label index
  for (const std::string& name : test.labels) {
    auto it = std::find(predictor.labels().begin(), predictor.labels().end(), name);
    if (it == predictor.labels().end()) {
      return Status::InvalidArgument("test label '" + name + "' is unknown to the model");
    }
    label_map.push_back(static_cast<int>(it - predictor.labels().begin()));
  }
  std::vector<DetectionExample> examples;
  for (const DetectionImage& image : test.images) {
    auto bytes = ReadWholeFile(image.path);
    auto info = bytes.ok() ? image::ProbeImageHeader(*bytes) : Result<image::ImageInfo>(bytes.status());
    Result<std::vector<DetectedObject>> objects =
        info.ok() ? predictor.Detect(*bytes, {/*min_confidence=*/0.01f, /*max_results=*/0})
                  : Result<std::vector<DetectedObject>>(info.status());
    if (!objects.ok()) {
      if (skipped) skipped->push_back({image.source_ref, objects.status()});
      continue;
    }
    // Ground truth is in declared pixels; compare in ratios of the image.
    int width = image.width > 0 ? image.width : info->width;
    int height = image.height > 0 ? image.height : info->height;
    DetectionExample example;
    for (const AnnotatedBox& box : image.boxes) {
      example.truth.push_back({label_map[box.label], Normalise(box.box, width, height)});
    }
    for (const DetectedObject& object : *objects) {
      example.predictions.push_back({object.label_index, object.confidence, object.box});
    }
    examples.push_back(std::move(example));
  }
  return EvaluateDetections(predictor.labels(), examples);
}

}  // namespace osprey::engine

#include "engine/nets.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

namespace osprey::engine {

namespace F = torch::nn::functional;

FoldedConvImpl::FoldedConvImpl(int in, int out, int kernel, int stride, int groups, bool relu)
    : relu6(relu), keras_pad(stride == 2), pointwise(kernel == 1 && stride == 1 && groups == 1) {
  // Keras 'same' at stride 1 pads symmetrically; stride 2 pads bottom/right only (forward()).
  int padding = (stride == 1) ? kernel / 2 : 0;
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                                       .stride(stride)
                                                       .padding(padding)
                                                       .groups(groups)
                                                       .bias(true)));
}

torch::Tensor FoldedConvImpl::forward(torch::Tensor x) {
  if (keras_pad) {
    // Keras pads one zero row/column at the bottom/right, then runs a 'valid' stride-2 conv:
    // out(i) = sum_k w[k] x[2i + k]. Padding the input costs a full copy of the activations
    // (plus a layout round trip: pad() returns NCHW), which was ~40 % of the trunk's time at
    // batch 1. Instead the kernel gets one leading zero tap per axis (k x k -> (k+1) x (k+1))
    // and the conv pads 1 on every side: out(i) = sum_k w[k] x[2i - 1 + k + 1], the same sums
    // with the same zero at x[H], for even and odd H alike. Exact; the weights keep their
    // shape (artifacts are unchanged) and gradients flow through the padded copy.
    torch::Tensor weight = F::pad(conv->weight, F::PadFuncOptions({1, 0, 1, 0}));
    x = F::conv2d(x, weight,
                  F::Conv2dFuncOptions().bias(conv->bias).stride(2).padding(1).groups(
                      conv->options.groups()));
  } else if (pointwise && x.size(0) < 16 && !torch::GradMode::is_enabled()) {
    // LibTorch 1.13 sends 1x1 convolutions at batch < 16 on one thread to its slow path
    // (aten::thnn_conv2d), which copies a channels-last input to NCHW and back: serving p50
    // 9.3-10.7 ms against 8.7-9.2 ms through oneDNN (docs/design/engine.md). Larger batches
    // already take oneDNN; with gradients the module's own convolution runs, as before.
    x = at::mkldnn_convolution(x, conv->weight, conv->bias, {0, 0}, {1, 1}, {1, 1}, 1);
  } else {
    x = conv->forward(x);
  }
  return relu6 ? x.clamp_(0, 6) : x;
}

InvertedResidualImpl::InvertedResidualImpl(int in, int out, int stride, int expansion)
    : residual(stride == 1 && in == out) {
  int hidden = in * expansion;
  if (expansion != 1) {
    expand = register_module("expand", FoldedConv(in, hidden, 1, 1, 1, /*relu6=*/true));
  }
  depthwise = register_module("depthwise", FoldedConv(hidden, hidden, 3, stride, hidden, true));
  project = register_module("project", FoldedConv(hidden, out, 1, 1, 1, /*relu6=*/false));
}

torch::Tensor InvertedResidualImpl::Expand(torch::Tensor x) {
  return expand ? expand->forward(x) : x;
}

torch::Tensor InvertedResidualImpl::FromExpanded(torch::Tensor expanded, torch::Tensor x) {
  torch::Tensor y = project->forward(depthwise->forward(expanded));
  return residual ? y + x : y;
}

torch::Tensor InvertedResidualImpl::forward(torch::Tensor x) { return FromExpanded(Expand(x), x); }

namespace {
// (expansion, output channels, repeats, first stride) per stage: Sandler et al., Table 2.
struct Stage {
  int expansion, channels, repeats, stride;
};
constexpr Stage kStages[] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
}  // namespace

MobileNetV2Impl::MobileNetV2Impl() {
  stem = register_module("stem", FoldedConv(3, 32, 3, 2, 1, /*relu6=*/true));
  int in = 32;
  for (const Stage& stage : kStages) {
    for (int repeat = 0; repeat < stage.repeats; ++repeat) {
      auto block = InvertedResidual(in, stage.channels, repeat == 0 ? stage.stride : 1,
                                    stage.expansion);
      blocks.push_back(register_module("block" + std::to_string(blocks.size()), block));
      in = stage.channels;
    }
  }
  last = register_module("last", FoldedConv(320, 1280, 1, 1, 1, /*relu6=*/true));
}

torch::Tensor MobileNetV2Impl::Trunk(torch::Tensor x, int end_block) {
  x = stem->forward(x);
  for (int block_idx = 0; block_idx < end_block; ++block_idx) x = blocks[block_idx]->forward(x);
  return x;
}

torch::Tensor MobileNetV2Impl::TopFeatures(torch::Tensor x, int begin_block) {
  torch::Tensor probe;
  for (int block_idx = begin_block; block_idx < kNumBlocks; ++block_idx) {
    if (block_idx == 13) {
      torch::Tensor expanded = blocks[13]->Expand(x);
      probe = expanded.mean({2, 3});
      x = blocks[13]->FromExpanded(expanded, x);
    } else {
      x = blocks[block_idx]->forward(x);
    }
  }
  torch::Tensor pooled = last->forward(x).mean({2, 3});
  return torch::cat({probe, pooled}, 1);
}

// ---------------------------------------------------------------------------------------------
// Keras conversion.

namespace {

using Weights = std::map<std::string, torch::Tensor>;

Result<Weights> ReadKerasWeights(const std::filesystem::path& keras_dir) {
  std::ifstream json_file(keras_dir / "model.json");
  std::ifstream bin_file(keras_dir / "weights.bin", std::ios::binary);
  if (!json_file || !bin_file) {
    return Status::NotFound("no backbone in " + keras_dir.string() +
                            " (run scripts/fetch_backbone.sh)");
  }
  std::string blob((std::istreambuf_iterator<char>(bin_file)), std::istreambuf_iterator<char>());
  Weights weights;
  try {
    nlohmann::json model = nlohmann::json::parse(json_file);
    size_t offset = 0;
    for (const auto& entry : model.at("weightsManifest").at(0).at("weights")) {
      std::vector<int64_t> shape = entry.at("shape").get<std::vector<int64_t>>();
      int64_t count = 1;
      for (int64_t dim : shape) count *= dim;
      torch::Tensor values;
      if (entry.contains("quantization")) {
        const auto& quant = entry.at("quantization");
        if (quant.at("dtype") != "uint8") return Status::InvalidArgument("unsupported quantization");
        if (offset + count > blob.size()) return Status::InvalidArgument("weights.bin is short");
        auto q = torch::from_blob(blob.data() + offset, {count}, torch::kUInt8).to(torch::kFloat);
        // tfjs dequantisation: value = min + scale * q.
        values = q * quant.at("scale").get<double>() + quant.at("min").get<double>();
        offset += count;
      } else {
        if (offset + 4 * count > blob.size()) return Status::InvalidArgument("weights.bin is short");
        values = torch::from_blob(blob.data() + offset, {count}, torch::kFloat).clone();
        offset += 4 * count;
      }
      weights[entry.at("name").get<std::string>()] = values.reshape(shape);
    }
    if (offset != blob.size()) return Status::InvalidArgument("weights.bin has trailing bytes");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("backbone model.json: ") + e.what());
  }
  return weights;
}

// Copies Keras conv `name` and its batch norm `bn` into `target`, folding the batch norm:
// w' = w * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps).
Status LoadFolded(const Weights& weights, const std::string& name, const std::string& bn,
                  bool depthwise, FoldedConv& target) {
  auto kernel_it = weights.find(name + (depthwise ? "/depthwise_kernel" : "/kernel"));
  if (kernel_it == weights.end()) return Status::InvalidArgument("backbone lacks " + name);
  torch::Tensor kernel = kernel_it->second;
  // Keras: [kh, kw, in, out] (depthwise: [kh, kw, channels, 1]); torch: [out, in/groups, kh, kw].
  kernel = depthwise ? kernel.permute({2, 3, 0, 1}) : kernel.permute({3, 2, 0, 1});
  torch::Tensor gamma, beta, mean, var;
  for (auto [suffix, tensor] : {std::pair{"/gamma", &gamma}, std::pair{"/beta", &beta},
                                std::pair{"/moving_mean", &mean}, std::pair{"/moving_variance", &var}}) {
    auto it = weights.find(bn + suffix);
    if (it == weights.end()) return Status::InvalidArgument("backbone lacks " + bn + suffix);
    *tensor = it->second;
  }
  torch::Tensor factor = gamma / torch::sqrt(var + 1e-3);
  auto& conv = target->conv;
  if (conv->weight.sizes() != kernel.sizes()) {
    return Status::InvalidArgument("backbone layer " + name + " has an unexpected shape");
  }
  torch::NoGradGuard no_grad;
  conv->weight.copy_(kernel * factor.view({-1, 1, 1, 1}));
  conv->bias.copy_(beta - mean * factor);
  return Status::Ok();
}

}  // namespace

Result<MobileNetV2> ConvertKerasMobileNetV2(const std::filesystem::path& keras_dir) {
  OSPREY_ASSIGN_OR_RETURN(Weights weights, ReadKerasWeights(keras_dir));
  try {
    MobileNetV2 net;
    OSPREY_RETURN_IF_ERROR(LoadFolded(weights, "Conv1", "bn_Conv1", false, net->stem));
    for (int block_idx = 0; block_idx < MobileNetV2Impl::kNumBlocks; ++block_idx) {
      std::string prefix = block_idx == 0 ? "expanded_conv" : "block_" + std::to_string(block_idx);
      auto& block = net->blocks[block_idx];
      if (block->expand) {
        OSPREY_RETURN_IF_ERROR(
            LoadFolded(weights, prefix + "_expand", prefix + "_expand_BN", false, block->expand));
      }
      OSPREY_RETURN_IF_ERROR(LoadFolded(weights, prefix + "_depthwise", prefix + "_depthwise_BN",
                                        true, block->depthwise));
      OSPREY_RETURN_IF_ERROR(LoadFolded(weights, prefix + "_project", prefix + "_project_BN",
                                        false, block->project));
    }
    OSPREY_RETURN_IF_ERROR(LoadFolded(weights, "Conv_1", "Conv_1_bn", false, net->last));
    ToChannelsLast(*net);
    net->eval();
    return net;
  } catch (const std::exception& e) {
    return TorchError(e, "converting the backbone");
  }
}

Result<MobileNetV2> LoadBackbone(const std::filesystem::path& dir) {
  std::filesystem::path archive = dir / "mobilenet_v2_imagenet.pt";
  try {
    if (std::filesystem::exists(archive)) {
      MobileNetV2 net;
      torch::load(net, archive.string());
      ToChannelsLast(*net);
      net->eval();
      return net;
    }
    OSPREY_ASSIGN_OR_RETURN(MobileNetV2 net, ConvertKerasMobileNetV2(dir / "keras"));
    // Write then rename, so that a concurrent reader never sees half an archive.
    std::filesystem::path partial = archive;
    partial += ".partial." + std::to_string(::getpid());
    torch::save(net, partial.string());
    std::filesystem::rename(partial, archive);
    return net;
  } catch (const std::exception& e) {
    return TorchError(e, "loading the backbone from " + dir.string());
  }
}

// ---------------------------------------------------------------------------------------------

namespace {
struct ConvBnReluImpl : torch::nn::Module {
  ConvBnReluImpl(int in, int out, int stride, int kernel = 3) {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                                         .stride(stride)
                                                         .padding(kernel / 2)
                                                         .bias(false)));
    bn = register_module("bn", torch::nn::BatchNorm2d(out));
  }
  torch::Tensor forward(torch::Tensor x) { return torch::relu(bn->forward(conv->forward(x))); }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvBnRelu);

struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int in, int out, int stride) {
    first = register_module("first", ConvBnRelu(in, out, stride));
    second = register_module(
        "second", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    second_bn = register_module("second_bn", torch::nn::BatchNorm2d(out));
    if (stride != 1 || in != out) {
      shortcut = register_module(
          "shortcut",
          torch::nn::Sequential(
              torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
              torch::nn::BatchNorm2d(out)));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor skip = shortcut ? shortcut->forward(x) : x;
    return torch::relu(second_bn->forward(second->forward(first->forward(x))) + skip);
  }
  ConvBnRelu first{nullptr};
  torch::nn::Conv2d second{nullptr};
  torch::nn::BatchNorm2d second_bn{nullptr};
  torch::nn::Sequential shortcut{nullptr};
};
TORCH_MODULE(BasicBlock);
}  // namespace

ScratchNetImpl::ScratchNetImpl(int width, int num_labels) {
  int channels[] = {16 * width, 32 * width, 64 * width, 128 * width};
  torch::nn::Sequential seq;
  seq->push_back(ConvBnRelu(3, channels[0], 2));
  int in = channels[0];
  for (int stage = 0; stage < 4; ++stage) {
    seq->push_back(BasicBlock(in, channels[stage], stage == 0 ? 1 : 2));
    in = channels[stage];
  }
  features = register_module("features", seq);
  fc = register_module("fc", torch::nn::Linear(in, num_labels));
}

torch::Tensor ScratchNetImpl::forward(torch::Tensor x) {
  x = (x - 0.5) * 4.0;
  return fc->forward(features->forward(x).mean({2, 3}));
}

FineTuneNetImpl::FineTuneNetImpl(MobileNetV2 source, int num_labels) {
  top = register_module("top", MobileNetV2());
  CopyState(*source, *top);
  fc = register_module("fc", torch::nn::Linear(kBackboneFeatureDim, num_labels));
}

torch::Tensor FineTuneNetImpl::forward(torch::Tensor block10_activations) {
  return Classify(top->TopFeatures(block10_activations, kFineTuneFromBlock));
}

torch::Tensor FineTuneNetImpl::Classify(torch::Tensor features) {
  return fc->forward(F::dropout(features, F::DropoutFuncOptions().p(0.2).training(is_training())));
}

ConvHeadNetImpl::ConvHeadNetImpl(MobileNetV2 source, int width, int num_labels, int expansion)
    : expansion_block(expansion) {
  trunk = register_module("trunk", MobileNetV2());
  CopyState(*source, *trunk);
  int channels = expansion_block == 0 ? 96 : expansion_block == 13 ? 576 : 960;
  torch::nn::Sequential seq;
  seq->push_back(ConvBnRelu(channels, width, 1, /*kernel=*/1));
  seq->push_back(ConvBnRelu(width, width, 1));
  seq->push_back(ConvBnRelu(width, 2 * width, 2));
  features = register_module("features", seq);
  fc = register_module("fc", torch::nn::Linear(2 * width, num_labels));
}

torch::Tensor ConvHeadNetImpl::Input(torch::Tensor x) {
  if (expansion_block == 0) return x;
  if (expansion_block == 14) x = trunk->blocks[13]->forward(x);
  return trunk->blocks[expansion_block]->Expand(x);
}

torch::Tensor ConvHeadNetImpl::Head(torch::Tensor x) {
  torch::Tensor pooled = features->forward(x).mean({2, 3});
  return fc->forward(F::dropout(pooled, F::DropoutFuncOptions().p(0.3).training(is_training())));
}

torch::Tensor ToProbabilities(torch::Tensor logits, bool multi_label) {
  return multi_label ? torch::sigmoid(logits) : torch::softmax(logits, 1);
}

MobileNetV2 Member::Trunk() const {
  if (backbone) return backbone->top;
  if (conv_head) return conv_head->trunk;
  return nullptr;
}

torch::Tensor Member::FromTrunk(torch::Tensor trunk_activations) {
  return backbone ? backbone->forward(trunk_activations) : conv_head->forward(trunk_activations);
}

// ---------------------------------------------------------------------------------------------
// Model artifact.

namespace {
constexpr char kArtifactFormat[] = "osprey-image-classifier";
constexpr int kArtifactVersion = 1;
}  // namespace

Status SaveArtifact(const ModelArtifact& artifact, const std::filesystem::path& dir) {
  try {
    std::filesystem::create_directories(dir);
    nlohmann::json members = nlohmann::json::array();
    for (size_t member_idx = 0; member_idx < artifact.members.size(); ++member_idx) {
      const Member& member = artifact.members[member_idx];
      std::string file = "member" + std::to_string(member_idx) + ".pt";
      if (member.backbone) {
        torch::save(member.backbone, (dir / file).string());
      } else if (member.conv_head) {
        torch::save(member.conv_head, (dir / file).string());
      } else {
        torch::save(member.scratch, (dir / file).string());
      }
      members.push_back({{"family", member.family},
                         {"input_size", member.input_size},
                         {"weights", file},
                         {"scratch_width", kScratchWidth},
                         {"conv_head_width", kConvHeadWidth},
                         {"conv_head_expansion_block", member.conv_head ? member.conv_head->expansion_block : 0}});
    }
    nlohmann::json model = {
        {"format", kArtifactFormat},
        {"version", kArtifactVersion},
        {"labels", artifact.labels},
        {"multi_label", artifact.multi_label},
        {"family", artifact.family},
        {"number_of_training_images", artifact.number_of_training_images},
        {"thresholds", artifact.thresholds},
        // How Predictor turns bytes into input; recorded so other runtimes can reproduce it.
        {"preprocessing",
         {{"color", "RGB"}, {"scale", "pixel/255"}, {"resize", "stretch to input_size, area"},
          {"test_time_flip", artifact.test_time_flip}}},
        {"members", members},
        {"training", nlohmann::json::parse(artifact.training_json)},
        {"metrics", nlohmann::json::parse(artifact.metrics_json)}};
    std::ofstream out(dir / "model.json");
    out << model.dump(2) << "\n";
    if (!out) return Status::Internal("cannot write " + (dir / "model.json").string());
    return Status::Ok();
  } catch (const std::exception& e) {
    return TorchError(e, "saving the model to " + dir.string());
  }
}

Result<ModelArtifact> LoadArtifact(const std::filesystem::path& dir) {
  std::ifstream in(dir / "model.json");
  if (!in) return Status::NotFound("no model in " + dir.string() + " (model.json is missing)");
  ModelArtifact artifact;
  try {
    nlohmann::json model = nlohmann::json::parse(in);
    if (model.at("format") != kArtifactFormat || model.at("version") != kArtifactVersion) {
      return Status::InvalidArgument("unsupported model format in " + dir.string());
    }
    artifact.labels = model.at("labels").get<std::vector<std::string>>();
    artifact.multi_label = model.at("multi_label").get<bool>();
    artifact.family = model.at("family").get<std::string>();
    artifact.number_of_training_images = model.value("number_of_training_images", 0);
    artifact.thresholds = model.at("thresholds").get<std::vector<float>>();
    artifact.test_time_flip = model.at("preprocessing").value("test_time_flip", true);
    artifact.training_json = model.at("training").dump();
    artifact.metrics_json = model.at("metrics").dump();
    int num_labels = static_cast<int>(artifact.labels.size());
    for (const auto& entry : model.at("members")) {
      Member member;
      member.family = entry.at("family").get<std::string>();
      member.input_size = entry.at("input_size").get<int>();
      std::string weights = (dir / entry.at("weights").get<std::string>()).string();
      if (member.family == "scratch") {
        member.scratch = ScratchNet(entry.at("scratch_width").get<int>(), num_labels);
        torch::load(member.scratch, weights);
        ToChannelsLast(*member.scratch);
        member.scratch->eval();
      } else if (member.family == "conv-head") {
        member.conv_head = ConvHeadNet(MobileNetV2(), entry.at("conv_head_width").get<int>(), num_labels,
                                       entry.value("conv_head_expansion_block", 0));
        torch::load(member.conv_head, weights);
        ToChannelsLast(*member.conv_head);
        member.conv_head->eval();
      } else {
        member.backbone = FineTuneNet(MobileNetV2(), num_labels);
        torch::load(member.backbone, weights);
        ToChannelsLast(*member.backbone);
        member.backbone->eval();
      }
      artifact.members.push_back(std::move(member));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument("malformed model.json in " + dir.string() + ": " + e.what());
  } catch (const std::exception& e) {
    return TorchError(e, "loading the model from " + dir.string());
  }
  if (artifact.members.empty() || artifact.thresholds.size() != artifact.labels.size()) {
    return Status::InvalidArgument("model.json in " + dir.string() + " is inconsistent");
  }
  return artifact;
}

torch::Tensor ImagesToTensor(const std::vector<const uint8_t*>& images, int size) {
  int64_t count = static_cast<int64_t>(images.size());
  torch::Tensor batch = torch::empty({count, size, size, 3}, torch::kUInt8);
  size_t bytes = static_cast<size_t>(size) * size * 3;
  for (int64_t image_idx = 0; image_idx < count; ++image_idx) {
    std::memcpy(batch[image_idx].data_ptr(), images[image_idx], bytes);
  }
  // NHWC bytes viewed as NCHW: exactly the channels-last layout, so no copy is needed.
  return batch.permute({0, 3, 1, 2}).to(torch::kFloat).div_(255.0);
}

void CopyState(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto source_params = from.named_parameters();
  for (auto& item : to.named_parameters()) item.value().copy_(source_params[item.key()]);
  auto source_buffers = from.named_buffers();
  for (auto& item : to.named_buffers()) item.value().copy_(source_buffers[item.key()]);
}

void ToChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& param : module.parameters()) {
    if (param.dim() == 4) param.set_data(param.contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

Status TorchError(const std::exception& e, const std::string& context) {
  std::string what = e.what();
  // c10::Error messages carry a long C++ backtrace after the first line.
  if (auto newline = what.find('\n'); newline != std::string::npos) what.resize(newline);
  return Status::Internal(context + ": " + what);
}

}  // namespace osprey::engine

#include <algorithm>

#include "engine/classifier.h"
#include "engine/nets.h"
#include "image/image.h"

namespace osprey::engine {
namespace {

class TorchPredictor : public Predictor {
 public:
  explicit TorchPredictor(ModelArtifact artifact) : artifact_(std::move(artifact)) {
    labels_ = artifact_.labels;
    multi_label_ = artifact_.multi_label;
    thresholds_ = artifact_.thresholds;
    family_ = artifact_.family;
    number_of_training_images_ = artifact_.number_of_training_images;
  }

  Result<std::vector<float>> Scores(std::string_view image_bytes) override {
    try {
      c10::InferenceMode inference_mode;
      torch::Tensor sum;
      auto add = [&](torch::Tensor logits) {
        torch::Tensor probabilities = ToProbabilities(logits, multi_label_).mean(0, /*keepdim=*/true);
        sum = sum.defined() ? sum + probabilities : probabilities;
      };
      // Members with a backbone share its frozen trunk (blocks below kFineTuneFromBlock are
      // never trained), so it runs once (with test-time flips: on the image and its mirror
      // image as one batch of 2).
      torch::Tensor trunk;
      for (Member& member : artifact_.members) {
        MobileNetV2 backbone = member.Trunk();
        if (backbone && trunk.defined()) {
          add(member.FromTrunk(trunk));
          continue;
        }
        OSPREY_ASSIGN_OR_RETURN(
            image::Image decoded,
            image::DecodeAndResize(image_bytes, member.input_size, member.input_size));
        torch::Tensor x = ImagesToTensor({decoded.rgb.data()}, member.input_size);
        if (artifact_.test_time_flip) {
          x = torch::cat({x, x.flip({3})}).contiguous(torch::MemoryFormat::ChannelsLast);
        }
        if (!backbone) {
          add(member.scratch->forward(x));
          continue;
        }
        trunk = backbone->Trunk(x, kFineTuneFromBlock);
        add(member.FromTrunk(trunk));
      }
      torch::Tensor mean = (sum / static_cast<double>(artifact_.members.size())).contiguous();
      const float* data = mean.data_ptr<float>();
      return std::vector<float>(data, data + mean.numel());
    } catch (const std::exception& e) {
      return TorchError(e, "predicting");
    }
  }

 private:
  ModelArtifact artifact_;
};

}  // namespace

Result<std::unique_ptr<Predictor>> Predictor::Load(const std::filesystem::path& dir) {
  OSPREY_ASSIGN_OR_RETURN(ModelArtifact artifact, LoadArtifact(dir));
  return std::unique_ptr<Predictor>(std::make_unique<TorchPredictor>(std::move(artifact)));
}

}  // namespace osprey::engine

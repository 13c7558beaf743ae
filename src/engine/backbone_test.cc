// Checks the Keras -> LibTorch conversion of the pretrained backbone against reference values
// computed by an independent implementation (tools/backbone_reference.js: Keras semantics,
// NHWC, unfolded batch norm). Needs the backbone: scripts/fetch_backbone.sh (run by
// scripts/install-deps.sh). Fails, rather than skips, when it is missing.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/classifier.h"
#include "engine/nets.h"

namespace osprey::engine {
namespace {

// Must match syntheticImage() in tools/backbone_reference.js.
torch::Tensor SyntheticImage() {
  constexpr int kSize = kBackboneInputSize;
  torch::Tensor image = torch::empty({1, 3, kSize, kSize});
  auto pixels = image.accessor<float, 4>();
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      for (int c = 0; c < 3; ++c) {
        double value = 0.5 + 0.5 * std::sin(0.05 * x + 1.3 * c) * std::cos(0.07 * y - 0.6 * c);
        pixels[0][c][y][x] = static_cast<float>(std::round(255 * value) / 255);
      }
    }
  }
  return image.contiguous(torch::MemoryFormat::ChannelsLast);
}

std::filesystem::path KerasDir() {
  std::filesystem::path dir = DefaultBackboneDir() / "keras";
  if (!std::filesystem::exists(dir / "model.json")) {
    ADD_FAILURE() << "the pretrained backbone is missing from " << dir
                  << ": run scripts/fetch_backbone.sh (or set OSPREY_BACKBONE_DIR)";
  }
  return dir;
}

torch::Tensor Features(MobileNetV2& net) {
  torch::NoGradGuard no_grad;
  return net->TopFeatures(net->Trunk(SyntheticImage(), kFineTuneFromBlock), kFineTuneFromBlock)[0];
}

TEST(BackboneTest, ConversionMatchesTheKerasReference) {
  auto net = ConvertKerasMobileNetV2(KerasDir());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  torch::Tensor features = Features(*net);
  ASSERT_EQ(features.size(0), kBackboneFeatureDim);
  torch::Tensor probe = features.slice(0, 0, 576).to(torch::kDouble);
  torch::Tensor pooled = features.slice(0, 576).to(torch::kDouble);
  // Recorded with: node tools/backbone_reference.js ~/.cache/osprey/backbone/keras
  const double probe_head[] = {0.02714339, 0.003840316, 0.003270118, 0.03650170,
                               0.002374655, 0.008194153, 0.05671898, 0.08199142};
  const double probe_sum = 121.77187, probe_sumsq = 106.71879;
  const double pooled_d3 = 0.01077327;
  const double pooled_sum = 56.785893, pooled_sumsq = 95.581778;
  for (int idx = 0; idx < 8; ++idx) {
    EXPECT_NEAR(probe[idx].item<double>(), probe_head[idx], 1e-4) << "probe " << idx;
  }
  EXPECT_NEAR(probe.sum().item<double>(), probe_sum, 1e-3 * probe_sum);
  EXPECT_NEAR(probe.pow(2).sum().item<double>(), probe_sumsq, 1e-3 * probe_sumsq);
  EXPECT_NEAR(pooled[3].item<double>(), pooled_d3, 1e-4);
  EXPECT_NEAR(pooled.sum().item<double>(), pooled_sum, 1e-3 * pooled_sum);
  EXPECT_NEAR(pooled.pow(2).sum().item<double>(), pooled_sumsq, 1e-3 * pooled_sumsq);
}

TEST(BackboneTest, CachedArchiveRoundTripsExactly) {
  std::filesystem::path keras = KerasDir();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("osprey_backbone_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::create_directory_symlink(std::filesystem::absolute(keras), dir / "keras");
  auto converted = LoadBackbone(dir);  // converts and writes the archive
  ASSERT_TRUE(converted.ok()) << converted.status().ToString();
  ASSERT_TRUE(std::filesystem::exists(dir / "mobilenet_v2_imagenet.pt"));
  auto loaded = LoadBackbone(dir);  // reads the archive
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(torch::equal(Features(*converted), Features(*loaded)));
  std::filesystem::remove_all(dir);
}

TEST(BackboneTest, MissingBackboneIsNotFound) {
  auto net = LoadBackbone("/nonexistent/osprey-backbone");
  ASSERT_FALSE(net.ok());
  EXPECT_EQ(net.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace osprey::engine

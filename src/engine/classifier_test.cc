// End-to-end tests of TrainClassifier and Predictor on tiny synthetic images (coloured shapes),
// small enough for a 2-core CI machine.
#include "engine/classifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <random>

#include "image/image.h"

namespace osprey::engine {
namespace {

namespace fs = std::filesystem;

// Draws each shape in `shapes` (0 = red disc, 1 = green square, 2 = blue cross) at a random
// place and size on a grey noisy background.
image::Image ShapesImage(const std::vector<int>& shapes, std::mt19937& rng, int size = 64) {
  image::Image img;
  img.width = img.height = size;
  img.rgb.resize(size * size * 3);
  std::uniform_int_distribution<int> noise(90, 150);
  for (auto& byte : img.rgb) byte = static_cast<uint8_t>(noise(rng));
  for (int shape : shapes) {
    std::uniform_int_distribution<int> radius_dist(size / 8, size / 5);
    int radius = radius_dist(rng);
    std::uniform_int_distribution<int> center_dist(radius, size - radius - 1);
    int cx = center_dist(rng), cy = center_dist(rng);
    for (int y = cy - radius; y <= cy + radius; ++y) {
      for (int x = cx - radius; x <= cx + radius; ++x) {
        int dx = x - cx, dy = y - cy;
        bool inside = shape == 0   ? dx * dx + dy * dy <= radius * radius
                      : shape == 1 ? true
                                   : (std::abs(dx) < radius / 3 || std::abs(dy) < radius / 3);
        if (!inside) continue;
        uint8_t* px = &img.rgb[(y * size + x) * 3];
        px[0] = shape == 0 ? 220 : 30;
        px[1] = shape == 1 ? 200 : 40;
        px[2] = shape == 2 ? 230 : 50;
      }
    }
  }
  return img;
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ClassifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey_classifier_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `per_label` images per label; multi-label images hold one or two shapes.
  TrainingSet MakeSet(const std::string& name, int per_label, bool multi_label, uint32_t seed) {
    TrainingSet set;
    set.labels = {"cross", "disc", "square"};  // sorted, as the manifest loader does
    set.multi_label = multi_label;
    const int shape_of_label[] = {2, 0, 1};
    std::mt19937 rng(seed);
    for (int image_idx = 0; image_idx < per_label * 3; ++image_idx) {
      std::vector<int> labels = {image_idx % 3};
      if (multi_label && image_idx % 2 == 1) labels.push_back((labels[0] + 1 + image_idx / 6 % 2) % 3);
      std::sort(labels.begin(), labels.end());
      labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
      std::vector<int> shapes;
      for (int label : labels) shapes.push_back(shape_of_label[label]);
      auto png = image::EncodePng(ShapesImage(shapes, rng));
      EXPECT_TRUE(png.ok());
      fs::path path = dir_ / (name + "-" + std::to_string(image_idx) + ".png");
      WriteBytes(path, std::string(png->begin(), png->end()));
      set.images.push_back({path.filename().string(), path, labels});
    }
    return set;
  }

  TrainingOptions Options(const std::string& out) {
    TrainingOptions options;
    options.output_dir = dir_ / out;
    options.backbone_dir = "";  // from scratch: no dependency on the backbone cache
    options.family = ModelFamily::kScratch;
    options.time_budget_seconds = 4;
    options.seed = 7;
    // One intra-op thread: CI machines run several tests at once, and OpenMP barriers collapse
    // when another process holds a core.
    options.threads = 1;
    return options;
  }

  // Options() with the pretrained backbone and `family`.
  TrainingOptions BackboneOptions(const std::string& out, ModelFamily family) {
    TrainingOptions options = Options(out);
    options.backbone_dir = DefaultBackboneDir();
    options.family = family;
    return options;
  }

  // The scores the artifacts in `first` and `second` give `image` (both must load and score).
  std::pair<std::vector<float>, std::vector<float>> ScoresOfBoth(const std::string& first,
                                                                 const std::string& second,
                                                                 const fs::path& image) {
    auto a = Predictor::Load(dir_ / first);
    auto b = Predictor::Load(dir_ / second);
    EXPECT_TRUE(a.ok() && b.ok());
    if (!a.ok() || !b.ok()) return {};
    std::string bytes = ReadBytes(image);
    auto scores_a = (*a)->Scores(bytes);
    auto scores_b = (*b)->Scores(bytes);
    EXPECT_TRUE(scores_a.ok() && scores_b.ok());
    if (!scores_a.ok() || !scores_b.ok()) return {};
    return {*scores_a, *scores_b};
  }

  fs::path dir_;
};

TEST_F(ClassifierTest, SmokeTrainingBeatsChanceAndRoundTrips) {
  TrainingSet train = MakeSet("train", 16, false, 1);
  TrainingSet test = MakeSet("test", 8, false, 2);
  auto report = TrainClassifier(train, nullptr, Options("model"), nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->chosen, "scratch");
  EXPECT_FALSE(report->backbone_used);
  EXPECT_EQ(report->num_training_images + report->num_validation_images, 48);
  auto predictor = Predictor::Load(dir_ / "model");
  ASSERT_TRUE(predictor.ok()) << predictor.status().ToString();
  EXPECT_EQ((*predictor)->labels(), train.labels);
  std::vector<SkippedImage> skipped;
  auto result = EvaluateModel(**predictor, test, &skipped);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(skipped.empty());
  // Chance is 1/3.
  EXPECT_GT(result->macro_f1_at_default, 0.8);
  EXPECT_GT(result->accuracy, 0.8);
}

TEST_F(ClassifierTest, SameSeedGivesIdenticalMetrics) {
  TrainingSet train = MakeSet("train", 8, false, 3);
  auto first = TrainClassifier(train, nullptr, Options("first"), nullptr);
  auto second = TrainClassifier(train, nullptr, Options("second"), nullptr);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_FALSE(first->time_guard_hit);
  EXPECT_EQ(first->validation.f1, second->validation.f1);
  EXPECT_EQ(first->validation.accuracy, second->validation.accuracy);
  EXPECT_EQ(first->candidates[0].epochs, second->candidates[0].epochs);
  auto [scores_a, scores_b] = ScoresOfBoth("first", "second", train.images[0].path);
  ASSERT_FALSE(scores_a.empty());
  EXPECT_EQ(scores_a, scores_b);
  auto a = Predictor::Load(dir_ / "first");
  auto b = Predictor::Load(dir_ / "second");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->thresholds(), (*b)->thresholds());
}

// The conv head on the pretrained trunk: reproducible for a seed, and the artifact serves the
// same scores after a round trip. Needs the backbone cache (scripts/fetch_backbone.sh).
TEST_F(ClassifierTest, ConvHeadIsReproducibleAndRoundTrips) {
  if (!CheckBackbone(DefaultBackboneDir()).ok()) GTEST_SKIP() << "no backbone in " << DefaultBackboneDir();
  TrainingSet train = MakeSet("train", 8, false, 5);
  auto options = [&](const std::string& out) { return BackboneOptions(out, ModelFamily::kConvHead); };
  TrainingOptions first_options = options("first");
  first_options.candidates_dir = dir_ / "candidates";
  auto first = TrainClassifier(train, nullptr, first_options, nullptr);
  auto second = TrainClassifier(train, nullptr, options("second"), nullptr);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok());
  ASSERT_FALSE(first->time_guard_hit);
  ASSERT_EQ(first->candidates.size(), 2u);  // frozen-head, conv-head
  EXPECT_EQ(first->candidates[1].family, "conv-head");
  EXPECT_EQ(first->candidates[1].validation_f1, second->candidates[1].validation_f1);
  EXPECT_EQ(first->validation.f1, second->validation.f1);
  auto a = Predictor::Load(dir_ / "first");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->family(), first->chosen);
  auto [scores_a, scores_b] = ScoresOfBoth("first", "second", train.images[0].path);
  ASSERT_EQ(scores_a.size(), 3u);
  EXPECT_EQ(scores_a, scores_b);
  EXPECT_NEAR(scores_a[0] + scores_a[1] + scores_a[2], 1.0, 1e-4);
  // The conv head records which backbone layer it reads; Predictor::Load rebuilds it from that.
  std::string text = ReadBytes(dir_ / "candidates" / "conv-head" / "model.json");
  EXPECT_NE(text.find("\"conv_head_expansion_block\": 13"), std::string::npos) << text;
  EXPECT_TRUE(Predictor::Load(dir_ / "candidates" / "conv-head").ok());
}

// `auto` with the backbone trains the from-scratch net on a second thread beside the conv head
// when the budget buys it enough epochs; each draws from its own generator, so two runs give
// the same candidates, choice and scores however the threads interleave.
TEST_F(ClassifierTest, ScratchBesideTheConvHeadIsReproducible) {
  if (!CheckBackbone(DefaultBackboneDir()).ok()) GTEST_SKIP() << "no backbone in " << DefaultBackboneDir();
  TrainingSet train = MakeSet("train", 8, false, 6);
  auto options = [&](const std::string& out) {
    TrainingOptions result = BackboneOptions(out, ModelFamily::kAuto);
    result.time_budget_seconds = 5;  // buys the scratch net 49 epochs of 19 images
    return result;
  };
  auto first = TrainClassifier(train, nullptr, options("first"), nullptr);
  auto second = TrainClassifier(train, nullptr, options("second"), nullptr);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_FALSE(first->time_guard_hit);
  ASSERT_GE(first->candidates.size(), 3u);  // frozen-head, conv-head, scratch, then ensembles
  EXPECT_EQ(first->candidates[1].family, "conv-head");
  EXPECT_EQ(first->candidates[2].family, "scratch");
  EXPECT_GE(first->candidates[2].epochs, 40);
  ASSERT_EQ(first->candidates.size(), second->candidates.size());
  for (size_t idx = 0; idx < first->candidates.size(); ++idx) {
    EXPECT_EQ(first->candidates[idx].family, second->candidates[idx].family);
    EXPECT_EQ(first->candidates[idx].epochs, second->candidates[idx].epochs);
    EXPECT_EQ(first->candidates[idx].validation_f1, second->candidates[idx].validation_f1) << idx;
  }
  EXPECT_EQ(first->chosen, second->chosen);
  auto [scores_a, scores_b] = ScoresOfBoth("first", "second", train.images[0].path);
  ASSERT_FALSE(scores_a.empty());
  EXPECT_EQ(scores_a, scores_b);
}

TEST_F(ClassifierTest, MultiLabelLearnsPerLabelThresholds) {
  TrainingSet train = MakeSet("train", 16, true, 4);
  TrainingSet test = MakeSet("test", 8, true, 5);
  TrainingOptions options = Options("model");
  options.time_budget_seconds = 6;
  auto report = TrainClassifier(train, nullptr, options, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto predictor = Predictor::Load(dir_ / "model");
  ASSERT_TRUE(predictor.ok());
  EXPECT_TRUE((*predictor)->multi_label());
  ASSERT_EQ((*predictor)->thresholds().size(), 3u);
  for (float threshold : (*predictor)->thresholds()) {
    EXPECT_GT(threshold, 0.0f);
    EXPECT_LE(threshold, 1.0f);
  }
  std::vector<SkippedImage> skipped;
  auto result = EvaluateModel(**predictor, test, &skipped);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->confusion.empty());
  // Sigmoid scores are independent: an image with two shapes can score high on both.
  EXPECT_GT(result->f1, 0.7);
  EXPECT_GT(result->macro_f1_at_default, 0.6);
}

TEST_F(ClassifierTest, BadImagesAreSkippedWithAReason) {
  TrainingSet train = MakeSet("train", 8, false, 6);
  auto add = [&](const std::string& name, const std::string& bytes) {
    fs::path path = dir_ / name;
    if (!bytes.empty()) WriteBytes(path, bytes);
    train.images.push_back({name, path, {0}});
  };
  add("text.png", "this is not an image");
  add("missing.jpg", "");
  std::string huge("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x13\x88\0\0\x13\x88\x08\x02\0\0\0", 29);
  add("huge.png", huge + std::string(100, '\0'));  // declares 5000 x 5000
  auto png = image::EncodePng(ShapesImage({0}, *std::make_unique<std::mt19937>(9)));
  ASSERT_TRUE(png.ok());
  add("truncated.png", std::string(png->begin(), png->begin() + png->size() / 2));
  auto report = TrainClassifier(train, nullptr, Options("model"), nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::map<std::string, StatusCode> reasons;
  for (const SkippedImage& skipped : report->skipped) reasons[skipped.source_ref] = skipped.reason.code();
  EXPECT_EQ(reasons.size(), 4u);
  EXPECT_EQ(reasons["text.png"], StatusCode::kInvalidImage);
  EXPECT_EQ(reasons["missing.jpg"], StatusCode::kNotFound);
  EXPECT_EQ(reasons["huge.png"], StatusCode::kImageTooLarge);
  EXPECT_EQ(reasons["truncated.png"], StatusCode::kInvalidImage);
  EXPECT_EQ(report->num_training_images + report->num_validation_images, 24);
}

TEST_F(ClassifierTest, RefusesExistingOutputAndSingleLabel) {
  TrainingSet train = MakeSet("train", 4, false, 8);
  fs::create_directories(dir_ / "exists");
  auto exists = TrainClassifier(train, nullptr, Options("exists"), nullptr);
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(exists.status().code(), StatusCode::kAlreadyExists);
  train.labels = {"only"};
  for (auto& image : train.images) image.labels = {0};
  auto single = TrainClassifier(train, nullptr, Options("single"), nullptr);
  ASSERT_FALSE(single.ok());
  EXPECT_EQ(single.status().code(), StatusCode::kInvalidArgument);
}

// Asks to stop once training has reached `stage`.
class StopAtStage : public TrainingObserver {
 public:
  explicit StopAtStage(std::string stage) : stage_(std::move(stage)) {}
  void OnProgress(std::string_view stage, int, int) override {
    if (stage == stage_) reached_ = true;
  }
  void OnMessage(std::string_view) override {}
  bool StopRequested() override { return reached_; }

 private:
  std::string stage_;
  std::atomic<bool> reached_{false};
};

TEST_F(ClassifierTest, StopRequestEndsTrainingWithCancelledAndNoModel) {
  TrainingSet train = MakeSet("train", 16, false, 9);
  TrainingOptions options = Options("stopped");
  options.time_budget_seconds = 600;  // minutes of epochs unless the request stops them
  StopAtStage observer("scratch");
  auto report = TrainClassifier(train, nullptr, options, &observer);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kCancelled) << report.status().ToString();
  EXPECT_FALSE(fs::exists(dir_ / "stopped"));
}

TEST_F(ClassifierTest, MissingModelIsNotFound) {
  auto predictor = Predictor::Load(dir_ / "nothing");
  ASSERT_FALSE(predictor.ok());
  EXPECT_EQ(predictor.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace osprey::engine

// Smoke tests of detector training and serving on tiny synthetic scenes (red squares and blue
// discs on a textured background), small enough for CI. Needs the pretrained backbone
// (scripts/fetch_backbone.sh), like backbone_test.
#include "engine/detector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "image/image.h"

namespace osprey::engine {
namespace {

constexpr int kWidth = 192, kHeight = 144;

class DetectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("osprey_detector_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    train_ = MakeSet("train", 32, /*seed=*/1);
    test_ = MakeSet("test", 12, /*seed=*/2);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  // Each scene holds 1-2 objects of 28-48 px that do not overlap.
  static DetectionTrainingSet MakeSet(const std::string& name, int count, uint32_t seed) {
    DetectionTrainingSet set;
    set.labels = {"disc", "square"};
    std::mt19937 rng(seed);
    for (int image_idx = 0; image_idx < count; ++image_idx) {
      image::Image img;
      img.width = kWidth;
      img.height = kHeight;
      img.rgb.resize(kWidth * kHeight * 3);
      int tint = static_cast<int>(rng() % 60);
      for (int y = 0; y < kHeight; ++y) {
        for (int x = 0; x < kWidth; ++x) {
          uint8_t* p = &img.rgb[(y * kWidth + x) * 3];
          int stripes = ((x / 12 + y / 9) % 2) * 30;
          p[0] = static_cast<uint8_t>(90 + tint + stripes + rng() % 20);
          p[1] = static_cast<uint8_t>(120 + stripes + rng() % 20);
          p[2] = static_cast<uint8_t>(80 + tint / 2 + rng() % 20);
        }
      }
      DetectionImage entry;
      int objects = 1 + image_idx % 2;
      for (int object = 0; object < objects; ++object) {
        int label = (image_idx + object) % 2;
        int side = 28 + static_cast<int>(rng() % 21);
        // Left half for the first object, right half for the second: never overlapping.
        int left = object * kWidth / 2 + static_cast<int>(rng() % (kWidth / 2 - side));
        int top = static_cast<int>(rng() % (kHeight - side));
        for (int y = top; y < top + side; ++y) {
          for (int x = left; x < left + side; ++x) {
            float dx = x - left - side / 2.0f + 0.5f, dy = y - top - side / 2.0f + 0.5f;
            if (label == 0 && dx * dx + dy * dy > side * side / 4.0f) continue;
            uint8_t* p = &img.rgb[(y * kWidth + x) * 3];
            p[0] = label == 1 ? 220 : 30;
            p[1] = 30;
            p[2] = label == 1 ? 30 : 220;
          }
        }
        entry.boxes.push_back({label, {static_cast<float>(left), static_cast<float>(top),
                                       static_cast<float>(side), static_cast<float>(side)}});
      }
      entry.path = dir_ / (name + "-" + std::to_string(image_idx) + ".png");
      entry.source_ref = entry.path.string();
      entry.width = kWidth;
      entry.height = kHeight;
      auto png = image::EncodePng(img);
      EXPECT_TRUE(png.ok());
      std::ofstream(entry.path, std::ios::binary)
          .write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
      set.images.push_back(std::move(entry));
    }
    return set;
  }

  static std::string ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  static DetectorOptions Options(const std::string& model) {
    DetectorOptions options;
    options.output_dir = dir_ / model;
    options.backbone_dir = DefaultBackboneDir();
    options.input_size = 192;
    options.time_budget_seconds = 60;
    options.max_epochs = 40;
    return options;
  }

  static inline std::filesystem::path dir_;
  static inline DetectionTrainingSet train_, test_;
};

TEST_F(DetectorTest, TrainsSavesLoadsAndFindsTheObjects) {
  SetEngineThreads(2);
  auto report = TrainDetector(train_, nullptr, Options("model"), nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->num_training_images + report->num_validation_images, 32);
  EXPECT_TRUE(report->skipped.empty());
  EXPECT_TRUE(IsDetectorArtifact(dir_ / "model"));

  SetEngineThreads(1);
  auto predictor = DetectionPredictor::Load(dir_ / "model");
  ASSERT_TRUE(predictor.ok()) << predictor.status().ToString();
  EXPECT_EQ((*predictor)->labels(), train_.labels);
  std::vector<SkippedImage> skipped;
  auto eval = EvaluateDetector(**predictor, test_, &skipped);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_TRUE(skipped.empty());
  EXPECT_GT(eval->average_precision, 0.5) << "test mAP@0.5";
  EXPECT_GT(eval->average_recall, 0.5);

  std::string bytes = ReadFile(test_.images[0].path);
  auto objects = (*predictor)->Detect(bytes, {/*min_confidence=*/0.0f, /*max_results=*/5});
  ASSERT_TRUE(objects.ok());
  ASSERT_FALSE(objects->empty());
  EXPECT_LE(objects->size(), 5u);
  for (size_t idx = 0; idx < objects->size(); ++idx) {
    const DetectedObject& object = (*objects)[idx];
    if (idx > 0) {
      EXPECT_GE((*objects)[idx - 1].confidence, object.confidence);
    }
    EXPECT_GE(object.box.left, 0);
    EXPECT_GE(object.box.top, 0);
    EXPECT_LE(object.box.right(), 1.0001f);
    EXPECT_LE(object.box.bottom(), 1.0001f);
    EXPECT_LE(object.confidence, 1.0f);
  }
  auto confident = (*predictor)->Detect(bytes, {/*min_confidence=*/0.999f, /*max_results=*/0});
  ASSERT_TRUE(confident.ok());
  for (const DetectedObject& object : *confident) EXPECT_GE(object.confidence, 0.999f);
  EXPECT_EQ((*predictor)->Detect("not an image", {}).status().code(), StatusCode::kInvalidImage);

  // A 2:1 image (rows 24..120 of each test scene): only the 32-px-aligned band of the square
  // that holds the image goes through the network, so this checks that boxes are shifted back.
  int checked = 0, found = 0;
  for (const DetectionImage& scene : test_.images) {
    std::string png = ReadFile(scene.path);
    auto full = image::Decode(png);
    ASSERT_TRUE(full.ok());
    constexpr int kTop = 24, kRows = 96;
    image::Image wide;
    wide.width = kWidth;
    wide.height = kRows;
    wide.rgb.assign(full->rgb.begin() + kTop * kWidth * 3, full->rgb.begin() + (kTop + kRows) * kWidth * 3);
    auto wide_png = image::EncodePng(wide);
    ASSERT_TRUE(wide_png.ok());
    auto wide_objects = (*predictor)->Detect(std::string(wide_png->begin(), wide_png->end()), {0.0f, 0});
    ASSERT_TRUE(wide_objects.ok());
    for (const AnnotatedBox& truth : scene.boxes) {
      if (truth.box.top < kTop || truth.box.bottom() > kTop + kRows) continue;
      Box expected = Normalise({truth.box.left, truth.box.top - kTop, truth.box.width, truth.box.height}, kWidth, kRows);
      ++checked;
      for (const DetectedObject& object : *wide_objects) {
        if (object.label_index == truth.label && IoU(object.box, expected) >= 0.5f) {
          ++found;
          break;
        }
      }
    }
  }
  ASSERT_GE(checked, 3);
  EXPECT_GE(found * 2, checked) << found << " of " << checked << " objects found in the 2:1 crops";
}

TEST_F(DetectorTest, SameSeedGivesTheSameModel) {
  SetEngineThreads(2);
  DetectorOptions first = Options("seed-a"), second = Options("seed-b");
  first.max_epochs = second.max_epochs = 3;
  auto a = TrainDetector(train_, nullptr, first, nullptr);
  auto b = TrainDetector(train_, nullptr, second, nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->final_loss, b->final_loss);
  EXPECT_EQ(a->validation.average_precision, b->validation.average_precision);
}

// The final fit trains the served head and classifier again on the training and validation
// images; what is reported and stored from validation (scores, thresholds) is the first fit's.
TEST_F(DetectorTest, FinalFitServesAModelTrainedOnTheValidationImagesToo) {
  SetEngineThreads(2);
  DetectorOptions with = Options("fit-all"), without = Options("fit-none");
  with.max_epochs = without.max_epochs = 3;
  without.final_fit = DetectorOptions::FinalFit::kNone;
  auto a = TrainDetector(train_, nullptr, with, nullptr);
  auto b = TrainDetector(train_, nullptr, without, nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->final_fit_images, 32);  // 28 training + 4 held-out validation images
  EXPECT_EQ(b->final_fit_images, 0);
  EXPECT_EQ(a->validation.average_precision, b->validation.average_precision);
  EXPECT_EQ(a->validation_label_accuracy, b->validation_label_accuracy);

  auto model = [](const std::string& name) {
    return nlohmann::json::parse(ReadFile(dir_ / name / "model.json"));
  };
  EXPECT_EQ(model("fit-all")["training"]["final_fit_images"], 32);
  EXPECT_EQ(model("fit-all")["thresholds"], model("fit-none")["thresholds"]);

  SetEngineThreads(1);
  auto served = DetectionPredictor::Load(dir_ / "fit-all");
  auto first = DetectionPredictor::Load(dir_ / "fit-none");
  ASSERT_TRUE(served.ok() && first.ok());
  std::string bytes = ReadFile(test_.images[0].path);
  auto confidences = [&](DetectionPredictor& predictor) {
    auto objects = predictor.Detect(bytes, {0.0f, 0});
    std::vector<float> out;
    if (objects.ok()) {
      for (const DetectedObject& object : *objects) out.push_back(object.confidence);
    }
    return out;
  };
  EXPECT_NE(confidences(**served), confidences(**first)) << "the final fit changed nothing";
}

TEST_F(DetectorTest, BoxesOutsideTheImageAreRejectedNotTrainedOn) {
  DetectionTrainingSet bad = train_;
  bad.images[0].boxes[0].box.left = kWidth - 5.0f;  // runs 20+ px past the right edge
  bad.images[1].boxes[0].box.width = 0;
  DetectorOptions options = Options("bad");
  options.max_epochs = 1;
  auto report = TrainDetector(bad, nullptr, options, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->skipped.size(), 2u);
  for (const SkippedImage& skip : report->skipped) {
    EXPECT_EQ(skip.reason.code(), StatusCode::kInvalidArgument) << skip.reason.ToString();
  }

  DetectionTrainingSet all_bad = train_;
  all_bad.images.resize(2);
  for (auto& image : all_bad.images) image.boxes[0].box.top = -40;
  auto failed = TrainDetector(all_bad, nullptr, Options("all-bad"), nullptr);
  EXPECT_EQ(failed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "all-bad"));
}

TEST_F(DetectorTest, TrainsFromScratchWithoutTheBackbone) {
  SetEngineThreads(1);
  DetectorOptions options = Options("scratch");
  options.backbone_dir = dir_ / "no-backbone";
  options.input_size = 96;  // small, so that enough steps fit in a few seconds
  options.threads = 1;
  options.max_epochs = 30;
  struct Messages : TrainingObserver {
    void OnProgress(std::string_view, int, int) override {}
    void OnMessage(std::string_view message) override { text += std::string(message) + "\n"; }
    std::string text;
  } observer;
  auto report = TrainDetector(train_, nullptr, options, &observer);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->backbone_used);
  EXPECT_NE(observer.text.find("from scratch"), std::string::npos) << observer.text;
  std::string model = ReadFile(dir_ / "scratch" / "model.json");
  EXPECT_NE(model.find("\"backbone\": \"none\""), std::string::npos) << model;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "scratch" / "backbone.pt"));

  SetEngineThreads(1);
  auto predictor = DetectionPredictor::Load(dir_ / "scratch");
  ASSERT_TRUE(predictor.ok()) << predictor.status().ToString();
  auto eval = EvaluateDetector(**predictor, test_, nullptr);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_GT(eval->average_precision, 0.0) << "test mAP@0.5";
}

TEST_F(DetectorTest, StopRequestEndsTrainingWithCancelledAndNoModel) {
  SetEngineThreads(1);
  DetectorOptions options = Options("stopped");
  options.backbone_dir = dir_ / "no-backbone";
  options.input_size = 96;
  options.threads = 1;
  options.time_budget_seconds = 600;  // many epochs unless the request stops them
  struct StopAfterFirstEpoch : TrainingObserver {
    void OnProgress(std::string_view stage, int done, int) override {
      if (stage == "scratch" && done >= 1) epochs_seen = true;
    }
    void OnMessage(std::string_view) override {}
    bool StopRequested() override { return epochs_seen; }
    std::atomic<bool> epochs_seen{false};
  } observer;
  auto report = TrainDetector(train_, nullptr, options, &observer);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kCancelled) << report.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "stopped"));
}

TEST_F(DetectorTest, BinnedBoxFeaturesWithABackgroundClassTrainAndLoad) {
  SetEngineThreads(2);
  DetectorOptions options = Options("binned");
  options.max_epochs = 3;
  options.box_grid = 2;
  options.box_background = true;
  options.box_c3_grid = 2;
  auto report = TrainDetector(train_, nullptr, options, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::string model = ReadFile(dir_ / "binned" / "model.json");
  EXPECT_NE(model.find("\"grid\": 2"), std::string::npos) << model;
  EXPECT_NE(model.find("\"background\": true"), std::string::npos) << model;
  EXPECT_NE(model.find("\"c5\": false"), std::string::npos) << model;
  EXPECT_NE(model.find("\"c3_grid\": 2"), std::string::npos) << model;
  SetEngineThreads(1);
  auto predictor = DetectionPredictor::Load(dir_ / "binned");
  ASSERT_TRUE(predictor.ok()) << predictor.status().ToString();
  auto eval = EvaluateDetector(**predictor, test_, nullptr);
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  for (size_t idx = 0; idx < test_.images.size(); ++idx) {
    std::string bytes = ReadFile(test_.images[idx].path);
    auto objects = (*predictor)->Detect(bytes, {/*min_confidence=*/0.0f, /*max_results=*/0});
    ASSERT_TRUE(objects.ok());
    for (const DetectedObject& object : *objects) EXPECT_LT(object.label_index, 2) << "background is no label";
  }
}

// The box refiner is saved with the model and moves the head's boxes onto the objects; a model
// trained without it says so in model.json and still serves.
TEST_F(DetectorTest, BoxRefinerIsSavedAndImprovesTheBoxes) {
  SetEngineThreads(2);
  DetectorOptions with = Options("refined"), without = Options("unrefined");
  with.max_epochs = without.max_epochs = 3;  // a young head: its boxes leave room to refine
  with.final_fit = without.final_fit = DetectorOptions::FinalFit::kNone;
  without.box_refiner = false;
  ASSERT_TRUE(TrainDetector(train_, nullptr, with, nullptr).ok());
  ASSERT_TRUE(TrainDetector(train_, nullptr, without, nullptr).ok());
  auto model = [](const std::string& name) {
    return nlohmann::json::parse(ReadFile(dir_ / name / "model.json"));
  };
  EXPECT_EQ(model("refined")["version"], 6);
  EXPECT_EQ(model("refined")["refiner"]["weights"], "refiner.pt");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "refined" / "refiner.pt"));
  EXPECT_TRUE(model("unrefined")["refiner"].is_null());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "unrefined" / "refiner.pt"));

  // Mean over the test objects of the best IoU any detection reaches.
  SetEngineThreads(1);
  auto mean_best_iou = [&](const std::string& name) {
    auto predictor = DetectionPredictor::Load(dir_ / name);
    EXPECT_TRUE(predictor.ok()) << predictor.status().ToString();
    if (!predictor.ok()) return 0.0;
    double sum = 0;
    int count = 0;
    for (const DetectionImage& scene : test_.images) {
      auto objects = (*predictor)->Detect(ReadFile(scene.path), {/*min_confidence=*/0.01f, /*max_results=*/0});
      EXPECT_TRUE(objects.ok());
      for (const AnnotatedBox& truth : scene.boxes) {
        float best = 0;
        Box expected = Normalise(truth.box, kWidth, kHeight);
        if (objects.ok()) {
          for (const DetectedObject& object : *objects) best = std::max(best, IoU(object.box, expected));
        }
        sum += best;
        ++count;
      }
    }
    return sum / count;
  };
  double refined = mean_best_iou("refined"), unrefined = mean_best_iou("unrefined");
  EXPECT_GT(refined, unrefined) << "refined " << refined << ", unrefined " << unrefined;
}

// Version 3 folders (grid 1, no background) still load; older ones are refused with advice.
TEST_F(DetectorTest, ReadsVersion3FoldersAndRefusesOlderOnes) {
  DetectorOptions options = Options("v3");
  options.max_epochs = 1;
  options.box_grid = 1;
  options.box_background = false;
  options.box_c5 = true;  // version 3's classifier: c4 and c5 means
  options.box_c3_grid = 0;
  options.head_c5 = true;  // and its head reads c5
  options.box_refiner = false;  // nor had it a box refiner
  ASSERT_TRUE(TrainDetector(train_, nullptr, options, nullptr).ok());
  std::filesystem::path file = dir_ / "v3" / "model.json";
  {
    // Folders written before the c5-free head do not say whether the head reads c5: it does.
    std::string text = ReadFile(file);
    size_t head = text.find("\"head\": {");
    ASSERT_NE(head, std::string::npos) << text;
    size_t key = text.find("\"c5\": true,", head);
    ASSERT_NE(key, std::string::npos) << text;
    ASSERT_LT(key, text.find('}', head)) << text;
    text.erase(key, std::string("\"c5\": true,").size());
    std::ofstream(file) << text;
  }
  auto rewrite_version = [&](const std::string& from, const std::string& to) {
    std::string text = ReadFile(file);
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, from.size(), to);
    std::ofstream(file) << text;
  };
  rewrite_version("\"version\": 6", "\"version\": 3");
  EXPECT_TRUE(DetectionPredictor::Load(dir_ / "v3").ok());
  rewrite_version("\"version\": 3", "\"version\": 2");
  auto old = DetectionPredictor::Load(dir_ / "v3");
  EXPECT_EQ(old.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(old.status().message().find("Train the model again"), std::string::npos) << old.status().ToString();
}

TEST_F(DetectorTest, MissingModelAndWrongFolder) {
  EXPECT_EQ(DetectionPredictor::Load(dir_ / "nothing").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(IsDetectorArtifact(dir_ / "nothing"));
  auto exists = TrainDetector(train_, nullptr, Options("."), nullptr);  // dir_ itself exists
  EXPECT_EQ(exists.status().code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace osprey::engine

#include "engine/evaluation.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace osprey::engine {
namespace {

TEST(EvaluationTest, BestThresholdSeparatesPerfectly) {
  LabelMetrics metrics = BestThreshold({0.9f, 0.8f, 0.3f, 0.1f}, {true, true, false, false});
  EXPECT_DOUBLE_EQ(metrics.f1, 1.0);
  EXPECT_FLOAT_EQ(static_cast<float>(metrics.threshold), 0.8f);
  EXPECT_EQ(metrics.num_testing_images, 2);
}

TEST(EvaluationTest, BestThresholdHandCase) {
  // Scores 0.9(+) 0.7(-) 0.6(+) 0.2(+). Thresholds: 0.9 -> P1 R1/3 F1 0.5;
  // 0.7 -> P1/2 R1/3 F1 0.4; 0.6 -> P2/3 R2/3 F1 2/3; 0.2 -> P3/4 R1 F1 6/7.
  LabelMetrics metrics = BestThreshold({0.9f, 0.7f, 0.6f, 0.2f}, {true, false, true, true});
  EXPECT_NEAR(metrics.f1, 6.0 / 7.0, 1e-12);
  EXPECT_NEAR(metrics.precision, 0.75, 1e-12);
  EXPECT_NEAR(metrics.recall, 1.0, 1e-12);
  EXPECT_FLOAT_EQ(static_cast<float>(metrics.threshold), 0.2f);
}

TEST(EvaluationTest, TiesGoToTheHigherThreshold) {
  // 0.9(+) 0.8(-) 0.7(-) 0.6(+): t=0.9 gives P1 R1/2, F1 2/3; t=0.6 gives P1/2 R1, F1 2/3.
  LabelMetrics metrics = BestThreshold({0.9f, 0.8f, 0.7f, 0.6f}, {true, false, false, true});
  EXPECT_NEAR(metrics.f1, 2.0 / 3.0, 1e-12);
  EXPECT_FLOAT_EQ(static_cast<float>(metrics.threshold), 0.9f);
}

TEST(EvaluationTest, NoPositivesGivesZero) {
  LabelMetrics metrics = BestThreshold({0.9f, 0.1f}, {false, false});
  EXPECT_EQ(metrics.f1, 0.0);
  EXPECT_EQ(metrics.num_testing_images, 0);
}

TEST(EvaluationTest, SingleLabelAggregatesAndConfusion) {
  std::vector<ScoredExample> examples = {
      {{0}, {0.8f, 0.2f}}, {{0}, {0.6f, 0.4f}}, {{0}, {0.3f, 0.7f}}, {{1}, {0.1f, 0.9f}}};
  EvaluationResult result = Evaluate({"cat", "dog"}, /*multi_label=*/false, examples);
  EXPECT_EQ(result.num_testing_images, 4);
  EXPECT_DOUBLE_EQ(result.accuracy, 0.75);
  // Arg-max: cat P1 R2/3 F1 0.8; dog P1/2 R1 F1 2/3.
  EXPECT_NEAR(result.macro_f1_at_default, (0.8 + 2.0 / 3.0) / 2, 1e-12);
  ASSERT_EQ(result.confusion.size(), 2u);
  EXPECT_NEAR(result.confusion[0][0], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(result.confusion[0][1], 1.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(result.confusion[1][1], 1.0);
  // Assumed thresholds: cat scores 0.8 0.6 0.3 (+) vs 0.1 (-): threshold 0.3, F1 1.
  EXPECT_DOUBLE_EQ(result.per_label[0].f1, 1.0);
  EXPECT_FLOAT_EQ(static_cast<float>(result.per_label[0].threshold), 0.3f);
  // dog scores 0.9(+) 0.7 0.4 0.2 (-): threshold 0.9, F1 1.
  EXPECT_DOUBLE_EQ(result.per_label[1].f1, 1.0);
  EXPECT_DOUBLE_EQ(result.f1, 1.0);
}

TEST(EvaluationTest, MultiLabelUsesIndependentThresholds) {
  std::vector<ScoredExample> examples = {
      {{0, 1}, {0.9f, 0.6f, 0.1f}}, {{1}, {0.2f, 0.7f, 0.3f}}, {{2}, {0.4f, 0.1f, 0.35f}}};
  EvaluationResult result = Evaluate({"a", "b", "c"}, /*multi_label=*/true, examples);
  EXPECT_TRUE(result.confusion.empty());
  EXPECT_DOUBLE_EQ(result.per_label[0].f1, 1.0);
  EXPECT_FLOAT_EQ(static_cast<float>(result.per_label[0].threshold), 0.9f);
  EXPECT_FLOAT_EQ(static_cast<float>(result.per_label[1].threshold), 0.6f);
  EXPECT_FLOAT_EQ(static_cast<float>(result.per_label[2].threshold), 0.35f);
  // At 0.5 per label: a, b right everywhere; c never predicted -> F1 0. Exact match 2/3.
  EXPECT_NEAR(result.macro_f1_at_default, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(result.accuracy, 2.0 / 3.0, 1e-12);
}

TEST(EvaluationTest, JsonHasTheAwsSummaryShape) {
  std::vector<ScoredExample> examples = {{{0}, {0.8f, 0.2f}}, {{1}, {0.4f, 0.6f}}, {{1}, {0.3f, 0.7f}}};
  EvaluationResult result = Evaluate({"CAP", "WATCH"}, false, examples);
  EvaluationContext context{"arn:aws:rekognition:us-east-1:1:project/p/version/v/1", "2024-01-01T00:00:00.000000", 10};
  auto json = nlohmann::json::parse(EvaluationSummaryJson(result, context));
  EXPECT_EQ(json["Version"], 1);
  EXPECT_EQ(json["EvaluationDetails"]["Labels"], nlohmann::json({"CAP", "WATCH"}));
  EXPECT_EQ(json["EvaluationDetails"]["NumberOfTrainingImages"], 10);
  EXPECT_EQ(json["EvaluationDetails"]["NumberOfTestingImages"], 3);
  EXPECT_TRUE(json["AggregatedEvaluationResults"]["F1Score"].is_number());
  EXPECT_FALSE(json["AggregatedEvaluationResults"].contains("Metrics"));
  EXPECT_EQ(json["AggregatedEvaluationResults"]["ConfusionMatrix"].size(), 4u);
  EXPECT_EQ(json["AggregatedEvaluationResults"]["ConfusionMatrix"][0]["GroundTruthLabel"], "CAP");
  ASSERT_EQ(json["LabelEvaluationResults"].size(), 2u);
  const auto& first = json["LabelEvaluationResults"][0];
  for (const char* key : {"F1Score", "Precision", "Recall", "Threshold"}) {
    EXPECT_TRUE(first["Metrics"].contains(key)) << key;
  }
  EXPECT_GE(first["Metrics"]["F1Score"].get<double>(),
            json["LabelEvaluationResults"][1]["Metrics"]["F1Score"].get<double>());
}

}  // namespace
}  // namespace osprey::engine

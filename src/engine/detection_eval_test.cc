#include "engine/detection_eval.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace osprey::engine {
namespace {

const std::vector<std::string> kLabels = {"cat", "dog"};

TEST(DetectionEvalTest, PerfectDetectionsScoreOne) {
  std::vector<DetectionExample> examples = {
      {{{0, {0, 0, 10, 10}}, {1, {20, 20, 10, 10}}},
       {{0, 0.9f, {0, 0, 10, 10}}, {1, 0.8f, {21, 20, 10, 10}}}},
      {{{1, {5, 5, 20, 20}}}, {{1, 0.7f, {5, 5, 20, 20}}}}};
  DetectionEvaluation eval = EvaluateDetections(kLabels, examples);
  EXPECT_DOUBLE_EQ(eval.average_precision, 1.0);
  EXPECT_DOUBLE_EQ(eval.average_recall, 1.0);
  EXPECT_DOUBLE_EQ(eval.result.f1, 1.0);
  EXPECT_EQ(eval.result.per_label[0].num_testing_images, 1);
  EXPECT_EQ(eval.result.per_label[1].num_testing_images, 2);
  EXPECT_EQ(eval.boxes_per_label[1], 2);
  EXPECT_FLOAT_EQ(static_cast<float>(eval.result.per_label[1].threshold), 0.7f);
}

TEST(DetectionEvalTest, WrongLabelOrLowIoUIsAFalsePositive) {
  std::vector<DetectionExample> examples = {
      {{{0, {0, 0, 10, 10}}},
       {{1, 0.9f, {0, 0, 10, 10}},      // right place, wrong label
        {0, 0.8f, {6, 0, 10, 10}}}}};  // right label, IoU 4/16 = 0.25
  DetectionEvaluation eval = EvaluateDetections(kLabels, examples);
  EXPECT_DOUBLE_EQ(eval.average_precision_per_label[0], 0.0);
  EXPECT_DOUBLE_EQ(eval.recall_per_label[0], 0.0);
  // dog has no ground truth: it does not count in the aggregates.
  EXPECT_DOUBLE_EQ(eval.average_precision, 0.0);
  EXPECT_EQ(eval.boxes_per_label[1], 0);
}

TEST(DetectionEvalTest, DuplicateDetectionMatchesOnlyOnce) {
  // Two boxes on one object: the more confident is a TP, the other a FP.
  std::vector<DetectionExample> examples = {
      {{{0, {0, 0, 10, 10}}}, {{0, 0.9f, {0, 0, 10, 10}}, {0, 0.8f, {0, 1, 10, 10}}}}};
  DetectionEvaluation eval = EvaluateDetections(kLabels, examples);
  EXPECT_DOUBLE_EQ(eval.average_precision_per_label[0], 1.0);  // recall 1 at precision 1
  const LabelMetrics& cat = eval.result.per_label[0];
  EXPECT_DOUBLE_EQ(cat.precision, 1.0);
  EXPECT_FLOAT_EQ(static_cast<float>(cat.threshold), 0.9f);
}

TEST(DetectionEvalTest, AveragePrecisionOfAMixedRanking) {
  // Three cat boxes; ranked predictions TP, FP, TP, (one box missed).
  // Precision/recall: (1, 1/3), (1/2, 1/3), (2/3, 2/3). Interpolated AP = 1/3*1 + 1/3*2/3 = 5/9.
  std::vector<DetectionExample> examples = {
      {{{0, {0, 0, 10, 10}}, {0, {50, 0, 10, 10}}, {0, {0, 50, 10, 10}}},
       {{0, 0.9f, {0, 0, 10, 10}}, {0, 0.8f, {80, 80, 10, 10}}, {0, 0.7f, {50, 0, 10, 10}}}}};
  DetectionEvaluation eval = EvaluateDetections(kLabels, examples);
  EXPECT_NEAR(eval.average_precision_per_label[0], 5.0 / 9.0, 1e-9);
  EXPECT_NEAR(eval.recall_per_label[0], 2.0 / 3.0, 1e-9);
  // Best F1: at 0.9 it is 2*(1*1/3)/(4/3) = 0.5; at 0.7 it is 2/3.
  const LabelMetrics& cat = eval.result.per_label[0];
  EXPECT_NEAR(cat.f1, 2.0 / 3.0, 1e-9);
  EXPECT_FLOAT_EQ(static_cast<float>(cat.threshold), 0.7f);
}

TEST(DetectionEvalTest, MatchesOnlyWithinTheSameImage) {
  std::vector<DetectionExample> examples = {{{{0, {0, 0, 10, 10}}}, {}},
                                            {{}, {{0, 0.9f, {0, 0, 10, 10}}}}};
  DetectionEvaluation eval = EvaluateDetections(kLabels, examples);
  EXPECT_DOUBLE_EQ(eval.average_precision, 0.0);
  EXPECT_DOUBLE_EQ(eval.result.per_label[0].f1, 0.0);
}

TEST(DetectionEvalTest, SummaryJsonHasDetectionFields) {
  std::vector<DetectionExample> examples = {
      {{{0, {0, 0, 10, 10}}, {1, {20, 20, 10, 10}}}, {{0, 0.9f, {0, 0, 10, 10}}}}};
  DetectionEvaluation eval = EvaluateDetections(kLabels, examples);
  EvaluationContext context;
  context.project_version_arn = "arn:aws:rekognition:us-east-1:1:project/p/version/v/1";
  nlohmann::json summary = nlohmann::json::parse(DetectionEvaluationSummaryJson(eval, context));
  const auto& aggregated = summary.at("AggregatedEvaluationResults");
  EXPECT_DOUBLE_EQ(aggregated.at("AveragePrecision").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(aggregated.at("AverageRecall").get<double>(), 0.5);
  EXPECT_FALSE(aggregated.contains("ConfusionMatrix"));
  EXPECT_EQ(summary.at("LabelEvaluationResults").size(), 2u);
  EXPECT_EQ(summary.at("LabelEvaluationResults")[0].at("Label"), "cat");  // sorted by F1
  EXPECT_EQ(summary.at("EvaluationDetails").at("NumberOfTestingImages"), 1);
}

}  // namespace
}  // namespace osprey::engine

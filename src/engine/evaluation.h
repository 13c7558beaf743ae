// Evaluation of a classifier on a labelled test set, computed the way Rekognition Custom
// Labels reports it (rekognition-api.md §11.5): per-label precision, recall and F1 at an
// "assumed threshold" (the confidence that maximises that label's F1 on the test set),
// macro-averaged aggregates, and a row-normalised confusion matrix for single-label models.
// Plain C++ (no LibTorch); all functions are pure and thread-safe.
#pragma once

#include <string>
#include <vector>

namespace osprey::engine {

// One test image: the indices of its true labels and the model's confidence (0..1) per label.
struct ScoredExample {
  std::vector<int> truth;
  std::vector<float> scores;
};

struct LabelMetrics {
  std::string label;
  int num_testing_images = 0;  // images whose ground truth has this label
  double f1 = 0, precision = 0, recall = 0;
  double threshold = 0.5;  // the assumed threshold
};

struct EvaluationResult {
  std::vector<std::string> labels;
  bool multi_label = false;
  int num_testing_images = 0;
  // In label order (the JSON writer sorts by F1 as AWS does).
  std::vector<LabelMetrics> per_label;
  // Rekognition's aggregates: the mean over labels with test images, at assumed thresholds.
  double f1 = 0, precision = 0, recall = 0;
  // Honest figures that do not tune anything on the test set: top-1 accuracy and macro-F1 of the
  // arg-max prediction (single-label), or of `score >= 0.5` per label (multi-label).
  double accuracy = 0;
  double macro_f1_at_default = 0;
  // confusion[truth][predicted]: the share of images of `truth` whose arg-max is `predicted`.
  // Empty for multi-label models.
  std::vector<std::vector<double>> confusion;
};

// REQUIRES: every example has labels.size() scores and truth indices < labels.size().
EvaluationResult Evaluate(const std::vector<std::string>& labels, bool multi_label,
                          const std::vector<ScoredExample>& examples);

// The label's F1-maximising threshold over `scores` (ties go to the higher threshold, which
// makes fewer false positives). Exposed for tests and for choosing thresholds on validation.
LabelMetrics BestThreshold(const std::vector<float>& scores, const std::vector<bool>& positive);

// Fields of EvaluationDetails that the evaluation itself does not know.
struct EvaluationContext {
  std::string project_version_arn;
  std::string evaluation_end_timestamp;  // e.g. "2019-11-21T07:30:23.910943"
  int number_of_training_images = 0;
};

// The EvaluationResultSummary JSON document (Version 1), pretty-printed when indent >= 0.
std::string EvaluationSummaryJson(const EvaluationResult& result, const EvaluationContext& context,
                                  int indent = 2);

}  // namespace osprey::engine

#include "engine/evaluation.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

namespace osprey::engine {
namespace {

struct Counts {
  int tp = 0, fp = 0, fn = 0;
};

void FillRates(const Counts& counts, LabelMetrics* metrics) {
  metrics->precision = counts.tp + counts.fp > 0 ? double(counts.tp) / (counts.tp + counts.fp) : 0;
  metrics->recall = counts.tp + counts.fn > 0 ? double(counts.tp) / (counts.tp + counts.fn) : 0;
  double sum = metrics->precision + metrics->recall;
  metrics->f1 = sum > 0 ? 2 * metrics->precision * metrics->recall / sum : 0;
}

int ArgMax(const std::vector<float>& scores) {
  return static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

bool Contains(const std::vector<int>& values, int value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

LabelMetrics BestThreshold(const std::vector<float>& scores, const std::vector<bool>& positive) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  // Highest score first: lowering the threshold past each distinct score admits a group.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  int total_positive = static_cast<int>(std::count(positive.begin(), positive.end(), true));
  LabelMetrics best;
  best.num_testing_images = total_positive;
  best.threshold = order.empty() ? 0.5 : std::min(1.0, double(scores[order[0]]) + 1e-6);
  FillRates(Counts{0, 0, total_positive}, &best);
  Counts counts{0, 0, total_positive};
  for (size_t pos = 0; pos < order.size();) {
    float threshold = scores[order[pos]];
    for (; pos < order.size() && scores[order[pos]] == threshold; ++pos) {
      if (positive[order[pos]]) {
        ++counts.tp;
        --counts.fn;
      } else {
        ++counts.fp;
      }
    }
    LabelMetrics candidate = best;
    FillRates(counts, &candidate);
    if (candidate.f1 > best.f1) {
      best = candidate;
      best.threshold = threshold;
    }
  }
  return best;
}

EvaluationResult Evaluate(const std::vector<std::string>& labels, bool multi_label,
                          const std::vector<ScoredExample>& examples) {
  EvaluationResult result;
  result.labels = labels;
  result.multi_label = multi_label;
  result.num_testing_images = static_cast<int>(examples.size());
  size_t num_labels = labels.size();
  int labels_with_images = 0;
  double default_f1_sum = 0;
  for (size_t label_idx = 0; label_idx < num_labels; ++label_idx) {
    std::vector<float> scores;
    std::vector<bool> positive;
    Counts at_default;
    for (const ScoredExample& example : examples) {
      bool is_positive = Contains(example.truth, static_cast<int>(label_idx));
      scores.push_back(example.scores[label_idx]);
      positive.push_back(is_positive);
      bool predicted = multi_label ? example.scores[label_idx] >= 0.5f
                                   : ArgMax(example.scores) == static_cast<int>(label_idx);
      at_default.tp += predicted && is_positive;
      at_default.fp += predicted && !is_positive;
      at_default.fn += !predicted && is_positive;
    }
    LabelMetrics metrics = BestThreshold(scores, positive);
    metrics.label = labels[label_idx];
    if (metrics.num_testing_images > 0) {
      ++labels_with_images;
      result.f1 += metrics.f1;
      result.precision += metrics.precision;
      result.recall += metrics.recall;
      LabelMetrics default_metrics;
      FillRates(at_default, &default_metrics);
      default_f1_sum += default_metrics.f1;
    }
    result.per_label.push_back(metrics);
  }
  if (labels_with_images > 0) {
    result.f1 /= labels_with_images;
    result.precision /= labels_with_images;
    result.recall /= labels_with_images;
    result.macro_f1_at_default = default_f1_sum / labels_with_images;
  }
  int correct = 0;
  if (!multi_label) {
    result.confusion.assign(num_labels, std::vector<double>(num_labels, 0.0));
    std::vector<int> row_totals(num_labels, 0);
    for (const ScoredExample& example : examples) {
      if (example.truth.empty()) continue;
      int predicted = ArgMax(example.scores);
      correct += predicted == example.truth[0];
      result.confusion[example.truth[0]][predicted] += 1;
      ++row_totals[example.truth[0]];
    }
    for (size_t row = 0; row < num_labels; ++row) {
      for (double& cell : result.confusion[row]) cell /= std::max(1, row_totals[row]);
    }
  } else {
    for (const ScoredExample& example : examples) {
      bool exact = true;
      for (size_t label_idx = 0; label_idx < num_labels; ++label_idx) {
        bool predicted = example.scores[label_idx] >= 0.5f;
        exact = exact && predicted == Contains(example.truth, static_cast<int>(label_idx));
      }
      correct += exact;
    }
  }
  result.accuracy = examples.empty() ? 0 : double(correct) / examples.size();
  return result;
}

std::string EvaluationSummaryJson(const EvaluationResult& result, const EvaluationContext& context,
                                  int indent) {
  using nlohmann::json;
  json details = {{"ProjectVersionArn", context.project_version_arn},
                  {"EvaluationEndTimestamp", context.evaluation_end_timestamp},
                  {"Labels", result.labels},
                  {"NumberOfTrainingImages", context.number_of_training_images},
                  {"NumberOfTestingImages", result.num_testing_images}};
  // Aggregates sit directly under AggregatedEvaluationResults, as in AWS's example and real
  // files (rekognition-api.md §11.5, "Structure conflict").
  json aggregated = {{"F1Score", result.f1}, {"Precision", result.precision},
                     {"Recall", result.recall}};
  if (!result.multi_label) {
    json matrix = json::array();
    for (size_t truth = 0; truth < result.confusion.size(); ++truth) {
      for (size_t predicted = 0; predicted < result.confusion[truth].size(); ++predicted) {
        matrix.push_back({{"GroundTruthLabel", result.labels[truth]},
                          {"PredictedLabel", result.labels[predicted]},
                          {"Value", result.confusion[truth][predicted]}});
      }
    }
    aggregated["ConfusionMatrix"] = matrix;
  }
  std::vector<LabelMetrics> sorted = result.per_label;
  // "LabelEvaluationResults is sorted by each label's F1 score" (§11.5): highest first.
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const LabelMetrics& a, const LabelMetrics& b) { return a.f1 > b.f1; });
  json per_label = json::array();
  for (const LabelMetrics& metrics : sorted) {
    per_label.push_back({{"Label", metrics.label},
                         {"NumberOfTestingImages", metrics.num_testing_images},
                         {"Metrics",
                          {{"F1Score", metrics.f1},
                           {"Precision", metrics.precision},
                           {"Recall", metrics.recall},
                           {"Threshold", metrics.threshold}}}});
  }
  json summary = {{"Version", 1},
                  {"EvaluationDetails", details},
                  {"AggregatedEvaluationResults", aggregated},
                  {"LabelEvaluationResults", per_label}};
  return summary.dump(indent);
}

}  // namespace osprey::engine

#include "engine/detection_eval.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace osprey::engine {
namespace {

// One prediction of a label, after matching: its confidence and whether it hit a box.
struct Scored {
  float confidence;
  bool true_positive;
};

// Greedy matching for one label, most confident prediction first across all images (VOC/COCO):
// each prediction takes the unmatched ground-truth box of its image with the highest IoU.
std::vector<Scored> MatchLabel(int label, const std::vector<DetectionExample>& examples,
                               float iou_threshold) {
  struct Ref {
    size_t image;
    const Detection* detection;
  };
  std::vector<Ref> refs;
  for (size_t image_idx = 0; image_idx < examples.size(); ++image_idx) {
    for (const Detection& detection : examples[image_idx].predictions) {
      if (detection.label == label) refs.push_back({image_idx, &detection});
    }
  }
  std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
    return a.detection->confidence > b.detection->confidence;
  });
  std::vector<std::vector<bool>> used(examples.size());
  for (size_t image_idx = 0; image_idx < examples.size(); ++image_idx) {
    used[image_idx].assign(examples[image_idx].truth.size(), false);
  }
  std::vector<Scored> scored;
  for (const Ref& ref : refs) {
    const auto& truth = examples[ref.image].truth;
    int best = -1;
    float best_iou = iou_threshold;
    for (size_t truth_idx = 0; truth_idx < truth.size(); ++truth_idx) {
      if (truth[truth_idx].label != label || used[ref.image][truth_idx]) continue;
      float iou = IoU(truth[truth_idx].box, ref.detection->box);
      if (iou >= best_iou) {
        best_iou = iou;
        best = static_cast<int>(truth_idx);
      }
    }
    if (best >= 0) used[ref.image][best] = true;
    scored.push_back({ref.detection->confidence, best >= 0});
  }
  return scored;
}

// All-point interpolated area under the precision/recall curve.
double AveragePrecision(const std::vector<Scored>& scored, int num_truth) {
  if (num_truth == 0) return 0;
  std::vector<double> precision, recall;
  int tp = 0;
  for (size_t idx = 0; idx < scored.size(); ++idx) {
    tp += scored[idx].true_positive ? 1 : 0;
    precision.push_back(static_cast<double>(tp) / static_cast<double>(idx + 1));
    recall.push_back(static_cast<double>(tp) / num_truth);
  }
  for (size_t idx = precision.size(); idx-- > 1;) {
    precision[idx - 1] = std::max(precision[idx - 1], precision[idx]);
  }
  double ap = 0, previous_recall = 0;
  for (size_t idx = 0; idx < precision.size(); ++idx) {
    ap += (recall[idx] - previous_recall) * precision[idx];
    previous_recall = recall[idx];
  }
  return ap;
}

// P/R/F1 at the F1-maximising confidence. A cut-off may only fall between distinct confidences;
// ties between equally good cut-offs go to the higher threshold (fewer false positives).
LabelMetrics AssumedThreshold(const std::vector<Scored>& scored, int num_truth) {
  LabelMetrics best;
  best.threshold = scored.empty() ? 0.5 : scored.front().confidence;
  int tp = 0;
  for (size_t idx = 0; idx < scored.size(); ++idx) {
    tp += scored[idx].true_positive ? 1 : 0;
    bool last_of_tie = idx + 1 == scored.size() || scored[idx + 1].confidence < scored[idx].confidence;
    if (!last_of_tie) continue;
    double precision = static_cast<double>(tp) / static_cast<double>(idx + 1);
    double recall = num_truth > 0 ? static_cast<double>(tp) / num_truth : 0;
    double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    if (f1 > best.f1) {
      best.f1 = f1;
      best.precision = precision;
      best.recall = recall;
      best.threshold = scored[idx].confidence;
    }
  }
  return best;
}

}  // namespace

DetectionEvaluation EvaluateDetections(const std::vector<std::string>& labels,
                                       const std::vector<DetectionExample>& examples,
                                       float iou_threshold) {
  DetectionEvaluation evaluation;
  EvaluationResult& result = evaluation.result;
  result.labels = labels;
  result.multi_label = true;
  result.num_testing_images = static_cast<int>(examples.size());
  int labels_with_truth = 0;
  for (int label = 0; label < static_cast<int>(labels.size()); ++label) {
    int num_truth = 0, num_images = 0;
    for (const DetectionExample& example : examples) {
      int in_image = static_cast<int>(std::count_if(
          example.truth.begin(), example.truth.end(),
          [&](const GroundTruthBox& truth) { return truth.label == label; }));
      num_truth += in_image;
      num_images += in_image > 0 ? 1 : 0;
    }
    std::vector<Scored> scored = MatchLabel(label, examples, iou_threshold);
    LabelMetrics metrics = AssumedThreshold(scored, num_truth);
    metrics.label = labels[label];
    metrics.num_testing_images = num_images;
    int tp = static_cast<int>(std::count_if(scored.begin(), scored.end(),
                                            [](const Scored& s) { return s.true_positive; }));
    double ap = AveragePrecision(scored, num_truth);
    double recall = num_truth > 0 ? static_cast<double>(tp) / num_truth : 0;
    result.per_label.push_back(metrics);
    evaluation.average_precision_per_label.push_back(ap);
    evaluation.recall_per_label.push_back(recall);
    evaluation.boxes_per_label.push_back(num_truth);
    if (num_truth == 0) continue;
    ++labels_with_truth;
    result.f1 += metrics.f1;
    result.precision += metrics.precision;
    result.recall += metrics.recall;
    evaluation.average_precision += ap;
    evaluation.average_recall += recall;
  }
  if (labels_with_truth > 0) {
    double n = labels_with_truth;
    result.f1 /= n;
    result.precision /= n;
    result.recall /= n;
    evaluation.average_precision /= n;
    evaluation.average_recall /= n;
  }
  result.macro_f1_at_default = result.f1;
  return evaluation;
}

std::string DetectionEvaluationSummaryJson(const DetectionEvaluation& evaluation,
                                           const EvaluationContext& context, int indent) {
  // Reuse part 1's document (multi_label leaves out the confusion matrix), then add the two
  // detection-only aggregates (rekognition-api.md §11.5).
  nlohmann::json summary =
      nlohmann::json::parse(EvaluationSummaryJson(evaluation.result, context, /*indent=*/-1));
  auto& aggregated = summary["AggregatedEvaluationResults"];
  aggregated["AveragePrecision"] = evaluation.average_precision;
  aggregated["AverageRecall"] = evaluation.average_recall;
  return summary.dump(indent);
}

}  // namespace osprey::engine

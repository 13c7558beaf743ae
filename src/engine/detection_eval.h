// Evaluation of an object detector the way Rekognition Custom Labels reports it
// (rekognition-api.md §11.5): a prediction is a true positive when it overlaps an unmatched
// ground-truth box of the same label with IoU >= 0.5 (the conventional, undocumented value).
// Per label: precision, recall and F1 at the assumed threshold (the confidence that maximises
// that label's F1), average precision at IoU 0.5 (all-point interpolated, as in PASCAL VOC
// 2010+), and the recall reached by all predictions. Aggregates are means over the labels that
// have test boxes. Plain C++ (no LibTorch); all functions are pure and thread-safe.
#pragma once

#include <string>
#include <vector>

#include "engine/box_math.h"
#include "engine/evaluation.h"

namespace osprey::engine {

struct GroundTruthBox {
  int label = 0;
  Box box;  // any unit, the same as the predictions of the same image
};

// One test image: its ground truth and the model's detections (already NMS-ed, any order).
struct DetectionExample {
  std::vector<GroundTruthBox> truth;
  std::vector<Detection> predictions;
};

struct DetectionEvaluation {
  // labels, per-label P/R/F1/threshold (num_testing_images counts images with that label's
  // boxes), aggregate P/R/F1; multi_label is true and confusion is empty.
  EvaluationResult result;
  std::vector<double> average_precision_per_label;  // in label order
  std::vector<double> recall_per_label;             // at the lowest confidence, in label order
  std::vector<int> boxes_per_label;                 // ground-truth boxes, in label order
  double average_precision = 0;  // mAP@0.5 over labels with test boxes
  double average_recall = 0;     // mean of recall_per_label over labels with test boxes
};

// REQUIRES: every label index < labels.size().
DetectionEvaluation EvaluateDetections(const std::vector<std::string>& labels,
                                       const std::vector<DetectionExample>& examples,
                                       float iou_threshold = 0.5f);

// The EvaluationResultSummary JSON (Version 1) of a detector: part 1's document plus
// AveragePrecision and AverageRecall under AggregatedEvaluationResults, without ConfusionMatrix.
std::string DetectionEvaluationSummaryJson(const DetectionEvaluation& evaluation,
                                           const EvaluationContext& context, int indent = 2);

}  // namespace osprey::engine

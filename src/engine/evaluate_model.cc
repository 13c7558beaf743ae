// Scores a labelled set with a Predictor. No LibTorch here: only the Predictor interface.
#include <algorithm>

#include "common/file.h"
#include "engine/classifier.h"

namespace osprey::engine {

Result<std::vector<Prediction>> Predictor::Predict(std::string_view image_bytes) {
  OSPREY_ASSIGN_OR_RETURN(std::vector<float> scores, Scores(image_bytes));
  std::vector<Prediction> predictions;
  for (size_t label_idx = 0; label_idx < scores.size(); ++label_idx) {
    predictions.push_back({labels_[label_idx], scores[label_idx]});
  }
  std::stable_sort(predictions.begin(), predictions.end(),
                   [](const Prediction& a, const Prediction& b) { return a.confidence > b.confidence; });
  return predictions;
}

Result<EvaluationResult> EvaluateModel(Predictor& predictor, const TrainingSet& test,
                                       std::vector<SkippedImage>* skipped) {
  // Map the test set's label ids onto the model's by name.
  std::vector<int> to_model;
  for (const std::string& label : test.labels) {
    auto it = std::find(predictor.labels().begin(), predictor.labels().end(), label);
    if (it == predictor.labels().end()) {
      return Status::InvalidArgument("the model has no label '" + label + "'");
    }
    to_model.push_back(static_cast<int>(it - predictor.labels().begin()));
  }
  std::vector<ScoredExample> examples;
  for (const LabelledImage& image : test.images) {
    Result<std::string> bytes = ReadWholeFile(image.path);
    if (!bytes.ok()) {
      skipped->push_back({image.source_ref, bytes.status()});
      continue;
    }
    auto scores = predictor.Scores(*bytes);
    if (!scores.ok()) {
      skipped->push_back({image.source_ref, scores.status()});
      continue;
    }
    ScoredExample example;
    example.scores = std::move(scores).value();
    for (int label : image.labels) example.truth.push_back(to_model.at(label));
    examples.push_back(std::move(example));
  }
  return Evaluate(predictor.labels(), predictor.multi_label(), examples);
}

}  // namespace osprey::engine

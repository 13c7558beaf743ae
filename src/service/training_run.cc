#include "service/training_run.h"

#include <ctime>

#include "dataset/manifest_import.h"
#include "engine/detector.h"

namespace osprey::service {
namespace {

Status CheckLabels(const std::vector<std::string>& labels, bool object_detection) {
  std::optional<dataset::LineError> error =
      dataset::CheckTrainingLabels(labels.size(), object_detection, dataset::ManifestLimits{});
  if (!error) return Status::Ok();
  std::string need = object_detection ? "at least 1 label on a bounding box"
                                      : "at least 2 labels";
  return Status::InvalidArgument(error->code + ": the training data needs " + need + "; it has " +
                                 std::to_string(labels.size()) +
                                 ". Label more images, then create a new model version.");
}

Result<TrainedModel> Classify(const TrainingRunInputs& in, const storage::ObjectStore& objects,
                              const Clock& clock, engine::TrainingObserver* observer) {
  std::vector<std::string> labels = UsableLabels(in.train, false);
  OSPREY_RETURN_IF_ERROR(CheckLabels(labels, false));
  OSPREY_ASSIGN_OR_RETURN(engine::TrainingSet train, ToClassificationSet(in.train, objects, labels));
  OSPREY_ASSIGN_OR_RETURN(engine::TrainingSet test, ToClassificationSet(in.test, objects, labels));
  if (test.images.empty()) {
    return Status::InvalidArgument(
        "The testing data has no usable image with a label of the training data. Add images, "
        "or use AutoCreate with more images.");
  }
  engine::TrainingOptions options;
  options.output_dir = in.output_dir;
  options.backbone_dir = in.backbone_dir;
  options.seed = in.seed;
  if (in.time_budget_seconds > 0) options.time_budget_seconds = in.time_budget_seconds;
  OSPREY_ASSIGN_OR_RETURN(engine::TrainingReport report,
                          engine::TrainClassifier(train, nullptr, options, observer));
  OSPREY_ASSIGN_OR_RETURN(std::unique_ptr<engine::Predictor> predictor,
                          engine::Predictor::Load(in.output_dir));
  std::vector<engine::SkippedImage> skipped;
  OSPREY_ASSIGN_OR_RETURN(engine::EvaluationResult evaluation,
                          engine::EvaluateModel(*predictor, test, &skipped));
  engine::EvaluationContext context{in.version_arn, Iso8601Millis(clock.NowMillis()),
                                    report.num_training_images};
  return TrainedModel{"classification", evaluation.f1,
                      engine::EvaluationSummaryJson(evaluation, context)};
}

Result<TrainedModel> Detect(const TrainingRunInputs& in, const storage::ObjectStore& objects,
                            const Clock& clock, engine::TrainingObserver* observer) {
  std::vector<std::string> labels = UsableLabels(in.train, true);
  OSPREY_RETURN_IF_ERROR(CheckLabels(labels, true));
  OSPREY_ASSIGN_OR_RETURN(engine::DetectionTrainingSet train,
                          ToDetectionSet(in.train, objects, labels));
  OSPREY_ASSIGN_OR_RETURN(engine::DetectionTrainingSet test,
                          ToDetectionSet(in.test, objects, labels));
  if (test.images.empty()) {
    return Status::InvalidArgument(
        "The testing data has no usable image. Add images, or use AutoCreate with more images.");
  }
  engine::DetectorOptions options;
  options.output_dir = in.output_dir;
  options.backbone_dir = in.backbone_dir;
  options.seed = in.seed;
  if (in.time_budget_seconds > 0) options.time_budget_seconds = in.time_budget_seconds;
  // Without the pretrained backbone the engine trains from scratch and says so to `observer`.
  Result<engine::DetectorTrainingReport> report =
      engine::TrainDetector(train, nullptr, options, observer);
  OSPREY_RETURN_IF_ERROR(report.status());
  OSPREY_ASSIGN_OR_RETURN(std::unique_ptr<engine::DetectionPredictor> predictor,
                          engine::DetectionPredictor::Load(in.output_dir));
  std::vector<engine::SkippedImage> skipped;
  OSPREY_ASSIGN_OR_RETURN(engine::DetectionEvaluation evaluation,
                          engine::EvaluateDetector(*predictor, test, &skipped));
  engine::EvaluationContext context{in.version_arn, Iso8601Millis(clock.NowMillis()),
                                    report->num_training_images};
  return TrainedModel{"detection", evaluation.result.f1,
                      engine::DetectionEvaluationSummaryJson(evaluation, context)};
}

}  // namespace

Result<TrainedModel> RunTraining(const TrainingRunInputs& inputs,
                                 const storage::ObjectStore& objects, const Clock& clock,
                                 engine::TrainingObserver* observer) {
  return inputs.object_detection ? Detect(inputs, objects, clock, observer)
                                 : Classify(inputs, objects, clock, observer);
}

std::string Iso8601Millis(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf) + "." + std::to_string(1000 + ms % 1000).substr(1);
}

}  // namespace osprey::service

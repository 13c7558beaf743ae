#include "service/model_host.h"

#include <algorithm>

#include "engine/classifier.h"
#include "engine/detector.h"

namespace osprey::service {

// One loaded model: one predictor per slot (classifiers or detectors, by the artifact), each
// used by one thread at a time.
struct ModelHost::Model {
  std::vector<std::unique_ptr<engine::Predictor>> classifiers;
  std::vector<std::unique_ptr<engine::DetectionPredictor>> detectors;
  std::vector<bool> busy;
  std::mutex mu;
  std::condition_variable freed;
};

namespace {

// Every label with its confidence, and each label's assumed threshold, in 0..100.
Result<ModelHost::Scored> ScoreImage(engine::Predictor& predictor, std::string_view bytes) {
  OSPREY_ASSIGN_OR_RETURN(std::vector<float> scores, predictor.Scores(bytes));
  ModelHost::Scored out;
  const auto& names = predictor.labels();
  const auto& thresholds = predictor.thresholds();
  for (size_t label = 0; label < names.size() && label < scores.size(); ++label) {
    out.labels.push_back(CustomLabel{names[label], 100.0 * scores[label], std::nullopt});
    out.thresholds[names[label]] = label < thresholds.size() ? 100.0 * thresholds[label] : 50.0;
  }
  return out;
}

// The objects the detector finds (after NMS) at or above `min_confidence`, with their boxes.
Result<ModelHost::Scored> ScoreImage(engine::DetectionPredictor& predictor,
                                     std::string_view bytes, std::optional<double> min_confidence) {
  engine::DetectOptions options;
  // A hair below the caller's floor: the caller filters again in double precision.
  options.min_confidence =
      min_confidence ? std::max(0.0f, static_cast<float>(*min_confidence / 100.0) - 1e-6f) : -1.0f;
  OSPREY_ASSIGN_OR_RETURN(std::vector<engine::DetectedObject> objects,
                          predictor.Detect(bytes, options));
  ModelHost::Scored out;
  for (const auto& object : objects) {
    BoundingBox box{object.box.left, object.box.top, object.box.width, object.box.height};
    out.labels.push_back(CustomLabel{object.label, 100.0 * object.confidence, box});
  }
  const auto& names = predictor.labels();
  const auto& thresholds = predictor.thresholds();
  for (size_t label = 0; label < names.size(); ++label) {
    out.thresholds[names[label]] = label < thresholds.size() ? 100.0 * thresholds[label] : 50.0;
  }
  return out;
}

}  // namespace

ModelHost::ModelHost(int max_parallel) : max_parallel_(std::max(1, max_parallel)) {}
ModelHost::~ModelHost() = default;

Status ModelHost::Load(const std::string& version_arn, const std::filesystem::path& dir) {
  auto model = std::make_shared<Model>();
  const bool detector = engine::IsDetectorArtifact(dir);
  for (int slot = 0; slot < max_parallel_; ++slot) {
    if (detector) {
      OSPREY_ASSIGN_OR_RETURN(std::unique_ptr<engine::DetectionPredictor> predictor,
                              engine::DetectionPredictor::Load(dir));
      model->detectors.push_back(std::move(predictor));
    } else {
      OSPREY_ASSIGN_OR_RETURN(std::unique_ptr<engine::Predictor> predictor,
                              engine::Predictor::Load(dir));
      model->classifiers.push_back(std::move(predictor));
    }
    model->busy.push_back(false);
  }
  std::lock_guard lock(mu_);
  models_[version_arn] = std::move(model);
  return Status::Ok();
}

void ModelHost::Unload(const std::string& version_arn) {
  std::lock_guard lock(mu_);
  models_.erase(version_arn);  // in-flight calls keep their shared_ptr until they finish
}

bool ModelHost::IsLoaded(const std::string& version_arn) const {
  return Find(version_arn) != nullptr;
}

std::shared_ptr<ModelHost::Model> ModelHost::Find(const std::string& version_arn) const {
  std::lock_guard lock(mu_);
  auto it = models_.find(version_arn);
  return it == models_.end() ? nullptr : it->second;
}

Result<ModelHost::Scored> ModelHost::Score(const std::string& version_arn,
                                           std::string_view image_bytes,
                                           std::optional<double> min_confidence) {
  std::shared_ptr<Model> model = Find(version_arn);
  if (model == nullptr) return Status::NotReady("The model is not running.");
  size_t slot = 0;
  {
    std::unique_lock lock(model->mu);
    model->freed.wait(lock, [&] {
      return std::find(model->busy.begin(), model->busy.end(), false) != model->busy.end();
    });
    slot = static_cast<size_t>(std::find(model->busy.begin(), model->busy.end(), false) -
                               model->busy.begin());
    model->busy[slot] = true;
  }
  // One intra-op thread per request: parallelism comes from the slots. (OpenMP keeps the
  // setting per calling thread, so a training elsewhere keeps its own.)
  engine::SetEngineThreads(1);
  Result<Scored> scored = model->detectors.empty()
                              ? ScoreImage(*model->classifiers[slot], image_bytes)
                              : ScoreImage(*model->detectors[slot], image_bytes, min_confidence);
  {
    std::lock_guard lock(model->mu);
    model->busy[slot] = false;
  }
  model->freed.notify_one();
  return scored;
}

}  // namespace osprey::service

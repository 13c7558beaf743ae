// ModelHost: the models currently RUNNING, loaded from their artifact folders, and the
// bounded pool that runs inference on them. Inference runs on at most `max_parallel` threads at
// once (one intra-op thread each) so concurrent DetectCustomLabels calls never oversubscribe the
// cores. Thread-safe.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "service/version_types.h"

namespace osprey::engine {
class Predictor;
}

namespace osprey::service {

class ModelHost {
 public:
  explicit ModelHost(int max_parallel);
  ~ModelHost();

  // Loads the artifact at `dir` for `version_arn` (one predictor per parallel slot).
  // Returns the engine's error (kNotFound / kInvalidArgument) if it cannot be loaded.
  Status Load(const std::string& version_arn, const std::filesystem::path& dir);
  void Unload(const std::string& version_arn);
  bool IsLoaded(const std::string& version_arn) const;

  // Scores an image with a loaded model: every label with its confidence (0..100) and, for
  // detection models, its box; plus each label's assumed threshold (0..100).
  struct Scored {
    std::vector<CustomLabel> labels;
    std::map<std::string, double> thresholds;
  };
  // `min_confidence` (0..100; nullopt = each label's assumed threshold) lets a detector drop
  // weak objects early; the caller still applies it. Classifiers score every label regardless.
  // Returns kNotReady if the model is not loaded, kInvalidImage / kImageTooLarge from decoding.
  Result<Scored> Score(const std::string& version_arn, std::string_view image_bytes,
                       std::optional<double> min_confidence = std::nullopt);

 private:
  struct Model;
  std::shared_ptr<Model> Find(const std::string& version_arn) const;

  const int max_parallel_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Model>> models_;  // GUARDED_BY(mu_)
};

}  // namespace osprey::service

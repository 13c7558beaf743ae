// ModelService: the model-version operations (CreateProjectVersion, DescribeProjectVersions,
// Start/Stop/DeleteProjectVersion, DetectCustomLabels) and their background work: training on
// a bounded pool, model loading, and recovery after a restart.
// Thread-safe. The stores, host and clock must outlive it; the destructor stops a running
// training at its next epoch and fails queued ones (TRAINING_FAILED, "interrupted because the
// server stopped"), then waits for background work to finish.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>

#include "common/clock.h"
#include "metadata/metadata_store.h"
#include "metadata/version_store.h"
#include "service/model_host.h"
#include "service/task_pool.h"
#include "service/types.h"
#include "service/version_types.h"
#include "storage/object_store.h"

namespace osprey::service {

struct ModelServiceOptions {
  std::string account_id = "000000000000";
  std::filesystem::path models_dir;      // artifacts: <models_dir>/<project>/<version>-<ms>/
  std::filesystem::path backbone_dir;    // pretrained backbone cache ("" = engine default)
  int max_concurrent_trainings = 1;      // more → LimitExceededException
  double training_time_budget_seconds = 0;  // 0: the engine's default per task (TrainingRunInputs)
  int inference_threads = 2;             // parallel DetectCustomLabels (one core each)
  size_t max_tags_per_resource = 200;
};

// Runs one training to its end state; implemented in training_job.cc.
class TrainingRunner;

class ModelService {
 public:
  ModelService(metadata::MetadataStore& metadata, metadata::VersionStore& versions,
               storage::ObjectStore& objects, const Clock& clock, ModelServiceOptions options);
  ~ModelService();

  // Persists the version (TRAINING_IN_PROGRESS) and queues its training, then returns its ARN.
  // kNotFound: project; kInUse: duplicate version name; kLimitExceeded: too many trainings;
  // kInvalidArgument: inconsistent data sources or a missing output bucket.
  Result<std::string> CreateProjectVersion(const RequestContext& ctx,
                                           const CreateProjectVersionRequest& request);
  Result<DescribeProjectVersionsResponse> DescribeProjectVersions(
      const RequestContext& ctx, const DescribeProjectVersionsRequest& request);
  // Returns the new status ("STARTING", "STOPPING", "DELETING"); kInUse from a wrong state.
  Result<std::string> StartProjectVersion(const StartProjectVersionRequest& request);
  Result<std::string> StopProjectVersion(const std::string& version_arn);
  Result<std::string> DeleteProjectVersion(const std::string& version_arn);
  // kNotFound: unknown version; kNotReady: not RUNNING; image errors from decoding.
  Result<DetectCustomLabelsResponse> DetectCustomLabels(const DetectCustomLabelsRequest& request);

  // Copies a trained model into another project (COPYING_IN_PROGRESS → COPYING_COMPLETED).
  // One account only, so project policies do not gate copies (docs/design/models.md).
  // kNotFound: projects or version; kInUse: duplicate name or a source that is not trained.
  Result<std::string> CopyProjectVersion(const RequestContext& ctx,
                                         const CopyProjectVersionRequest& request);
  // Project policies (rekognition-api.md §3.21-3.23). Returns the new revision id.
  Result<std::string> PutProjectPolicy(const PutProjectPolicyRequest& request);
  Result<ListProjectPoliciesResponse> ListProjectPolicies(const std::string& project_arn,
                                                          const std::string& next_token,
                                                          int max_results);
  Status DeleteProjectPolicy(const std::string& project_arn, const std::string& name,
                             const std::string& revision_id);

  // OK if a model version with this ARN exists, else kNotFound.
  Status CheckVersionExists(const std::string& version_arn) const {
    return versions_.GetVersionByArn(version_arn).status();
  }

  // After a restart: interrupted trainings → TRAINING_FAILED; RUNNING/STARTING models are
  // loaded again; STOPPING → STOPPED.
  Status Recover();

 private:
  void Train(metadata::VersionRecord version);
  // The StatusMessage of a training that the server's shutdown or restart interrupted.
  static const char kInterruptedTraining[];
  void LoadModel(metadata::VersionRecord version);

  metadata::MetadataStore& metadata_;
  metadata::VersionStore& versions_;
  storage::ObjectStore& objects_;
  const Clock& clock_;
  ModelServiceOptions options_;
  ModelHost host_;
  std::atomic<bool> stopping_{false};  // set by the destructor; trainings poll it
  // Declared last: destroyed first, so queued work finishes while the members above live.
  TaskPool lifecycle_pool_{1};
  std::unique_ptr<TaskPool> training_pool_;
};

}  // namespace osprey::service

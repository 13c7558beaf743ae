// RekognitionService: the Rekognition Custom Labels operations on plain structs. It owns the
// rules (uniqueness, state machines, limits) and talks to the stores through their interfaces.
// Thread-safe: operations may run concurrently; the stores serialise what must be serialised.
// Every method returns kInvalidArgument / kNotFound / kInUse / ... exactly as documented in
// rekognition-api.md §7; the API layer turns the code into the AWS error.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "metadata/metadata_store.h"
#include "service/dataset_types.h"
#include "service/types.h"
#include "storage/object_store.h"

namespace osprey::jobs {
class JobRunner;
}  // namespace osprey::jobs

namespace osprey::service {

class ModelService;

struct ServiceOptions {
  std::string account_id = "000000000000";  // the 12-digit account in every ARN
  size_t max_tags_per_resource = 200;       // AWS's limit
};

class RekognitionService {
 public:
  // The stores and the clock must outlive the service.
  RekognitionService(metadata::MetadataStore& metadata, storage::ObjectStore& objects,
                     const Clock& clock, ServiceOptions options);

  // Returns kAlreadyExists (ResourceInUseException on the wire) if the name is taken.
  Result<CreateProjectResponse> CreateProject(const RequestContext& ctx,
                                              const CreateProjectRequest& request);
  // Returns kInvalidPaginationToken for a token we did not issue.
  Result<DescribeProjectsResponse> DescribeProjects(const RequestContext& ctx,
                                                    const DescribeProjectsRequest& request);
  // Returns kNotFound for an unknown project, kInUse while it has datasets or versions.
  Result<DeleteProjectResponse> DeleteProject(const RequestContext& ctx,
                                              const DeleteProjectRequest& request);

  // Tags on projects, datasets and model versions. kNotFound if the resource does not exist,
  // kQuotaExceeded past 200 tags.
  Status TagResource(const RequestContext& ctx, const TagResourceRequest& request);
  Status UntagResource(const RequestContext& ctx, const UntagResourceRequest& request);
  Result<ListTagsForResourceResponse> ListTagsForResource(
      const RequestContext& ctx, const ListTagsForResourceRequest& request);

  // The model-version operations live in ModelService; null until wired (cli/server_app.cc).
  void set_models(ModelService* models) { models_ = models; }
  ModelService* models() const { return models_; }

  // ---- Datasets (service/datasets.cc, dataset_entries.cc, dataset_jobs.cc). ----
  // Creation, update and distribution run as background jobs on the runner given here (null:
  // they run inline before the call returns, which unit tests use).
  void set_jobs(jobs::JobRunner* jobs) { jobs_ = jobs; }
  // Returns kNotFound for an unknown project or source dataset, kAlreadyExists if the project
  // has a dataset of this type, kInvalidS3Object if the manifest object cannot be read,
  // kLimitExceeded if too many background operations wait.
  Result<CreateDatasetResponse> CreateDataset(const RequestContext& ctx,
                                              const CreateDatasetRequest& request);
  // kNotFound for an unknown dataset.
  Result<DescribeDatasetResponse> DescribeDataset(const RequestContext& ctx,
                                                  const DescribeDatasetRequest& request);
  // Puts the dataset in DELETE_IN_PROGRESS and deletes it (entries, tags) in a background job
  // (inline without a runner). kNotFound for an unknown dataset, kInUse while it is being
  // created or updated; a dataset already DELETE_IN_PROGRESS has its deletion queued again.
  Status DeleteDataset(const RequestContext& ctx, const DeleteDatasetRequest& request);
  // kNotReady while the dataset is being created, kInUse while it is being updated,
  // kInvalidPaginationToken for a token we did not issue.
  Result<ListDatasetEntriesResponse> ListDatasetEntries(const RequestContext& ctx,
                                                        const ListDatasetEntriesRequest& request);
  Result<ListDatasetLabelsResponse> ListDatasetLabels(const RequestContext& ctx,
                                                      const ListDatasetLabelsRequest& request);
  // Merges JSON Lines by source-ref in the background. kInUse while another operation runs.
  Status UpdateDatasetEntries(const RequestContext& ctx,
                              const UpdateDatasetEntriesRequest& request);
  // Moves a stratified 20 % of the TRAIN entries into the empty TEST dataset of the same
  // project. kInvalidArgument unless the two ARNs are that pair with an empty test dataset,
  // kNotReady unless both are in a *_COMPLETE state.
  Status DistributeDatasetEntries(const RequestContext& ctx,
                                  const DistributeDatasetEntriesRequest& request);
  // Start-up recovery: datasets left *_IN_PROGRESS by a crash become *_FAILED with a message,
  // and staged import rows are discarded. Call before serving requests.
  Status RecoverInterruptedDatasetOperations();

  metadata::MetadataStore& metadata() { return metadata_; }
  storage::ObjectStore& objects() { return objects_; }
  const Clock& clock() const { return clock_; }
  const ServiceOptions& options() const { return options_; }

 private:
  // Returns kNotFound unless `arn` names an existing project, version or dataset.
  Status CheckResourceExists(const std::string& arn) const;
  // Runs `work` as a background job (or inline without a runner); see dataset_jobs.cc.
  Status RunDatasetJob(const std::string& kind, const std::string& arn,
                       std::function<Status()> work);
  Status ImportIntoDataset(const metadata::DatasetRecord& dataset, bool creating,
                           const std::optional<ManifestObject>& manifest,
                           std::shared_ptr<const std::string> inline_lines);
  Status CopyIntoDataset(const metadata::DatasetRecord& dataset,
                         const metadata::DatasetRecord& source);
  Status DistributeEntries(const metadata::DatasetRecord& train,
                           const metadata::DatasetRecord& test);

  metadata::MetadataStore& metadata_;
  storage::ObjectStore& objects_;
  const Clock& clock_;
  ServiceOptions options_;
  jobs::JobRunner* jobs_ = nullptr;
  ModelService* models_ = nullptr;
};

}  // namespace osprey::service

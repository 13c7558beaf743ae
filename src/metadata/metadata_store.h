// MetadataStore: the durable record of projects, tags (and, as they land, datasets, versions and
// jobs). Everything a Describe* call answers comes from here. Every mutating call is one
// transaction that is durable when it returns. Implementations must be thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <functional>

#include "common/result.h"
#include "common/status.h"
#include "metadata/dataset_records.h"

namespace osprey::metadata {

struct ProjectRecord {
  int64_t id = 0;            // store-assigned; increases with creation order
  std::string name;
  std::string arn;
  int64_t creation_ms = 0;
  std::string status;        // "CREATING" | "CREATED" | "DELETING"
};

struct ProjectPage {
  std::vector<ProjectRecord> projects;
  std::optional<int64_t> next_after_id;  // set when more projects follow
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Inserts a project (id is assigned). Returns kAlreadyExists if the name is taken.
  virtual Result<ProjectRecord> InsertProject(const ProjectRecord& project) = 0;
  // Returns kNotFound if no project has this ARN.
  virtual Result<ProjectRecord> GetProjectByArn(const std::string& arn) const = 0;
  // Projects in creation order with id > after_id; `names` (if non-empty) filters by name.
  virtual Result<ProjectPage> ListProjects(int64_t after_id, size_t limit,
                                           const std::vector<std::string>& names) const = 0;
  // Deletes the project, its tags and policies. Returns kNotFound if absent, kInUse while the
  // project still has datasets or model versions.
  virtual Status DeleteProject(int64_t project_id) = 0;

  // Tags of any resource ARN. SetTags adds or overwrites; returns kQuotaExceeded if the resource
  // would end with more than `max_tags` tags (nothing is changed then).
  virtual Status SetTags(const std::string& resource_arn,
                         const std::map<std::string, std::string>& tags, size_t max_tags) = 0;
  virtual Status RemoveTags(const std::string& resource_arn,
                            const std::vector<std::string>& keys) = 0;
  virtual Result<std::map<std::string, std::string>> GetTags(
      const std::string& resource_arn) const = 0;

  // ---- Datasets (rekognition-api.md §3.4-3.10). Entries are deleted with their dataset. ----
  // Inserts a dataset (id is assigned). Returns kAlreadyExists if the project already has a
  // dataset of this type, kNotFound if the project does not exist.
  virtual Result<DatasetRecord> InsertDataset(const DatasetRecord& dataset) = 0;
  // Returns kNotFound if no dataset has this ARN.
  virtual Result<DatasetRecord> GetDatasetByArn(const std::string& arn) const = 0;
  // The project's datasets, TRAIN before TEST.
  virtual Result<std::vector<DatasetRecord>> ListProjectDatasets(int64_t project_id) const = 0;
  // The datasets of several projects in one query (DescribeProjects pages), grouped by
  // project_id, TRAIN before TEST within a project.
  virtual Result<std::vector<DatasetRecord>> ListDatasetsOfProjects(
      const std::vector<int64_t>& project_ids) const = 0;
  // Moves a dataset that is not *_IN_PROGRESS into `status` (an *_IN_PROGRESS state), atomically
  // with the check. Returns kNotFound if absent, kInUse if another operation is running.
  virtual Status BeginDatasetOperation(int64_t dataset_id, const std::string& status,
                                       int64_t now_ms) = 0;
  // Sets the status triple unconditionally (the end of an operation). kNotFound if absent.
  virtual Status SetDatasetStatus(int64_t dataset_id, const std::string& status,
                                  const std::string& message, const std::string& code,
                                  int64_t now_ms) = 0;
  // Deletes the dataset, its entries and its tags, in one transaction. kNotFound if absent,
  // kInUse while it is CREATE_/UPDATE_IN_PROGRESS. A DELETE_IN_PROGRESS dataset (the state
  // DeleteDataset puts it in until this runs) is deleted.
  virtual Status DeleteDataset(int64_t dataset_id) = 0;
  virtual Result<DatasetStatsRecord> GetDatasetStats(int64_t dataset_id) const = 0;

  // Staging: an import writes validated entries under `job_key` in batches, then commits them
  // into a dataset in one transaction, or discards them. Staged entries are invisible to readers.
  // StageEntries ignores a source_ref already staged under job_key and returns how many of
  // `entries` were ignored that way (duplicates).
  virtual Result<size_t> StageEntries(const std::string& job_key,
                                      const std::vector<EntryRecord>& entries) = 0;
  // Merges the staged entries into the dataset by source_ref (a match replaces the entry), sets
  // image_bucket if the dataset had none, and discards the staging rows. kNotFound if absent.
  virtual Status CommitStagedEntries(const std::string& job_key, int64_t dataset_id,
                                     const std::string& image_bucket) = 0;
  // Discards staged entries of one job, or of every job when job_key is "".
  virtual Status DiscardStagedEntries(const std::string& job_key) = 0;

  // Entries with id > after_id matching `filter`, in id order.
  virtual Result<EntryPage> ListEntries(int64_t dataset_id, const EntryFilter& filter,
                                        int64_t after_id, size_t limit) const = 0;
  // Per-label statistics, ordered by label name.
  virtual Result<std::vector<LabelStatsRecord>> ListLabelStats(int64_t dataset_id) const = 0;
  // Calls `visit` for every entry (labels filled in) in id order until it returns false.
  // REQUIRES: `visit` does not call back into the store (it runs under the store's lock).
  virtual Status ForEachEntry(int64_t dataset_id,
                              const std::function<bool(const EntryRecord&)>& visit) const = 0;
  // Copies every entry of `from` into `to` (merging by source_ref) and the image bucket.
  virtual Status CopyEntries(int64_t from_dataset_id, int64_t to_dataset_id) = 0;
  // Moves the entries `entry_ids` of `from` to `to` in one transaction.
  virtual Status MoveEntries(int64_t from_dataset_id, int64_t to_dataset_id,
                             const std::vector<int64_t>& entry_ids) = 0;
  // Recovery after a crash: every dataset left CREATE_/UPDATE_IN_PROGRESS goes to the matching
  // *_FAILED state with `message` and SERVICE_ERROR; DELETE_IN_PROGRESS ones are deleted (with
  // their entries and tags), which finishes the interrupted DeleteDataset.
  // Returns the datasets it failed.
  virtual Result<std::vector<DatasetRecord>> FailInProgressDatasets(const std::string& message,
                                                                    int64_t now_ms) = 0;

  // ---- Background jobs (jobs/job_runner.h). ----
  virtual Result<JobRecord> InsertJob(const JobRecord& job) = 0;
  // kNotFound if absent.
  virtual Status SetJobState(int64_t job_id, const std::string& state, const std::string& message,
                             int64_t now_ms) = 0;
  virtual Result<JobRecord> GetJob(int64_t job_id) const = 0;
  // Marks every QUEUED or RUNNING job FAILED with `message`; returns them as they were.
  virtual Result<std::vector<JobRecord>> FailUnfinishedJobs(const std::string& message,
                                                            int64_t now_ms) = 0;
};

}  // namespace osprey::metadata

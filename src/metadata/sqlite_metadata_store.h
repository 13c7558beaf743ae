// SqliteMetadataStore: MetadataStore on one SQLite file (WAL, synchronous=FULL, foreign keys,
// numbered migrations). Thread-safe: one connection, serialised by a mutex; SQLite calls are
// short, so the mutex is not a bottleneck at the request rates a single node sees.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "metadata/metadata_store.h"
#include "metadata/sqlite_db.h"

namespace osprey::metadata {

class SqliteMetadataStore : public MetadataStore {
 public:
  // Opens or creates the database at `path` and migrates it to the latest schema.
  static Result<std::unique_ptr<SqliteMetadataStore>> Open(const std::string& path);

  Result<ProjectRecord> InsertProject(const ProjectRecord& project) override;
  Result<ProjectRecord> GetProjectByArn(const std::string& arn) const override;
  Result<ProjectPage> ListProjects(int64_t after_id, size_t limit,
                                   const std::vector<std::string>& names) const override;
  Status DeleteProject(int64_t project_id) override;
  Status SetTags(const std::string& resource_arn, const std::map<std::string, std::string>& tags,
                 size_t max_tags) override;
  Status RemoveTags(const std::string& resource_arn, const std::vector<std::string>& keys) override;
  Result<std::map<std::string, std::string>> GetTags(const std::string& resource_arn) const override;

  // Datasets and entries: sqlite_dataset_store.cc.
  Result<DatasetRecord> InsertDataset(const DatasetRecord& dataset) override;
  Result<DatasetRecord> GetDatasetByArn(const std::string& arn) const override;
  Result<std::vector<DatasetRecord>> ListProjectDatasets(int64_t project_id) const override;
  Result<std::vector<DatasetRecord>> ListDatasetsOfProjects(
      const std::vector<int64_t>& project_ids) const override;
  Status BeginDatasetOperation(int64_t dataset_id, const std::string& status,
                               int64_t now_ms) override;
  Status SetDatasetStatus(int64_t dataset_id, const std::string& status,
                          const std::string& message, const std::string& code,
                          int64_t now_ms) override;
  Status DeleteDataset(int64_t dataset_id) override;
  Result<DatasetStatsRecord> GetDatasetStats(int64_t dataset_id) const override;
  Result<size_t> StageEntries(const std::string& job_key,
                              const std::vector<EntryRecord>& entries) override;
  Status CommitStagedEntries(const std::string& job_key, int64_t dataset_id,
                             const std::string& image_bucket) override;
  Status DiscardStagedEntries(const std::string& job_key) override;
  Result<EntryPage> ListEntries(int64_t dataset_id, const EntryFilter& filter, int64_t after_id,
                                size_t limit) const override;
  Result<std::vector<LabelStatsRecord>> ListLabelStats(int64_t dataset_id) const override;
  Status ForEachEntry(int64_t dataset_id,
                      const std::function<bool(const EntryRecord&)>& visit) const override;
  Status CopyEntries(int64_t from_dataset_id, int64_t to_dataset_id) override;
  Status MoveEntries(int64_t from_dataset_id, int64_t to_dataset_id,
                     const std::vector<int64_t>& entry_ids) override;
  Result<std::vector<DatasetRecord>> FailInProgressDatasets(const std::string& message,
                                                            int64_t now_ms) override;

  // Jobs: sqlite_job_store.cc.
  Result<JobRecord> InsertJob(const JobRecord& job) override;
  Status SetJobState(int64_t job_id, const std::string& state, const std::string& message,
                     int64_t now_ms) override;
  Result<JobRecord> GetJob(int64_t job_id) const override;
  Result<std::vector<JobRecord>> FailUnfinishedJobs(const std::string& message,
                                                    int64_t now_ms) override;

  // Runs PRAGMA integrity_check; returns kInternal unless it answers "ok".
  Status CheckIntegrity() const;

 private:
  explicit SqliteMetadataStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  // REQUIRES: mu_ held.
  Result<DatasetRecord> GetDatasetByIdLocked(int64_t dataset_id) const;
  Status InsertEntryLabelsLocked(int64_t entry_id, const std::vector<EntryLabel>& labels);

  mutable std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // GUARDED_BY(mu_)
};

}  // namespace osprey::metadata

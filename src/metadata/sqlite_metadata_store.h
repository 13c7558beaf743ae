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

  // Runs PRAGMA integrity_check; returns kInternal unless it answers "ok".
  Status CheckIntegrity() const;

 private:
  explicit SqliteMetadataStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  mutable std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // GUARDED_BY(mu_)
};

}  // namespace osprey::metadata

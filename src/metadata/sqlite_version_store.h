// SqliteVersionStore: VersionStore on the same SQLite file as SqliteMetadataStore, through its
// own connection (WAL lets both coexist; writes serialise in SQLite with a busy timeout).
// Thread-safe: the connection is serialised by a mutex.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "metadata/sqlite_db.h"
#include "metadata/version_store.h"

namespace osprey::metadata {

class SqliteVersionStore : public VersionStore {
 public:
  // Opens the database at `path`, migrating it if needed.
  static Result<std::unique_ptr<SqliteVersionStore>> Open(const std::string& path);

  Result<VersionRecord> InsertVersion(const VersionRecord& version) override;
  Result<VersionRecord> GetVersionByArn(const std::string& arn) const override;
  Result<VersionPage> ListVersions(int64_t project_id, int64_t before_id, size_t limit,
                                   const std::vector<std::string>& names) const override;
  Status UpdateVersion(const VersionRecord& version) override;
  Status TransitionVersion(int64_t version_id, const std::vector<std::string>& from,
                           const std::string& to, const std::string& message) override;
  Status DeleteVersion(int64_t version_id) override;
  Result<size_t> CountVersionsInStatus(const std::string& status) const override;
  Result<std::vector<VersionRecord>> ListVersionsInStatus(
      const std::vector<std::string>& statuses) const override;
  Status PutPolicy(const PolicyRecord& policy, const std::string& expected_revision) override;
  Result<std::vector<PolicyRecord>> ListPolicies(int64_t project_id) const override;
  Status DeletePolicy(int64_t project_id, const std::string& name,
                      const std::string& expected_revision) override;

 private:
  explicit SqliteVersionStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Result<std::vector<VersionRecord>> Query(const std::string& where,
                                           const std::function<void(Statement&)>& bind) const;

  mutable std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // GUARDED_BY(mu_)
};

}  // namespace osprey::metadata

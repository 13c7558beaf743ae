// SqliteVersionStore: project policies (migration 4).
#include <optional>

#include "metadata/sqlite_version_store.h"

namespace osprey::metadata {

Status SqliteVersionStore::PutPolicy(const PolicyRecord& policy,
                                     const std::string& expected_revision) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  std::optional<std::string> current;
  {
    Statement stmt(db_->handle(),
                   "SELECT revision_id FROM project_policies WHERE project_id = ? AND name = ?");
    stmt.Bind(1, policy.project_id);
    stmt.Bind(2, policy.name);
    if (stmt.Step()) current = stmt.Text(0);
    OSPREY_RETURN_IF_ERROR(stmt.status());
  }
  if (expected_revision.empty() && current) {
    return Status::AlreadyExists("A policy named " + policy.name + " already exists; give its "
                                 "PolicyRevisionId to replace it.");
  }
  if (!expected_revision.empty() && !current) {
    return Status::NotFound("The policy " + policy.name + " does not exist.");
  }
  if (current && *current != expected_revision) {
    return Status(StatusCode::kInvalidPolicyRevision,
                  "The policy revision id does not match the current revision.");
  }
  Statement stmt(db_->handle(),
                 "INSERT INTO project_policies (project_id, name, revision_id, document, "
                 "creation_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (project_id, name) DO UPDATE SET revision_id = excluded.revision_id, "
                 "document = excluded.document, updated_ms = excluded.updated_ms");
  stmt.Bind(1, policy.project_id);
  stmt.Bind(2, policy.name);
  stmt.Bind(3, policy.revision_id);
  stmt.Bind(4, policy.document);
  stmt.Bind(5, policy.creation_ms);
  stmt.Bind(6, policy.updated_ms);
  OSPREY_RETURN_IF_ERROR(stmt.Run());
  return txn.Commit();
}

Result<std::vector<PolicyRecord>> SqliteVersionStore::ListPolicies(int64_t project_id) const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 "SELECT project_id, name, revision_id, document, creation_ms, updated_ms "
                 "FROM project_policies WHERE project_id = ? ORDER BY name");
  stmt.Bind(1, project_id);
  std::vector<PolicyRecord> out;
  while (stmt.Step()) {
    out.push_back({stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Int(4), stmt.Int(5)});
  }
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return out;
}

Status SqliteVersionStore::DeletePolicy(int64_t project_id, const std::string& name,
                                        const std::string& expected_revision) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  {
    Statement stmt(db_->handle(),
                   "SELECT revision_id FROM project_policies WHERE project_id = ? AND name = ?");
    stmt.Bind(1, project_id);
    stmt.Bind(2, name);
    if (!stmt.Step()) {
      OSPREY_RETURN_IF_ERROR(stmt.status());
      return Status::NotFound("The policy " + name + " does not exist.");
    }
    if (!expected_revision.empty() && stmt.Text(0) != expected_revision) {
      return Status(StatusCode::kInvalidPolicyRevision,
                    "The policy revision id does not match the current revision.");
    }
  }
  Statement stmt(db_->handle(), "DELETE FROM project_policies WHERE project_id = ? AND name = ?");
  stmt.Bind(1, project_id);
  stmt.Bind(2, name);
  OSPREY_RETURN_IF_ERROR(stmt.Run());
  return txn.Commit();
}

}  // namespace osprey::metadata

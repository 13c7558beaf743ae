// SqliteMetadataStore: background job rows (schema: migration 2).
#include "metadata/sqlite_metadata_store.h"

namespace osprey::metadata {
namespace {

constexpr char kJobColumns[] = "id, kind, resource_arn, state, message, created_ms, updated_ms";

JobRecord ReadJob(const Statement& stmt) {
  return JobRecord{stmt.Int(0),  stmt.Text(1), stmt.Text(2), stmt.Text(3),
                   stmt.Text(4), stmt.Int(5),  stmt.Int(6)};
}

}  // namespace

Result<JobRecord> SqliteMetadataStore::InsertJob(const JobRecord& job) {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 "INSERT INTO jobs (kind, resource_arn, state, message, created_ms, updated_ms) "
                 "VALUES (?, ?, ?, ?, ?, ?)");
  stmt.Bind(1, job.kind).Bind(2, job.resource_arn).Bind(3, job.state).Bind(4, job.message);
  stmt.Bind(5, job.created_ms).Bind(6, job.updated_ms);
  OSPREY_RETURN_IF_ERROR(stmt.Run());
  JobRecord out = job;
  out.id = db_->LastInsertId();
  return out;
}

Status SqliteMetadataStore::SetJobState(int64_t job_id, const std::string& state,
                                        const std::string& message, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 "UPDATE jobs SET state = ?, message = ?, updated_ms = ? WHERE id = ?");
  stmt.Bind(1, state).Bind(2, message).Bind(3, now_ms).Bind(4, job_id);
  OSPREY_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return Status::NotFound("The job does not exist.");
  return Status::Ok();
}

Result<JobRecord> SqliteMetadataStore::GetJob(int64_t job_id) const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(), std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?");
  stmt.Bind(1, job_id);
  if (stmt.Step()) return ReadJob(stmt);
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return Status::NotFound("The job does not exist.");
}

Result<std::vector<JobRecord>> SqliteMetadataStore::FailUnfinishedJobs(const std::string& message,
                                                                       int64_t now_ms) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  std::vector<JobRecord> unfinished;
  {
    Statement stmt(db_->handle(), std::string("SELECT ") + kJobColumns +
                                      " FROM jobs WHERE state IN ('QUEUED', 'RUNNING') "
                                      "ORDER BY id");
    while (stmt.Step()) unfinished.push_back(ReadJob(stmt));
    OSPREY_RETURN_IF_ERROR(stmt.status());
  }
  Statement update(db_->handle(),
                   "UPDATE jobs SET state = 'FAILED', message = ?, updated_ms = ? "
                   "WHERE state IN ('QUEUED', 'RUNNING')");
  update.Bind(1, message).Bind(2, now_ms);
  OSPREY_RETURN_IF_ERROR(update.Run());
  OSPREY_RETURN_IF_ERROR(txn.Commit());
  return unfinished;
}

}  // namespace osprey::metadata

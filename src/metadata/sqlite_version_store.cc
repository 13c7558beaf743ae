#include "metadata/sqlite_version_store.h"

#include <functional>

#include "metadata/migrations.h"

namespace osprey::metadata {
namespace {

// Every column but id, in table order; the same list serves INSERT, UPDATE and SELECT.
constexpr const char* kColumns[] = {
    "project_id", "name", "arn", "creation_ms", "status", "status_message", "output_bucket",
    "output_prefix", "kms_key_id", "source_version_arn", "training_input",
    "training_dataset_arn", "testing_input", "testing_auto_create", "testing_dataset_arn",
    "training_output", "testing_output", "training_validation", "testing_validation",
    "manifest_summary", "evaluation_summary", "f1_score", "training_end_ms", "billable_seconds",
    "artifact_dir", "task", "min_inference_units", "max_inference_units"};
constexpr int kColumnCount = sizeof(kColumns) / sizeof(kColumns[0]);

std::string Loc(const S3Location& l) { return l.empty() ? "" : l.bucket + "/" + l.key; }
S3Location ParseLoc(const std::string& s) {
  size_t slash = s.find('/');
  if (s.empty() || slash == std::string::npos) return {};
  return {s.substr(0, slash), s.substr(slash + 1)};
}

// Binds every column of `v` starting at index 1.
void BindAll(Statement& stmt, const VersionRecord& v) {
  int i = 1;
  auto opt_int = [&](const std::optional<int64_t>& x) {
    if (x) stmt.Bind(i++, *x); else stmt.BindNull(i++);
  };
  stmt.Bind(i++, v.project_id);
  stmt.Bind(i++, v.name);
  stmt.Bind(i++, v.arn);
  stmt.Bind(i++, v.creation_ms);
  for (const std::string& text :
       {v.status, v.status_message, v.output_bucket, v.output_prefix, v.kms_key_id,
        v.source_version_arn, Loc(v.training_input), v.training_dataset_arn,
        Loc(v.testing_input)}) {
    stmt.Bind(i++, text);
  }
  stmt.Bind(i++, static_cast<int64_t>(v.testing_auto_create));
  for (const std::string& text :
       {v.testing_dataset_arn, Loc(v.training_output), Loc(v.testing_output),
        Loc(v.training_validation), Loc(v.testing_validation), Loc(v.manifest_summary),
        Loc(v.evaluation_summary)}) {
    stmt.Bind(i++, text);
  }
  if (v.f1_score) {
    stmt.Bind(i++, *v.f1_score);
  } else {
    stmt.BindNull(i++);
  }
  opt_int(v.training_end_ms);
  opt_int(v.billable_seconds);
  stmt.Bind(i++, v.artifact_dir);
  stmt.Bind(i++, v.task);
  opt_int(v.min_inference_units);
  opt_int(v.max_inference_units);
}

// Reads a row selected as "id, <kColumns...>".
VersionRecord ReadRow(const Statement& s) {
  VersionRecord v;
  int i = 0;
  auto opt_int = [&](int c) -> std::optional<int64_t> {
    if (s.IsNull(c)) return std::nullopt;
    return s.Int(c);
  };
  v.id = s.Int(i++);
  v.project_id = s.Int(i++);
  v.name = s.Text(i++);
  v.arn = s.Text(i++);
  v.creation_ms = s.Int(i++);
  v.status = s.Text(i++);
  v.status_message = s.Text(i++);
  v.output_bucket = s.Text(i++);
  v.output_prefix = s.Text(i++);
  v.kms_key_id = s.Text(i++);
  v.source_version_arn = s.Text(i++);
  v.training_input = ParseLoc(s.Text(i++));
  v.training_dataset_arn = s.Text(i++);
  v.testing_input = ParseLoc(s.Text(i++));
  v.testing_auto_create = s.Int(i++) != 0;
  v.testing_dataset_arn = s.Text(i++);
  v.training_output = ParseLoc(s.Text(i++));
  v.testing_output = ParseLoc(s.Text(i++));
  v.training_validation = ParseLoc(s.Text(i++));
  v.testing_validation = ParseLoc(s.Text(i++));
  v.manifest_summary = ParseLoc(s.Text(i++));
  v.evaluation_summary = ParseLoc(s.Text(i++));
  if (!s.IsNull(i)) v.f1_score = s.Double(i);
  ++i;
  v.training_end_ms = opt_int(i++);
  v.billable_seconds = opt_int(i++);
  v.artifact_dir = s.Text(i++);
  v.task = s.Text(i++);
  v.min_inference_units = opt_int(i++);
  v.max_inference_units = opt_int(i++);
  return v;
}

std::string ColumnList() {
  std::string out;
  for (int c = 0; c < kColumnCount; ++c) out += std::string(c ? ", " : "") + kColumns[c];
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteVersionStore>> SqliteVersionStore::Open(const std::string& path) {
  OSPREY_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  OSPREY_RETURN_IF_ERROR(Migrate(*db));
  return std::unique_ptr<SqliteVersionStore>(new SqliteVersionStore(std::move(db)));
}

Result<VersionRecord> SqliteVersionStore::InsertVersion(const VersionRecord& version) {
  std::lock_guard lock(mu_);
  std::string placeholders;
  for (int c = 0; c < kColumnCount; ++c) placeholders += c ? ", ?" : "?";
  Statement stmt(db_->handle(),
                 "INSERT INTO project_versions (" + ColumnList() + ") VALUES (" + placeholders + ")");
  BindAll(stmt, version);
  Status s = stmt.Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("A model version named " + version.name +
                                 " already exists in this project.");
  }
  if (s.code() == StatusCode::kInUse) return Status::NotFound("The project does not exist.");
  OSPREY_RETURN_IF_ERROR(s);
  VersionRecord out = version;
  out.id = db_->LastInsertId();
  return out;
}

Result<std::vector<VersionRecord>> SqliteVersionStore::Query(
    const std::string& where, const std::function<void(Statement&)>& bind) const {
  Statement stmt(db_->handle(), "SELECT id, " + ColumnList() + " FROM project_versions " + where);
  bind(stmt);
  std::vector<VersionRecord> out;
  while (stmt.Step()) out.push_back(ReadRow(stmt));
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return out;
}

Result<VersionRecord> SqliteVersionStore::GetVersionByArn(const std::string& arn) const {
  std::lock_guard lock(mu_);
  OSPREY_ASSIGN_OR_RETURN(auto rows, Query("WHERE arn = ?", [&](Statement& s) { s.Bind(1, arn); }));
  if (rows.empty()) return Status::NotFound("The model version " + arn + " does not exist.");
  return rows.front();
}

Result<VersionPage> SqliteVersionStore::ListVersions(int64_t project_id, int64_t before_id,
                                                     size_t limit,
                                                     const std::vector<std::string>& names) const {
  std::lock_guard lock(mu_);
  std::string where = "WHERE project_id = ? AND id < ?";
  if (!names.empty()) {
    where += " AND name IN (";
    for (size_t i = 0; i < names.size(); ++i) where += i ? ", ?" : "?";
    where += ")";
  }
  where += " ORDER BY id DESC LIMIT ?";
  OSPREY_ASSIGN_OR_RETURN(auto rows, Query(where, [&](Statement& s) {
    int i = 1;
    s.Bind(i++, project_id);
    s.Bind(i++, before_id <= 0 ? INT64_MAX : before_id);
    for (const auto& n : names) s.Bind(i++, n);
    s.Bind(i, static_cast<int64_t>(limit + 1));
  }));
  VersionPage page;
  page.versions = std::move(rows);
  if (page.versions.size() > limit) {
    page.versions.pop_back();
    page.next_after_id = page.versions.back().id;
  }
  return page;
}

Status SqliteVersionStore::UpdateVersion(const VersionRecord& version) {
  std::lock_guard lock(mu_);
  std::string sets;
  for (int c = 0; c < kColumnCount; ++c) sets += std::string(c ? ", " : "") + kColumns[c] + " = ?";
  Statement stmt(db_->handle(), "UPDATE project_versions SET " + sets + " WHERE id = ?");
  BindAll(stmt, version);
  stmt.Bind(kColumnCount + 1, version.id);
  OSPREY_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return Status::NotFound("The model version does not exist.");
  return Status::Ok();
}

Status SqliteVersionStore::TransitionVersion(int64_t version_id,
                                             const std::vector<std::string>& from,
                                             const std::string& to, const std::string& message) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  std::string current;
  {
    Statement stmt(db_->handle(), "SELECT status FROM project_versions WHERE id = ?");
    stmt.Bind(1, version_id);
    if (!stmt.Step()) {
      OSPREY_RETURN_IF_ERROR(stmt.status());
      return Status::NotFound("The model version does not exist.");
    }
    current = stmt.Text(0);
  }
  bool allowed = false;
  for (const auto& f : from) allowed = allowed || f == current;
  if (!allowed) return Status::InUse("The model version is " + current + ".");
  Statement stmt(db_->handle(),
                 "UPDATE project_versions SET status = ?, status_message = ? WHERE id = ?");
  stmt.Bind(1, to).Bind(2, message).Bind(3, version_id);
  OSPREY_RETURN_IF_ERROR(stmt.Run());
  return txn.Commit();
}

Status SqliteVersionStore::DeleteVersion(int64_t version_id) {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(), "DELETE FROM project_versions WHERE id = ?");
  stmt.Bind(1, version_id);
  OSPREY_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return Status::NotFound("The model version does not exist.");
  return Status::Ok();
}

Result<size_t> SqliteVersionStore::CountVersionsInStatus(const std::string& status) const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(), "SELECT COUNT(*) FROM project_versions WHERE status = ?");
  stmt.Bind(1, status);
  size_t count = stmt.Step() ? static_cast<size_t>(stmt.Int(0)) : 0;
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return count;
}

Result<std::vector<VersionRecord>> SqliteVersionStore::ListVersionsInStatus(
    const std::vector<std::string>& statuses) const {
  std::lock_guard lock(mu_);
  std::string where = "WHERE status IN (";
  for (size_t i = 0; i < statuses.size(); ++i) where += i ? ", ?" : "?";
  where += ") ORDER BY id";
  return Query(where, [&](Statement& s) {
    for (size_t i = 0; i < statuses.size(); ++i) s.Bind(static_cast<int>(i + 1), statuses[i]);
  });
}

}  // namespace osprey::metadata

#include "metadata/sqlite_metadata_store.h"

#include "metadata/migrations.h"

namespace osprey::metadata {
namespace {

constexpr char kProjectColumns[] = "id, name, arn, creation_ms, status";

ProjectRecord ReadProject(const Statement& stmt) {
  return ProjectRecord{stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Int(3), stmt.Text(4)};
}

}  // namespace

Result<std::unique_ptr<SqliteMetadataStore>> SqliteMetadataStore::Open(const std::string& path) {
  OSPREY_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  OSPREY_RETURN_IF_ERROR(Migrate(*db));
  return std::unique_ptr<SqliteMetadataStore>(new SqliteMetadataStore(std::move(db)));
}

Result<ProjectRecord> SqliteMetadataStore::InsertProject(const ProjectRecord& project) {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 "INSERT INTO projects (name, arn, creation_ms, status) VALUES (?, ?, ?, ?)");
  stmt.Bind(1, project.name).Bind(2, project.arn).Bind(3, project.creation_ms).Bind(4, project.status);
  Status s = stmt.Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("A project named " + project.name + " already exists.");
  }
  OSPREY_RETURN_IF_ERROR(s);
  ProjectRecord out = project;
  out.id = db_->LastInsertId();
  return out;
}

Result<ProjectRecord> SqliteMetadataStore::GetProjectByArn(const std::string& arn) const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(),
                 std::string("SELECT ") + kProjectColumns + " FROM projects WHERE arn = ?");
  stmt.Bind(1, arn);
  if (stmt.Step()) return ReadProject(stmt);
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return Status::NotFound("The project " + arn + " does not exist.");
}

Result<ProjectPage> SqliteMetadataStore::ListProjects(int64_t after_id, size_t limit,
                                                      const std::vector<std::string>& names) const {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kProjectColumns + " FROM projects WHERE id > ?";
  if (!names.empty()) {
    sql += " AND name IN (";
    for (size_t i = 0; i < names.size(); ++i) sql += i == 0 ? "?" : ", ?";
    sql += ")";
  }
  sql += " ORDER BY id LIMIT ?";
  Statement stmt(db_->handle(), sql);
  int index = 1;
  stmt.Bind(index++, after_id);
  for (const auto& name : names) stmt.Bind(index++, name);
  stmt.Bind(index, static_cast<int64_t>(limit + 1));
  ProjectPage page;
  while (stmt.Step()) page.projects.push_back(ReadProject(stmt));
  OSPREY_RETURN_IF_ERROR(stmt.status());
  if (page.projects.size() > limit) {
    page.projects.pop_back();
    page.next_after_id = page.projects.back().id;
  }
  return page;
}

Status SqliteMetadataStore::DeleteProject(int64_t project_id) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  std::string arn;
  {
    Statement stmt(db_->handle(), "SELECT arn FROM projects WHERE id = ?");
    stmt.Bind(1, project_id);
    if (!stmt.Step()) {
      OSPREY_RETURN_IF_ERROR(stmt.status());
      return Status::NotFound("The project does not exist.");
    }
    arn = stmt.Text(0);
  }
  {
    Statement stmt(db_->handle(), "DELETE FROM projects WHERE id = ?");
    stmt.Bind(1, project_id);
    Status s = stmt.Run();
    // Datasets and versions reference projects with ON DELETE RESTRICT.
    if (s.code() == StatusCode::kInUse) {
      return Status::InUse(
          "The project still has datasets or model versions; delete them first.");
    }
    OSPREY_RETURN_IF_ERROR(s);
  }
  {
    // The project's own tags and those of resources below it.
    Statement stmt(db_->handle(),
                   "DELETE FROM tags WHERE resource_arn = ? OR resource_arn LIKE ? ESCAPE '\\'");
    std::string like;
    for (char c : arn + "/") {
      if (c == '%' || c == '_' || c == '\\') like += '\\';
      like += c;
    }
    stmt.Bind(1, arn).Bind(2, like + "%");
    OSPREY_RETURN_IF_ERROR(stmt.Run());
  }
  return txn.Commit();
}

Status SqliteMetadataStore::SetTags(const std::string& resource_arn,
                                    const std::map<std::string, std::string>& tags,
                                    size_t max_tags) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  for (const auto& [key, value] : tags) {
    Statement stmt(db_->handle(),
                   "INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?) "
                   "ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value");
    stmt.Bind(1, resource_arn).Bind(2, key).Bind(3, value);
    OSPREY_RETURN_IF_ERROR(stmt.Run());
  }
  Statement count(db_->handle(), "SELECT COUNT(*) FROM tags WHERE resource_arn = ?");
  count.Bind(1, resource_arn);
  if (count.Step() && static_cast<size_t>(count.Int(0)) > max_tags) {
    return Status::QuotaExceeded("A resource can have at most " + std::to_string(max_tags) +
                                 " tags.");  // the transaction rolls back
  }
  OSPREY_RETURN_IF_ERROR(count.status());
  return txn.Commit();
}

Status SqliteMetadataStore::RemoveTags(const std::string& resource_arn,
                                       const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  OSPREY_RETURN_IF_ERROR(txn.status());
  for (const auto& key : keys) {
    Statement stmt(db_->handle(), "DELETE FROM tags WHERE resource_arn = ? AND key = ?");
    stmt.Bind(1, resource_arn).Bind(2, key);
    OSPREY_RETURN_IF_ERROR(stmt.Run());
  }
  return txn.Commit();
}

Result<std::map<std::string, std::string>> SqliteMetadataStore::GetTags(
    const std::string& resource_arn) const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(), "SELECT key, value FROM tags WHERE resource_arn = ?");
  stmt.Bind(1, resource_arn);
  std::map<std::string, std::string> tags;
  while (stmt.Step()) tags[stmt.Text(0)] = stmt.Text(1);
  OSPREY_RETURN_IF_ERROR(stmt.status());
  return tags;
}

Status SqliteMetadataStore::CheckIntegrity() const {
  std::lock_guard lock(mu_);
  Statement stmt(db_->handle(), "PRAGMA integrity_check");
  std::string answer = stmt.Step() ? stmt.Text(0) : "";
  OSPREY_RETURN_IF_ERROR(stmt.status());
  if (answer != "ok") return Status::Internal("integrity_check: " + answer);
  return Status::Ok();
}

}  // namespace osprey::metadata

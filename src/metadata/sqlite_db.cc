#include "metadata/sqlite_db.h"

#include <memory>

namespace osprey::metadata {

Status SqliteStatus(sqlite3* db, int rc, std::string_view context) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  std::string message = std::string(context) + ": " + sqlite3_errmsg(db);
  if ((rc & 0xFF) == SQLITE_CONSTRAINT) {
    int extended = sqlite3_extended_errcode(db);
    if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Status::AlreadyExists(message);
    }
    if (extended == SQLITE_CONSTRAINT_FOREIGNKEY) return Status::InUse(message);
    // ON DELETE RESTRICT is enforced by an internal trigger, so it reports
    // SQLITE_CONSTRAINT_TRIGGER with SQLite's fixed foreign-key message.
    if (extended == SQLITE_CONSTRAINT_TRIGGER &&
        message.find("FOREIGN KEY constraint failed") != std::string::npos) {
      return Status::InUse(message);
    }
  }
  return Status::Internal(message);
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  status_ = SqliteStatus(db, rc, "prepare");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, int64_t value) {
  if (status_.ok()) status_ = SqliteStatus(db_, sqlite3_bind_int64(stmt_, index, value), "bind");
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  if (status_.ok()) {
    status_ = SqliteStatus(db_,
                           sqlite3_bind_text(stmt_, index, value.data(),
                                             static_cast<int>(value.size()), SQLITE_TRANSIENT),
                           "bind");
  }
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  if (status_.ok()) status_ = SqliteStatus(db_, sqlite3_bind_double(stmt_, index, value), "bind");
  return *this;
}

Statement& Statement::BindNull(int index) {
  if (status_.ok()) status_ = SqliteStatus(db_, sqlite3_bind_null(stmt_, index), "bind");
  return *this;
}

bool Statement::Step() {
  if (!status_.ok()) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  status_ = SqliteStatus(db_, rc, "step");
  return false;
}

Status Statement::Run() {
  while (Step()) {
  }
  return status_;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (stmt_ != nullptr) status_ = Status::Ok();
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "open " + path);
  sqlite3_busy_timeout(raw, 5000);
  // WAL for concurrent readers; FULL so a committed transaction survives power loss.
  OSPREY_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  OSPREY_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=FULL"));
  OSPREY_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Status SqliteDb::Exec(std::string_view sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown";
    sqlite3_free(error);
    return SqliteStatus(db_, rc, "exec: " + message);
  }
  return Status::Ok();
}

Transaction::Transaction(SqliteDb& db) : db_(db) { status_ = db_.Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_ && status_.ok()) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Commit() {
  OSPREY_RETURN_IF_ERROR(status_);
  done_ = true;
  return db_.Exec("COMMIT");
}

}  // namespace osprey::metadata

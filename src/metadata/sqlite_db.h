// Thin RAII wrappers over the sqlite3 C API, internal to metadata/. SQLite errors stop here and
// become Status values (kInternal, or kAlreadyExists for constraint violations).
// SqliteDb is not thread-safe by itself; SqliteMetadataStore serialises access with a mutex.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace osprey::metadata {

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, double value);
  Statement& BindNull(int index);
  // Returns true while a row is available, false when done; errors land in status().
  bool Step();
  // Runs to completion; returns the first error.
  Status Run();
  // Makes the statement ready to bind and run again (bindings cleared, status reset).
  void Reset();
  const Status& status() const { return status_; }

  int64_t Int(int column) const;
  std::string Text(int column) const;
  double Double(int column) const;
  bool IsNull(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

class SqliteDb {
 public:
  // Opens (creating if needed) the database file with WAL, synchronous=FULL and foreign keys.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();

  Status Exec(std::string_view sql);
  sqlite3* handle() { return db_; }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Maps a SQLite result code to a Status.
Status SqliteStatus(sqlite3* db, int rc, std::string_view context);

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(SqliteDb& db);
  ~Transaction();
  const Status& status() const { return status_; }
  Status Commit();

 private:
  SqliteDb& db_;
  Status status_;
  bool done_ = false;
};

}  // namespace osprey::metadata

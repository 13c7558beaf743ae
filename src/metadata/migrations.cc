#include "metadata/migrations.h"

#include <string>

namespace osprey::metadata {

const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> kMigrations = {
      // 1: projects and tags.
      R"sql(
        CREATE TABLE projects (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          name        TEXT NOT NULL UNIQUE,
          arn         TEXT NOT NULL UNIQUE,
          creation_ms INTEGER NOT NULL,
          status      TEXT NOT NULL
        );
        CREATE TABLE tags (
          resource_arn TEXT NOT NULL,
          key          TEXT NOT NULL,
          value        TEXT NOT NULL,
          PRIMARY KEY (resource_arn, key)
        );
      )sql",
  };
  return kMigrations;
}

Status Migrate(SqliteDb& db) {
  int64_t version = 0;
  {
    Statement stmt(db.handle(), "PRAGMA user_version");
    if (stmt.Step()) version = stmt.Int(0);
    OSPREY_RETURN_IF_ERROR(stmt.status());
  }
  const auto& migrations = Migrations();
  if (version > static_cast<int64_t>(migrations.size())) {
    return Status::Internal("database schema version " + std::to_string(version) +
                            " is newer than this Osprey understands (" +
                            std::to_string(migrations.size()) + "); upgrade Osprey");
  }
  for (size_t i = static_cast<size_t>(version); i < migrations.size(); ++i) {
    Transaction txn(db);
    OSPREY_RETURN_IF_ERROR(txn.status());
    OSPREY_RETURN_IF_ERROR(db.Exec(migrations[i]));
    OSPREY_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = " + std::to_string(i + 1)));
    OSPREY_RETURN_IF_ERROR(txn.Commit());
  }
  return Status::Ok();
}

}  // namespace osprey::metadata

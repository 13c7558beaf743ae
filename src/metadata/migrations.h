// Schema migrations, numbered by position: migration i (0-based) moves the schema from version
// i to i+1 (PRAGMA user_version). Append only; never edit a migration that has shipped.
#pragma once

#include <string_view>
#include <vector>

#include "metadata/sqlite_db.h"

namespace osprey::metadata {

const std::vector<std::string_view>& Migrations();

// Applies every pending migration, each in its own transaction. Returns kInternal if the
// database was written by a newer Osprey (its version is above the latest we know).
Status Migrate(SqliteDb& db);

}  // namespace osprey::metadata

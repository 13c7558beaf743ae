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
      // 2: datasets, their entries and labels, import staging, background jobs.
      // datasets -> projects is RESTRICT so that DeleteProject refuses while datasets exist.
      R"sql(
        CREATE TABLE datasets (
          id                  INTEGER PRIMARY KEY AUTOINCREMENT,
          project_id          INTEGER NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,
          arn                 TEXT NOT NULL UNIQUE,
          dataset_type        TEXT NOT NULL,
          creation_ms         INTEGER NOT NULL,
          updated_ms          INTEGER NOT NULL,
          status              TEXT NOT NULL,
          status_message      TEXT NOT NULL DEFAULT '',
          status_message_code TEXT NOT NULL DEFAULT '',
          image_bucket        TEXT NOT NULL DEFAULT '',
          UNIQUE (project_id, dataset_type)
        );
        CREATE TABLE dataset_entries (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
          source_ref  TEXT NOT NULL,
          line        TEXT NOT NULL,
          is_labeled  INTEGER NOT NULL,
          has_errors  INTEGER NOT NULL,
          UNIQUE (dataset_id, source_ref)
        );
        CREATE TABLE dataset_entry_labels (
          entry_id INTEGER NOT NULL REFERENCES dataset_entries(id) ON DELETE CASCADE,
          label    TEXT NOT NULL,
          has_box  INTEGER NOT NULL,
          PRIMARY KEY (entry_id, label)
        ) WITHOUT ROWID;
        CREATE INDEX dataset_entry_labels_by_label ON dataset_entry_labels (label, entry_id);
        CREATE TABLE staged_entries (
          job_key    TEXT NOT NULL,
          source_ref TEXT NOT NULL,
          seq        INTEGER NOT NULL,
          line       TEXT NOT NULL,
          is_labeled INTEGER NOT NULL,
          has_errors INTEGER NOT NULL,
          labels     TEXT NOT NULL,
          PRIMARY KEY (job_key, source_ref)
        );
        CREATE TABLE jobs (
          id            INTEGER PRIMARY KEY AUTOINCREMENT,
          kind          TEXT NOT NULL,
          resource_arn  TEXT NOT NULL,
          state         TEXT NOT NULL,
          message       TEXT NOT NULL DEFAULT '',
          created_ms    INTEGER NOT NULL,
          updated_ms    INTEGER NOT NULL
        );
        CREATE INDEX jobs_by_state ON jobs (state);
      )sql",
      // 3: model versions (project versions).
      // versions -> projects is RESTRICT so that DeleteProject refuses while versions exist.
      R"sql(
        CREATE TABLE project_versions (
          id                   INTEGER PRIMARY KEY AUTOINCREMENT,
          project_id           INTEGER NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,
          name                 TEXT NOT NULL,
          arn                  TEXT NOT NULL UNIQUE,
          creation_ms          INTEGER NOT NULL,
          status               TEXT NOT NULL,
          status_message       TEXT NOT NULL DEFAULT '',
          output_bucket        TEXT NOT NULL,
          output_prefix        TEXT NOT NULL DEFAULT '',
          kms_key_id           TEXT NOT NULL DEFAULT '',
          source_version_arn   TEXT NOT NULL DEFAULT '',
          training_input       TEXT NOT NULL DEFAULT '',
          training_dataset_arn TEXT NOT NULL DEFAULT '',
          testing_input        TEXT NOT NULL DEFAULT '',
          testing_auto_create  INTEGER NOT NULL DEFAULT 0,
          testing_dataset_arn  TEXT NOT NULL DEFAULT '',
          training_output      TEXT NOT NULL DEFAULT '',
          testing_output       TEXT NOT NULL DEFAULT '',
          training_validation  TEXT NOT NULL DEFAULT '',
          testing_validation   TEXT NOT NULL DEFAULT '',
          manifest_summary     TEXT NOT NULL DEFAULT '',
          evaluation_summary   TEXT NOT NULL DEFAULT '',
          f1_score             REAL,
          training_end_ms      INTEGER,
          billable_seconds     INTEGER,
          artifact_dir         TEXT NOT NULL DEFAULT '',
          task                 TEXT NOT NULL DEFAULT '',
          min_inference_units  INTEGER,
          max_inference_units  INTEGER,
          UNIQUE (project_id, name)
        );
        CREATE INDEX project_versions_by_status ON project_versions (status);
      )sql",
      // 4: project policies; deleted with their project.
      R"sql(
        CREATE TABLE project_policies (
          project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
          name         TEXT NOT NULL,
          revision_id  TEXT NOT NULL,
          document     TEXT NOT NULL,
          creation_ms  INTEGER NOT NULL,
          updated_ms   INTEGER NOT NULL,
          PRIMARY KEY (project_id, name)
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

// Plain records for datasets, their entries and background jobs, as MetadataStore stores them.
// Column-for-column images of the tables in migrations.cc (migration 2); no behaviour.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace osprey::metadata {

struct DatasetRecord {
  int64_t id = 0;                   // store-assigned
  int64_t project_id = 0;
  std::string arn;
  std::string dataset_type;         // "TRAIN" | "TEST"
  int64_t creation_ms = 0;
  int64_t updated_ms = 0;
  std::string status;               // DatasetStatus, e.g. "CREATE_IN_PROGRESS"
  std::string status_message;
  std::string status_message_code;  // "" | "SUCCESS" | "SERVICE_ERROR" | "CLIENT_ERROR"
  std::string image_bucket;         // the one bucket every source-ref uses ("" while empty)
};

struct DatasetStatsRecord {
  int64_t total_entries = 0;
  int64_t labeled_entries = 0;
  int64_t error_entries = 0;
  int64_t total_labels = 0;         // distinct label names over all entries
};

struct EntryLabel {
  std::string name;
  bool has_box = false;             // the label is on at least one bounding box of the entry
};

// One dataset entry: a validated manifest line as ListDatasetEntries returns it.
struct EntryRecord {
  int64_t id = 0;                   // store-assigned; increases with insertion order
  std::string source_ref;
  std::string line;                 // the JSON line, with cl-metadata / cl-errors
  bool is_labeled = false;
  bool has_errors = false;
  std::vector<EntryLabel> labels;   // distinct, valid labels of the entry
};

// ListDatasetEntries filters, combined with AND (rekognition-api.md §3.7).
struct EntryFilter {
  std::vector<std::string> contains_labels;  // any of them; empty = no filter
  std::optional<bool> labeled;
  std::string source_ref_contains;           // "" = no filter
  std::optional<bool> has_errors;
};

struct EntryPage {
  std::vector<EntryRecord> entries;          // labels are not filled in
  std::optional<int64_t> next_after_id;      // set when more entries follow
};

struct LabelStatsRecord {
  std::string label;
  int64_t entry_count = 0;                   // entries carrying the label
  int64_t bounding_box_entry_count = 0;      // entries carrying it on a box
};

// A background job (jobs/job_runner.h). state: "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED".
struct JobRecord {
  int64_t id = 0;
  std::string kind;                 // e.g. "dataset-import"; owners dispatch recovery on it
  std::string resource_arn;         // the resource the job works on
  std::string state;
  std::string message;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

}  // namespace osprey::metadata

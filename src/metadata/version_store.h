// VersionStore: the durable record of model versions (ProjectVersion) and project policies.
// A separate interface from MetadataStore so the model-version subsystem can evolve on its own;
// both live in the same SQLite file (tables from migration 3). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace osprey::metadata {

// An S3 location inside Osprey's object store ("" bucket = unset).
struct S3Location {
  std::string bucket;
  std::string key;
  bool empty() const { return bucket.empty(); }
};

// Column-for-column image of the project_versions table.
struct VersionRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project_arn;
  std::string name;
  std::string arn;
  int64_t creation_ms = 0;
  std::string status;               // ProjectVersionStatus
  std::string status_message;
  std::string output_bucket;
  std::string output_prefix;
  std::string kms_key_id;
  std::string source_version_arn;   // CopyProjectVersion
  // Inputs as given (TrainingDataResult.Input / TestingDataResult.Input).
  S3Location training_input;        // empty = the project's TRAIN dataset
  std::string training_dataset_arn;
  S3Location testing_input;         // empty with testing_auto_create = AutoCreate
  bool testing_auto_create = false;
  std::string testing_dataset_arn;
  // Written by training.
  S3Location training_output;       // TrainingDataResult.Output
  S3Location testing_output;        // TestingDataResult.Output
  S3Location training_validation;   // TrainingDataResult.Validation
  S3Location testing_validation;    // TestingDataResult.Validation
  S3Location manifest_summary;
  S3Location evaluation_summary;    // EvaluationResult.Summary
  std::optional<double> f1_score;   // EvaluationResult.F1Score
  std::optional<int64_t> training_end_ms;
  std::optional<int64_t> billable_seconds;
  std::string artifact_dir;         // model artifact folder, relative to the data dir
  std::string task;                 // "classification" | "detection" ("" until trained)
  std::optional<int64_t> min_inference_units;
  std::optional<int64_t> max_inference_units;
};

// Column-for-column image of the project_policies table.
struct PolicyRecord {
  int64_t project_id = 0;
  std::string name;
  std::string revision_id;
  std::string document;
  int64_t creation_ms = 0;
  int64_t updated_ms = 0;
};

struct VersionPage {
  std::vector<VersionRecord> versions;
  std::optional<int64_t> next_after_id;  // newest first: the next page has ids < this
};

class VersionStore {
 public:
  virtual ~VersionStore() = default;
  // Inserts a version (id assigned). kAlreadyExists if the project has a version of that name;
  // kNotFound if the project is gone.
  virtual Result<VersionRecord> InsertVersion(const VersionRecord& version) = 0;
  // kNotFound if absent.
  virtual Result<VersionRecord> GetVersionByArn(const std::string& arn) const = 0;
  // Newest first; ids below `before_id` (0 = from the newest); `names` filters when non-empty.
  virtual Result<VersionPage> ListVersions(int64_t project_id, int64_t before_id, size_t limit,
                                           const std::vector<std::string>& names) const = 0;
  // Writes every column of `version` (by id). kNotFound if absent.
  virtual Status UpdateVersion(const VersionRecord& version) = 0;
  // Moves the status from one of `from` to `to` atomically; kInUse if the current status is
  // not in `from` (message names it), kNotFound if absent.
  virtual Status TransitionVersion(int64_t version_id, const std::vector<std::string>& from,
                                   const std::string& to, const std::string& message) = 0;
  virtual Status DeleteVersion(int64_t version_id) = 0;
  virtual Result<size_t> CountVersionsInStatus(const std::string& status) const = 0;
  // All versions in one of `statuses` (for recovery after a restart).
  virtual Result<std::vector<VersionRecord>> ListVersionsInStatus(
      const std::vector<std::string>& statuses) const = 0;

  // Project policies. PutPolicy creates (expected_revision empty: kAlreadyExists if the name
  // exists) or replaces (expected_revision must match: kInvalidPolicyRevision otherwise, kNotFound
  // if the name does not exist). Policies are ordered by name.
  virtual Status PutPolicy(const PolicyRecord& policy, const std::string& expected_revision) = 0;
  virtual Result<std::vector<PolicyRecord>> ListPolicies(int64_t project_id) const = 0;
  // kNotFound if absent; kInvalidPolicyRevision if expected_revision is set and differs.
  virtual Status DeletePolicy(int64_t project_id, const std::string& name,
                              const std::string& expected_revision) = 0;
};

}  // namespace osprey::metadata

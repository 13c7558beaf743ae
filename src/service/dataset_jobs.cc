// The background halves of the dataset operations: manifest import (create and update), copy
// from another dataset, and the 20 % distribution. Each ends the dataset's *_IN_PROGRESS state
// with *_COMPLETE or *_FAILED plus a message (§6.2); nothing here throws. A crash mid-job is
// repaired at start-up by RecoverInterruptedDatasetOperations().
#include <set>

#include "dataset/manifest_errors.h"
#include "dataset/manifest_import.h"
#include "dataset/split.h"
#include "common/ids.h"
#include "jobs/job_runner.h"
#include "service/rekognition_service.h"

namespace osprey::service {
namespace {

constexpr char kServiceErrorMessage[] =
    "An internal error occurred while processing the dataset. Try again.";

metadata::EntryRecord ToRecord(dataset::DatasetEntry& entry, int64_t seq) {
  metadata::EntryRecord record;
  record.id = seq;
  record.source_ref = std::move(entry.source_ref);
  record.line = std::move(entry.line);
  record.is_labeled = entry.is_labeled;
  record.has_errors = entry.has_errors;
  for (auto& label : entry.labels) record.labels.push_back({std::move(label.name), label.has_box});
  return record;
}

// "CREATE" or "UPDATE" + suffix.
std::string State(bool creating, const char* suffix) {
  return std::string(creating ? "CREATE" : "UPDATE") + suffix;
}

}  // namespace

Status RekognitionService::RunDatasetJob(const std::string& kind, const std::string& arn,
                                         std::function<Status()> work) {
  if (jobs_ == nullptr) return work();
  Result<int64_t> id = jobs_->Submit({kind, arn}, [work = std::move(work)](int64_t) {
    return work();
  });
  return id.status();
}

Status RekognitionService::ImportIntoDataset(const metadata::DatasetRecord& dataset, bool creating,
                                             const std::optional<ManifestObject>& manifest,
                                             std::shared_ptr<const std::string> inline_lines) {
  auto finish = [&](const std::string& state, const std::string& message,
                    const std::string& code) {
    return metadata_.SetDatasetStatus(dataset.id, state, message, code, clock_.NowMillis());
  };
  dataset::ImportOptions options;
  options.required_bucket = dataset.image_bucket;
  dataset::ChunkReader reader;
  int64_t size = -1;
  if (manifest) {
    Result<storage::ObjectInfo> head = objects_.HeadObject(manifest->bucket, manifest->name);
    if (!head.ok()) {
      return finish(State(creating, "_FAILED"),
                    std::string(dataset::ErrorMessage(dataset::kErrManifestInaccessible)),
                    "CLIENT_ERROR");
    }
    size = head->size;
    reader = dataset::ObjectChunkReader(objects_, manifest->bucket, manifest->name, size);
  } else {
    size = static_cast<int64_t>(inline_lines->size());
    reader = dataset::StringChunkReader(*inline_lines);
  }
  const std::string job_key = dataset.arn + "#" + NewUuid();
  int64_t seq = 0;
  auto sink = [&](std::vector<dataset::DatasetEntry>& batch) -> Status {
    std::vector<metadata::EntryRecord> records;
    records.reserve(batch.size());
    for (auto& entry : batch) records.push_back(ToRecord(entry, seq++));
    return metadata_.StageEntries(job_key, records).status();
  };
  Result<dataset::ImportResult> result =
      dataset::ImportManifest(reader, size, objects_, options, sink);
  std::optional<dataset::LineError> failure;
  if (result.ok()) failure = result->failure;
  if (result.ok() && !failure && !creating) {
    // The label limit applies to the dataset after the merge (§9.3).
    Result<std::vector<metadata::LabelStatsRecord>> existing = metadata_.ListLabelStats(dataset.id);
    if (!existing.ok()) return existing.status();
    std::set<std::string> labels = result->labels;
    for (const auto& label : *existing) labels.insert(label.label);
    if (labels.size() > options.limits.max_labels) {
      failure = dataset::MakeError(dataset::kErrTooManyLabels);
    }
  }
  Status committed = result.ok() && !failure
                         ? metadata_.CommitStagedEntries(job_key, dataset.id, result->image_bucket)
                         : Status::Ok();
  (void)metadata_.DiscardStagedEntries(job_key);
  if (!result.ok() || !committed.ok()) {
    (void)finish(State(creating, "_FAILED"), kServiceErrorMessage, "SERVICE_ERROR");
    return result.ok() ? committed : result.status();
  }
  if (failure) return finish(State(creating, "_FAILED"), failure->message, "CLIENT_ERROR");
  return finish(State(creating, "_COMPLETE"), "", "SUCCESS");
}

Status RekognitionService::CopyIntoDataset(const metadata::DatasetRecord& dataset,
                                           const metadata::DatasetRecord& source) {
  Status copied = metadata_.CopyEntries(source.id, dataset.id);
  int64_t now = clock_.NowMillis();
  if (!copied.ok()) {
    (void)metadata_.SetDatasetStatus(dataset.id, "CREATE_FAILED", kServiceErrorMessage,
                                     "SERVICE_ERROR", now);
    return copied;
  }
  return metadata_.SetDatasetStatus(dataset.id, "CREATE_COMPLETE", "", "SUCCESS", now);
}

Status RekognitionService::DistributeEntries(const metadata::DatasetRecord& train,
                                             const metadata::DatasetRecord& test) {
  // Only labelled entries are distributed; unlabelled ones stay in training (docs/design).
  std::vector<int64_t> ids;
  std::vector<dataset::SplitItem> items;
  Status listed = metadata_.ForEachEntry(train.id, [&](const metadata::EntryRecord& entry) {
    if (!entry.is_labeled) return true;
    dataset::SplitItem item;
    item.key = entry.source_ref;
    for (const auto& label : entry.labels) item.labels.push_back(label.name);
    items.push_back(std::move(item));
    ids.push_back(entry.id);
    return true;
  });
  std::vector<int64_t> chosen_ids;
  if (listed.ok()) {
    for (size_t index : dataset::ChooseTestSplit(items)) chosen_ids.push_back(ids[index]);
  }
  std::string message;
  std::string code = "SUCCESS";
  Status moved = listed;
  if (listed.ok() && chosen_ids.empty()) {
    message = dataset::ErrorMessage(dataset::kErrInsufficientForDistribute);
    code = "CLIENT_ERROR";
  } else if (listed.ok()) {
    moved = metadata_.MoveEntries(train.id, test.id, chosen_ids);
  }
  if (!moved.ok()) {
    message = kServiceErrorMessage;
    code = "SERVICE_ERROR";
  }
  const char* state = code == "SUCCESS" ? "UPDATE_COMPLETE" : "UPDATE_FAILED";
  int64_t now = clock_.NowMillis();
  OSPREY_RETURN_IF_ERROR(metadata_.SetDatasetStatus(train.id, state, message, code, now));
  OSPREY_RETURN_IF_ERROR(metadata_.SetDatasetStatus(test.id, state, message, code, now));
  return moved;
}

}  // namespace osprey::service

// Dataset lifecycle operations (rekognition-api.md §3.4-3.6, §6.2): CreateDataset,
// DescribeDataset, DeleteDataset, and the start-up recovery of interrupted dataset operations.
#include "service/arn.h"
#include "service/rekognition_service.h"

namespace osprey::service {
namespace {

// "arn:...:project/<name>/<ms>" -> "arn:...:project/<name>/dataset/<train|test>/<ms>" (§2), so
// the region and account always match the project's.
std::string DatasetArnFor(const std::string& project_arn, const std::string& dataset_type,
                          int64_t creation_ms) {
  std::string prefix = project_arn.substr(0, project_arn.rfind('/'));
  return prefix + "/dataset/" + (dataset_type == "TRAIN" ? "train" : "test") + "/" +
         std::to_string(creation_ms);
}

}  // namespace

Result<CreateDatasetResponse> RekognitionService::CreateDataset(
    const RequestContext& /*ctx*/, const CreateDatasetRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::ProjectRecord project,
                          metadata_.GetProjectByArn(request.project_arn));
  std::optional<metadata::DatasetRecord> source;
  if (!request.source_dataset_arn.empty()) {
    OSPREY_ASSIGN_OR_RETURN(source, metadata_.GetDatasetByArn(request.source_dataset_arn));
  }
  if (request.manifest) {
    // §3.4: a manifest we cannot read at call time is InvalidS3ObjectException.
    Result<storage::ObjectInfo> head =
        objects_.HeadObject(request.manifest->bucket, request.manifest->name);
    if (!head.ok()) {
      return Status(StatusCode::kInvalidS3Object,
                    "Unable to get object metadata from S3. Check object key, region and/or "
                    "access permissions.");
    }
  }
  metadata::DatasetRecord record;
  record.project_id = project.id;
  record.dataset_type = request.dataset_type;
  record.creation_ms = clock_.NowMillis();
  record.updated_ms = record.creation_ms;
  record.arn = DatasetArnFor(project.arn, request.dataset_type, record.creation_ms);
  bool empty = !request.manifest && !source;
  // An empty dataset has nothing to import: it is complete at once.
  record.status = empty ? "CREATE_COMPLETE" : "CREATE_IN_PROGRESS";
  record.status_message_code = empty ? "SUCCESS" : "";
  Result<metadata::DatasetRecord> inserted = metadata_.InsertDataset(record);
  if (inserted.status().code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("The project already has a " + request.dataset_type +
                                 " dataset.");
  }
  OSPREY_RETURN_IF_ERROR(inserted.status());
  record = *inserted;
  if (!request.tags.empty()) {
    OSPREY_RETURN_IF_ERROR(
        metadata_.SetTags(record.arn, request.tags, options_.max_tags_per_resource));
  }
  if (empty) return CreateDatasetResponse{record.arn};

  Status queued = source ? RunDatasetJob("dataset-copy", record.arn,
                                         [this, record, from = *source] {
                                           return CopyIntoDataset(record, from);
                                         })
                         : RunDatasetJob("dataset-import", record.arn,
                                         [this, record, manifest = request.manifest] {
                                           return ImportIntoDataset(record, /*creating=*/true,
                                                                    manifest, nullptr);
                                         });
  if (!queued.ok()) {
    // Nothing was started: leave no half-created dataset behind, so the caller can retry.
    (void)metadata_.SetDatasetStatus(record.id, "CREATE_FAILED", queued.message(),
                                     "SERVICE_ERROR", clock_.NowMillis());
    (void)metadata_.DeleteDataset(record.id);
    return queued;
  }
  return CreateDatasetResponse{record.arn};
}

Result<DescribeDatasetResponse> RekognitionService::DescribeDataset(
    const RequestContext& /*ctx*/, const DescribeDatasetRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetRecord dataset,
                          metadata_.GetDatasetByArn(request.dataset_arn));
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetStatsRecord stats,
                          metadata_.GetDatasetStats(dataset.id));
  DescribeDatasetResponse response;
  DatasetDescription& d = response.description;
  d.creation_ms = dataset.creation_ms;
  d.last_updated_ms = dataset.updated_ms;
  d.status = dataset.status;
  d.status_message = dataset.status_message;
  d.status_message_code = dataset.status_message_code;
  d.stats = {stats.labeled_entries, stats.total_entries, stats.total_labels, stats.error_entries};
  return response;
}

Status RekognitionService::DeleteDataset(const RequestContext& /*ctx*/,
                                         const DeleteDatasetRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetRecord dataset,
                          metadata_.GetDatasetByArn(request.dataset_arn));
  // §3.6/§6.2: asynchronous. DescribeDataset shows DELETE_IN_PROGRESS until a job removes the
  // dataset in one transaction; then it is ResourceNotFoundException. The state change is
  // atomic with the busy check (ResourceInUse while CREATE_/UPDATE_IN_PROGRESS). A dataset
  // already DELETE_IN_PROGRESS is not refused (AWS names only the other two): the deletion is
  // queued again, which is also how a client retries one whose job failed. A restart before
  // the job ran finishes it (RecoverInterruptedDatasetOperations).
  if (dataset.status != "DELETE_IN_PROGRESS") {
    OSPREY_RETURN_IF_ERROR(metadata_.BeginDatasetOperation(dataset.id, "DELETE_IN_PROGRESS",
                                                           clock_.NowMillis()));
  }
  auto remove = [this, id = dataset.id] {
    Status removed = metadata_.DeleteDataset(id);
    // An earlier job of a repeated DeleteDataset got there first.
    return removed.code() == StatusCode::kNotFound ? Status::Ok() : removed;
  };
  Status queued = RunDatasetJob("dataset-delete", dataset.arn, remove);
  // A full queue (or a runner shutting down) is no reason to fail a delete the dataset has
  // already accepted: the deletion is one transaction, so it runs here instead.
  if (queued.code() == StatusCode::kLimitExceeded || queued.code() == StatusCode::kNotReady) {
    return remove();
  }
  return queued;
}

Status RekognitionService::RecoverInterruptedDatasetOperations() {
  OSPREY_ASSIGN_OR_RETURN(
      std::vector<metadata::DatasetRecord> failed,
      metadata_.FailInProgressDatasets(
          "The operation was interrupted because the server stopped. Try again.",
          clock_.NowMillis()));
  (void)failed;
  return Status::Ok();
}

}  // namespace osprey::service

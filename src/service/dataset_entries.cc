// Dataset content operations (rekognition-api.md §3.7-3.10): ListDatasetEntries,
// ListDatasetLabels, UpdateDatasetEntries, DistributeDatasetEntries.
#include "service/arn.h"
#include "service/page_token.h"
#include "service/rekognition_service.h"

namespace osprey::service {
namespace {

bool InProgress(const std::string& status) {
  return status.find("_IN_PROGRESS") != std::string::npos;
}

// §3.7/3.8: still being created -> ResourceNotReady; being updated or deleted -> ResourceInUse.
Status CheckReadable(const metadata::DatasetRecord& dataset) {
  if (dataset.status == "CREATE_IN_PROGRESS") {
    return Status::NotReady("The dataset is still being created.");
  }
  if (dataset.status == "DELETE_IN_PROGRESS") return Status::InUse("The dataset is being deleted.");
  if (InProgress(dataset.status)) return Status::InUse("The dataset is being updated.");
  return Status::Ok();
}

Result<int64_t> DecodeToken(std::string_view kind, const std::string& token) {
  if (token.empty()) return int64_t{0};
  std::optional<int64_t> decoded = DecodePageToken(kind, token);
  if (!decoded) {
    return Status(StatusCode::kInvalidPaginationToken, "The pagination token is invalid.");
  }
  return *decoded;
}

}  // namespace

Result<ListDatasetEntriesResponse> RekognitionService::ListDatasetEntries(
    const RequestContext& /*ctx*/, const ListDatasetEntriesRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetRecord dataset,
                          metadata_.GetDatasetByArn(request.dataset_arn));
  OSPREY_RETURN_IF_ERROR(CheckReadable(dataset));
  OSPREY_ASSIGN_OR_RETURN(int64_t after_id, DecodeToken("entries", request.next_token));
  metadata::EntryFilter filter;
  filter.contains_labels = request.contains_labels;
  filter.labeled = request.labeled;
  filter.source_ref_contains = request.source_ref_contains;
  filter.has_errors = request.has_errors;
  OSPREY_ASSIGN_OR_RETURN(
      metadata::EntryPage page,
      metadata_.ListEntries(dataset.id, filter, after_id,
                            static_cast<size_t>(request.max_results)));
  ListDatasetEntriesResponse response;
  for (auto& entry : page.entries) response.entries.push_back(std::move(entry.line));
  if (page.next_after_id) response.next_token = EncodePageToken("entries", *page.next_after_id);
  return response;
}

Result<ListDatasetLabelsResponse> RekognitionService::ListDatasetLabels(
    const RequestContext& /*ctx*/, const ListDatasetLabelsRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetRecord dataset,
                          metadata_.GetDatasetByArn(request.dataset_arn));
  OSPREY_RETURN_IF_ERROR(CheckReadable(dataset));
  // At most 250 labels (§9.1), so an offset into the sorted list is a stable enough cursor.
  OSPREY_ASSIGN_OR_RETURN(int64_t offset, DecodeToken("labels", request.next_token));
  OSPREY_ASSIGN_OR_RETURN(std::vector<metadata::LabelStatsRecord> labels,
                          metadata_.ListLabelStats(dataset.id));
  ListDatasetLabelsResponse response;
  size_t end = std::min(labels.size(), static_cast<size_t>(offset) +
                                           static_cast<size_t>(request.max_results));
  for (size_t label_idx = static_cast<size_t>(offset); label_idx < end; ++label_idx) {
    const auto& label = labels[label_idx];
    response.labels.push_back(
        {label.label, label.entry_count, label.bounding_box_entry_count});
  }
  if (end < labels.size()) response.next_token = EncodePageToken("labels", static_cast<int64_t>(end));
  return response;
}

Status RekognitionService::UpdateDatasetEntries(const RequestContext& /*ctx*/,
                                                const UpdateDatasetEntriesRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetRecord dataset,
                          metadata_.GetDatasetByArn(request.dataset_arn));
  OSPREY_RETURN_IF_ERROR(
      metadata_.BeginDatasetOperation(dataset.id, "UPDATE_IN_PROGRESS", clock_.NowMillis()));
  // The blob is at most 5 MiB (§3.9) and the job queue is bounded, so holding it is bounded.
  auto lines = std::make_shared<const std::string>(request.ground_truth);
  Status queued = RunDatasetJob("dataset-update", dataset.arn, [this, dataset, lines] {
    return ImportIntoDataset(dataset, /*creating=*/false, std::nullopt, lines);
  });
  if (!queued.ok()) {
    (void)metadata_.SetDatasetStatus(dataset.id, "UPDATE_FAILED", queued.message(),
                                     "SERVICE_ERROR", clock_.NowMillis());
  }
  return queued;
}

Status RekognitionService::DistributeDatasetEntries(
    const RequestContext& /*ctx*/, const DistributeDatasetEntriesRequest& request) {
  if (request.dataset_arns.size() != 2) {
    return Status::InvalidArgument("Datasets must name exactly two datasets.");
  }
  std::optional<metadata::DatasetRecord> train;
  std::optional<metadata::DatasetRecord> test;
  for (const auto& arn : request.dataset_arns) {
    OSPREY_ASSIGN_OR_RETURN(metadata::DatasetRecord dataset, metadata_.GetDatasetByArn(arn));
    (dataset.dataset_type == "TRAIN" ? train : test) = std::move(dataset);
  }
  if (!train || !test || train->project_id != test->project_id) {
    return Status::InvalidArgument(
        "Datasets must be the TRAIN and the TEST dataset of the same project.");
  }
  for (const auto* dataset : {&*train, &*test}) {
    if (dataset->status.find("_COMPLETE") == std::string::npos) {
      return Status::NotReady("The dataset " + dataset->arn + " is " + dataset->status + ".");
    }
  }
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetStatsRecord test_stats,
                          metadata_.GetDatasetStats(test->id));
  if (test_stats.total_entries != 0) {
    return Status::InvalidArgument("The test dataset must be empty to distribute entries.");
  }
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetStatsRecord train_stats,
                          metadata_.GetDatasetStats(train->id));
  if (train_stats.total_entries == 0) {
    return Status::InvalidArgument("The training dataset has no entries to distribute.");
  }
  int64_t now = clock_.NowMillis();
  OSPREY_RETURN_IF_ERROR(metadata_.BeginDatasetOperation(train->id, "UPDATE_IN_PROGRESS", now));
  Status began = metadata_.BeginDatasetOperation(test->id, "UPDATE_IN_PROGRESS", now);
  if (!began.ok()) {
    (void)metadata_.SetDatasetStatus(train->id, train->status, train->status_message,
                                     train->status_message_code, now);
    return began;
  }
  Status queued = RunDatasetJob("dataset-distribute", train->arn,
                                [this, t = *train, s = *test] { return DistributeEntries(t, s); });
  if (!queued.ok()) {
    for (const auto* dataset : {&*train, &*test}) {
      (void)metadata_.SetDatasetStatus(dataset->id, "UPDATE_FAILED", queued.message(),
                                       "SERVICE_ERROR", now);
    }
  }
  return queued;
}

}  // namespace osprey::service

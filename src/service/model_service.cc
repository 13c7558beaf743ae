// Model-version lifecycle (rekognition-api.md §3.11-3.15, §6.1). Training itself is in
// training_job.cc; inference in detect.cc.
#include "service/model_service.h"

#include <spdlog/spdlog.h>

#include "service/arn.h"
#include "service/page_token.h"

namespace osprey::service {
namespace {

constexpr char kTraining[] = "TRAINING_IN_PROGRESS";

std::string VersionArn(const ParsedArn& project, const std::string& name, int64_t ms) {
  return "arn:aws:rekognition:" + project.region + ":" + project.account + ":project/" +
         project.project_name + "/version/" + name + "/" + std::to_string(ms);
}

}  // namespace

ModelService::ModelService(metadata::MetadataStore& metadata, metadata::VersionStore& versions,
                           storage::ObjectStore& objects, const Clock& clock,
                           ModelServiceOptions options)
    : metadata_(metadata),
      versions_(versions),
      objects_(objects),
      clock_(clock),
      options_(std::move(options)),
      host_(options_.inference_threads),
      training_pool_(std::make_unique<TaskPool>(options_.max_concurrent_trainings)) {}

const char ModelService::kInterruptedTraining[] =
    "Training was interrupted because the server stopped. Create a new model version to train "
    "again.";

ModelService::~ModelService() { stopping_ = true; }

Result<std::string> ModelService::CreateProjectVersion(
    const RequestContext& /*ctx*/, const CreateProjectVersionRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::ProjectRecord project,
                          metadata_.GetProjectByArn(request.project_arn));
  std::optional<ParsedArn> parsed = ParseArn(project.arn);
  if (!parsed) return Status::Internal("stored project ARN does not parse: " + project.arn);
  OSPREY_ASSIGN_OR_RETURN(std::vector<metadata::DatasetRecord> datasets,
                          metadata_.ListProjectDatasets(project.id));
  metadata::VersionRecord version;
  for (const auto& dataset : datasets) {
    // A dataset being created, updated or deleted has no stable entries to train on.
    if (dataset.status.size() > 12 &&
        dataset.status.compare(dataset.status.size() - 12, 12, "_IN_PROGRESS") == 0) {
      return Status::InUse("The " + dataset.dataset_type + " dataset is " + dataset.status +
                           "; wait until DescribeDataset shows it complete, then try again.");
    }
    if (dataset.dataset_type == "TRAIN") version.training_dataset_arn = dataset.arn;
    if (dataset.dataset_type == "TEST") version.testing_dataset_arn = dataset.arn;
  }
  bool has_datasets = !version.training_dataset_arn.empty();
  if (has_datasets && (request.training_asset || request.testing_asset)) {
    return Status::InvalidArgument(
        "The project has datasets; TrainingData and TestingData manifests cannot be given.");
  }
  if (!has_datasets) {
    if (!request.training_asset) {
      return Status::InvalidArgument(
          "The project has no training dataset; give TrainingData with a manifest asset.");
    }
    if (!request.testing_asset && !request.testing_auto_create) {
      return Status::InvalidArgument(
          "Give TestingData with a manifest asset, or {\"AutoCreate\": true} to split the "
          "training data 80/20.");
    }
  }
  if (!objects_.BucketExists(request.output_bucket)) {
    return Status::InvalidArgument("The output bucket " + request.output_bucket +
                                   " does not exist.");
  }
  // A duplicate name is answered before the training limit: retrying it can never succeed.
  OSPREY_ASSIGN_OR_RETURN(metadata::VersionPage same_name,
                          versions_.ListVersions(project.id, 0, 1, {request.version_name}));
  if (!same_name.versions.empty()) {
    return Status::InUse("A model version named " + request.version_name +
                         " already exists in this project.");
  }
  OSPREY_ASSIGN_OR_RETURN(size_t training, versions_.CountVersionsInStatus(kTraining));
  if (training >= static_cast<size_t>(options_.max_concurrent_trainings)) {
    return Status::LimitExceeded("Too many models are training (the limit is " +
                                 std::to_string(options_.max_concurrent_trainings) +
                                 "). Try again when a training has finished.");
  }
  version.project_id = project.id;
  version.project_arn = project.arn;
  version.name = request.version_name;
  version.creation_ms = clock_.NowMillis();
  version.arn = VersionArn(*parsed, version.name, version.creation_ms);
  version.status = kTraining;
  version.status_message = "The model is being trained.";
  version.output_bucket = request.output_bucket;
  version.output_prefix = request.output_prefix;
  version.kms_key_id = request.kms_key_id;
  if (request.training_asset) version.training_input = *request.training_asset;
  if (request.testing_asset) version.testing_input = *request.testing_asset;
  version.testing_auto_create = request.testing_auto_create ||
                                (has_datasets && version.testing_dataset_arn.empty());
  Result<metadata::VersionRecord> inserted = versions_.InsertVersion(version);
  if (inserted.status().code() == StatusCode::kAlreadyExists) {
    return Status::InUse(inserted.status().message());
  }
  OSPREY_RETURN_IF_ERROR(inserted.status());
  if (!request.tags.empty()) {
    OSPREY_RETURN_IF_ERROR(
        metadata_.SetTags(inserted->arn, request.tags, options_.max_tags_per_resource));
  }
  // The row is durable before the job starts: a crash from here on ends TRAINING_FAILED.
  metadata::VersionRecord queued = *inserted;
  training_pool_->Submit([this, queued] { Train(queued); });
  return queued.arn;
}

Result<DescribeProjectVersionsResponse> ModelService::DescribeProjectVersions(
    const RequestContext& /*ctx*/, const DescribeProjectVersionsRequest& request) {
  OSPREY_ASSIGN_OR_RETURN(metadata::ProjectRecord project,
                          metadata_.GetProjectByArn(request.project_arn));
  int64_t before_id = 0;
  if (!request.next_token.empty()) {
    std::optional<int64_t> decoded = DecodePageToken("versions", request.next_token);
    if (!decoded) {
      return Status(StatusCode::kInvalidPaginationToken, "The pagination token is invalid.");
    }
    before_id = *decoded;
  }
  OSPREY_ASSIGN_OR_RETURN(
      metadata::VersionPage page,
      versions_.ListVersions(project.id, before_id, static_cast<size_t>(request.max_results),
                             request.version_names));
  DescribeProjectVersionsResponse response;
  response.versions = std::move(page.versions);
  if (page.next_after_id) response.next_token = EncodePageToken("versions", *page.next_after_id);
  return response;
}

Result<std::string> ModelService::StartProjectVersion(const StartProjectVersionRequest& request) {
  if (request.max_inference_units && *request.max_inference_units < request.min_inference_units) {
    return Status::InvalidArgument("MaxInferenceUnits must not be less than MinInferenceUnits.");
  }
  OSPREY_ASSIGN_OR_RETURN(metadata::VersionRecord version,
                          versions_.GetVersionByArn(request.version_arn));
  OSPREY_RETURN_IF_ERROR(versions_.TransitionVersion(
      version.id, {"TRAINING_COMPLETED", "COPYING_COMPLETED", "STOPPED", "FAILED"}, "STARTING",
      "The model is starting."));
  version.status = "STARTING";
  version.min_inference_units = request.min_inference_units;
  version.max_inference_units = request.max_inference_units;
  version.status_message = "The model is starting.";
  OSPREY_RETURN_IF_ERROR(versions_.UpdateVersion(version));
  lifecycle_pool_.Submit([this, version] { LoadModel(version); });
  return std::string("STARTING");
}

void ModelService::LoadModel(metadata::VersionRecord version) {
  Status loaded = host_.Load(version.arn, options_.models_dir.parent_path() / version.artifact_dir);
  Status moved = loaded.ok()
                     ? versions_.TransitionVersion(version.id, {"STARTING"}, "RUNNING",
                                                   "The model is running.")
                     : versions_.TransitionVersion(
                           version.id, {"STARTING"}, "FAILED",
                           "The model could not be loaded: " + loaded.message() +
                               ". Train a new version of the model.");
  if (!moved.ok()) {
    // Stopped or deleted while loading: do not keep a model nobody can reach.
    host_.Unload(version.arn);
  }
  spdlog::info("model version={} load={}", version.arn, loaded.ok() ? "ok" : loaded.ToString());
}

Result<std::string> ModelService::StopProjectVersion(const std::string& version_arn) {
  OSPREY_ASSIGN_OR_RETURN(metadata::VersionRecord version, versions_.GetVersionByArn(version_arn));
  OSPREY_RETURN_IF_ERROR(versions_.TransitionVersion(version.id, {"RUNNING", "STARTING"},
                                                     "STOPPING", "The model is stopping."));
  lifecycle_pool_.Submit([this, version] {
    host_.Unload(version.arn);
    (void)versions_.TransitionVersion(version.id, {"STOPPING"}, "STOPPED",
                                      "The model is stopped.");
  });
  return std::string("STOPPING");
}

Result<std::string> ModelService::DeleteProjectVersion(const std::string& version_arn) {
  OSPREY_ASSIGN_OR_RETURN(metadata::VersionRecord version, versions_.GetVersionByArn(version_arn));
  OSPREY_RETURN_IF_ERROR(versions_.TransitionVersion(
      version.id,
      {"TRAINING_COMPLETED", "TRAINING_FAILED", "STOPPED", "FAILED", "COPYING_COMPLETED",
       "COPYING_FAILED"},
      "DELETING", "The model is being deleted."));
  OSPREY_ASSIGN_OR_RETURN(auto tags, metadata_.GetTags(version.arn));
  std::vector<std::string> tag_keys;
  for (const auto& [key, value] : tags) tag_keys.push_back(key);
  OSPREY_RETURN_IF_ERROR(metadata_.RemoveTags(version.arn, tag_keys));
  if (!version.artifact_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(options_.models_dir.parent_path() / version.artifact_dir, ec);
  }
  OSPREY_RETURN_IF_ERROR(versions_.DeleteVersion(version.id));
  return std::string("DELETING");
}

Status ModelService::Recover() {
  OSPREY_ASSIGN_OR_RETURN(auto interrupted, versions_.ListVersionsInStatus({kTraining}));
  for (const auto& version : interrupted) {
    spdlog::warn("model version={} msg=\"training interrupted by a restart\"", version.arn);
    OSPREY_RETURN_IF_ERROR(
        versions_.TransitionVersion(version.id, {kTraining}, "TRAINING_FAILED", kInterruptedTraining));
  }
  OSPREY_ASSIGN_OR_RETURN(auto copying, versions_.ListVersionsInStatus({"COPYING_IN_PROGRESS"}));
  for (const auto& version : copying) {
    OSPREY_RETURN_IF_ERROR(versions_.TransitionVersion(
        version.id, {"COPYING_IN_PROGRESS"}, "COPYING_FAILED",
        "Copying was interrupted because the server stopped. Delete this version and copy "
        "the model again."));
  }
  OSPREY_ASSIGN_OR_RETURN(auto stopping, versions_.ListVersionsInStatus({"STOPPING"}));
  for (const auto& version : stopping) {
    OSPREY_RETURN_IF_ERROR(versions_.TransitionVersion(version.id, {"STOPPING"}, "STOPPED",
                                                       "The model is stopped."));
  }
  OSPREY_ASSIGN_OR_RETURN(auto running, versions_.ListVersionsInStatus({"RUNNING", "STARTING"}));
  for (auto version : running) {
    OSPREY_RETURN_IF_ERROR(versions_.TransitionVersion(version.id, {"RUNNING", "STARTING"},
                                                       "STARTING", "The model is starting."));
    lifecycle_pool_.Submit([this, version] { LoadModel(version); });
  }
  return Status::Ok();
}

}  // namespace osprey::service

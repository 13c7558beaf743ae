// The training job behind CreateProjectVersion (DESIGN "Training job flow"): read and validate
// the manifests with dataset/'s validator, split, write the manifest files AWS writes, train
// and evaluate through the engine (training_run.cc), write the evaluation files, and move the
// version to TRAINING_COMPLETED — or to TRAINING_FAILED with a message that says what to fix.
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "dataset/manifest_reader.h"
#include "dataset/training_output.h"
#include "service/arn.h"
#include "service/model_service.h"
#include "service/training_data.h"
#include "service/training_run.h"

namespace osprey::service {
namespace {

// Persists progress into StatusMessage at most once per second.
class StatusObserver : public engine::TrainingObserver {
 public:
  StatusObserver(metadata::VersionStore& versions, metadata::VersionRecord& version,
                 const std::atomic<bool>& stopping)
      : versions_(versions), version_(version), stopping_(stopping) {}
  void OnProgress(std::string_view stage, int done, int total) override {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(1) && done != total) return;
    last_ = now;
    version_.status_message = "The model is being trained (" + std::string(stage) + " " +
                              std::to_string(done) + "/" + std::to_string(total) + ").";
    (void)versions_.UpdateVersion(version_);
  }
  void OnMessage(std::string_view message) override {
    spdlog::info("training version={} note=\"{}\"", version_.arn, message);
  }
  bool StopRequested() override { return stopping_; }

 private:
  metadata::VersionStore& versions_;
  metadata::VersionRecord& version_;
  const std::atomic<bool>& stopping_;
  std::chrono::steady_clock::time_point last_{};
};

// Writes `<prefix>/<Kind>-<project>-<version>.json` objects into the output bucket (§11.1).
class OutputWriter {
 public:
  OutputWriter(storage::ObjectStore& objects, const metadata::VersionRecord& version,
               const std::string& project_name)
      : objects_(objects), bucket_(version.output_bucket), prefix_(version.output_prefix) {
    if (!prefix_.empty() && prefix_.back() != '/') prefix_ += '/';
    suffix_ = "-" + project_name + "-" + version.name + ".json";
  }
  Status Put(const std::string& kind, const std::string& body, metadata::S3Location* where) {
    std::string key = prefix_ + kind + suffix_;
    Result<storage::ObjectInfo> r = objects_.PutObject(bucket_, key, body, {"application/json", {}, ""});
    if (!r.ok()) {
      return Status::Internal("Could not write " + key + " to the output bucket " + bucket_ +
                              ": " + r.status().message());
    }
    *where = {bucket_, key};
    return Status::Ok();
  }
  std::string Url(const metadata::S3Location& where) const {
    return "s3://" + where.bucket + "/" + where.key;
  }

 private:
  storage::ObjectStore& objects_;
  std::string bucket_;
  std::string prefix_;
  std::string suffix_;
};

// Reads the manifest a version names: an S3 object, or a project dataset's entries.
Result<TrainingManifest> LoadManifest(metadata::MetadataStore& metadata,
                                      storage::ObjectStore& objects,
                                      const metadata::S3Location& location,
                                      const std::string& dataset_arn) {
  if (!location.empty()) {
    Result<storage::ObjectInfo> head = objects.HeadObject(location.bucket, location.key);
    if (!head.ok()) {
      return Status::NotFound("The manifest s3://" + location.bucket + "/" + location.key +
                              " could not be read (" + head.status().message() +
                              "). Upload it, then create a new model version.");
    }
    return ReadTrainingManifest(
        dataset::ObjectChunkReader(objects, location.bucket, location.key, head->size),
        head->size, objects);
  }
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetRecord dataset, metadata.GetDatasetByArn(dataset_arn));
  std::string text;
  OSPREY_RETURN_IF_ERROR(metadata.ForEachEntry(dataset.id, [&](const metadata::EntryRecord& e) {
    text += e.line + "\n";
    return true;
  }));
  return ReadTrainingManifest(dataset::StringChunkReader(text),
                              static_cast<int64_t>(text.size()), objects);
}

std::vector<const dataset::DroppedLine*> Refs(const std::vector<dataset::DroppedLine>& lines) {
  std::vector<const dataset::DroppedLine*> out;
  for (const auto& line : lines) out.push_back(&line);
  return out;
}

EntryRefs Usable(const EntryRefs& entries, bool object_detection) {
  EntryRefs out;
  for (const auto* entry : entries) {
    if (IsUsable(*entry, object_detection)) out.push_back(entry);
  }
  return out;
}

}  // namespace

void ModelService::Train(metadata::VersionRecord version) {
  auto started = std::chrono::steady_clock::now();
  auto finish = [&](const std::string& status, const std::string& message) {
    version.status = status;
    version.status_message = message;
    version.training_end_ms = clock_.NowMillis();
    Status s = versions_.UpdateVersion(version);
    spdlog::info("training version={} status={} message=\"{}\" store={}", version.arn, status,
                 message, s.ok() ? "ok" : s.ToString());
  };
  auto fail = [&](const Status& why) { finish("TRAINING_FAILED", why.message()); };
  // Queued when the server began to stop: never started (the same message as after a crash).
  if (stopping_) return finish("TRAINING_FAILED", kInterruptedTraining);

  Result<TrainingManifest> train =
      LoadManifest(metadata_, objects_, version.training_input, version.training_dataset_arn);
  if (!train.ok()) return fail(train.status());
  TrainingManifest test;
  EntryRefs train_entries, test_entries;
  std::vector<const dataset::DroppedLine*> train_dropped = Refs(train->dropped), test_dropped;
  if (version.testing_auto_create) {
    SplitEightyTwenty(train->entries, &train_entries, &test_entries);
  } else {
    Result<TrainingManifest> loaded =
        LoadManifest(metadata_, objects_, version.testing_input, version.testing_dataset_arn);
    if (!loaded.ok()) return fail(loaded.status());
    test = std::move(loaded).value();
    for (const auto& entry : train->entries) train_entries.push_back(&entry);
    for (const auto& entry : test.entries) test_entries.push_back(&entry);
    test_dropped = Refs(test.dropped);
  }
  const bool detection = train->object_detection;
  std::optional<ParsedArn> project_arn = ParseArn(version.project_arn);
  if (!project_arn) {
    return fail(Status::Internal("stored project ARN does not parse: " + version.project_arn));
  }
  const std::string& project_name = project_arn->project_name;
  const std::string use_case = train->use_case();

  // The manifest files come first, so that a failed run still tells the user which lines.
  OutputWriter out(objects_, version, project_name);
  dataset::ManifestStatistics train_stats =
      dataset::CountLines(train_entries, train_dropped, use_case);
  dataset::ManifestStatistics test_stats = dataset::CountLines(test_entries, test_dropped, use_case);
  if (train->failure) train_stats.errors.push_back(*train->failure);
  if (test.failure) test_stats.errors.push_back(*test.failure);
  Status written = out.Put("ManifestSummary", dataset::ManifestSummaryJson(train_stats, test_stats, {}),
                           &version.manifest_summary);
  if (written.ok()) {
    written = out.Put("TrainingManifestWithValidation",
                      dataset::ValidationManifest(train_entries, train_dropped),
                      &version.training_validation);
  }
  if (written.ok()) {
    written = out.Put("TestingManifestWithValidation",
                      dataset::ValidationManifest(test_entries, test_dropped),
                      &version.testing_validation);
  }
  if (!written.ok()) return fail(written);
  for (const auto& [failure, where, side] :
       {std::tuple{train->failure, &version.training_validation, "training"},
        std::tuple{test.failure, &version.testing_validation, "testing"}}) {
    if (!failure) continue;
    return fail(Status::InvalidArgument(
        "The " + std::string(side) + " manifest failed validation: " + failure->code + " (" +
        failure->message + "). Each line's errors are in " + out.Url(*where) +
        "; fix the manifest, then create a new model version."));
  }

  TrainingRunInputs inputs;
  inputs.train = Usable(train_entries, detection);
  inputs.test = Usable(test_entries, detection);
  inputs.object_detection = detection;
  std::string artifact_rel = "models/" + project_name + "/" + version.name + "-" +
                             std::to_string(version.creation_ms);
  inputs.output_dir = options_.models_dir.parent_path() / artifact_rel;
  inputs.backbone_dir =
      options_.backbone_dir.empty() ? engine::DefaultBackboneDir() : options_.backbone_dir;
  inputs.time_budget_seconds = options_.training_time_budget_seconds;
  inputs.version_arn = version.arn;
  std::error_code ec;
  std::filesystem::remove_all(inputs.output_dir, ec);  // a leftover of an interrupted run
  std::filesystem::create_directories(inputs.output_dir.parent_path(), ec);
  StatusObserver observer(versions_, version, stopping_);
  Result<TrainedModel> model = RunTraining(inputs, objects_, clock_, &observer);
  // Stopped by the shutdown (kCancelled, no model written): the same message as after a crash.
  if (!model.ok() && stopping_) return finish("TRAINING_FAILED", kInterruptedTraining);
  if (!model.ok()) return fail(model.status());

  written = out.Put("EvaluationResultSummary", model->evaluation_summary, &version.evaluation_summary);
  if (written.ok()) {
    written = out.Put("TrainingGroundTruth", dataset::GroundTruthSnapshot(inputs.train, detection),
                      &version.training_output);
  }
  if (written.ok()) {
    written = out.Put("TestingGroundTruth", dataset::GroundTruthSnapshot(inputs.test, detection),
                      &version.testing_output);
  }
  if (!written.ok()) return fail(written);
  version.f1_score = model->f1;
  version.artifact_dir = artifact_rel;
  version.task = model->task;
  version.billable_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now() - started).count();
  finish("TRAINING_COMPLETED", "The model is ready to run.");
}

}  // namespace osprey::service

// The training job behind CreateProjectVersion (DESIGN "Training job flow"): read and validate
// the manifests, split, train through the engine, evaluate on the test split, write the
// artifact and the AWS output files, and move the version to TRAINING_COMPLETED — or to
// TRAINING_FAILED with a message that says what to fix.
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "engine/classifier.h"
#include "service/model_service.h"
#include "service/training_data.h"

namespace osprey::service {
namespace {

using nlohmann::json;

// Persists progress into StatusMessage at most once per second.
class StatusObserver : public engine::TrainingObserver {
 public:
  StatusObserver(metadata::VersionStore& versions, metadata::VersionRecord& version)
      : versions_(versions), version_(version) {}
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

 private:
  metadata::VersionStore& versions_;
  metadata::VersionRecord& version_;
  std::chrono::steady_clock::time_point last_{};
};

std::string Iso8601(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf) + "." + std::to_string(1000 + ms % 1000).substr(1);
}

json LineStatistics(const ParsedManifest& manifest, const std::vector<size_t>& used) {
  json indices = json::array();
  size_t invalid = 0;
  for (size_t index : used) {
    if (!manifest.lines[index].error_code.empty()) {
      indices.push_back(index);
      ++invalid;
    }
  }
  return {{"use_case", manifest.use_case},
          {"total_json_lines", used.size()},
          {"valid_json_lines", used.size() - invalid},
          {"invalid_json_lines", invalid},
          {"ignored_json_lines", 0},
          {"error_json_line_indices", indices},
          {"errors", json::array()}};
}

// The input lines with an "errors" array on each invalid one (§11.4).
std::string ValidationManifest(const ParsedManifest& manifest, const std::vector<size_t>& used) {
  std::string out;
  for (size_t index : used) {
    const ManifestLine& line = manifest.lines[index];
    json j = json::parse(line.text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) j = json::object();
    if (!line.error_code.empty()) {
      j["errors"] = json::array({{{"code", line.error_code}, {"message", line.error_message}}});
    }
    out += j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  return out;
}

// The ground-truth snapshot of the images used (§11.6), in Rekognition's attribute names.
std::string GroundTruthSnapshot(const ParsedManifest& manifest, const std::vector<size_t>& used) {
  std::string out;
  int object_id = 0;
  for (size_t index : used) {
    const ManifestLine& line = manifest.lines[index];
    if (!line.error_code.empty()) continue;
    json j = {{"source-ref", line.source_ref}, {"rekognition-custom-labels-object-id", object_id++}};
    for (size_t k = 0; k < line.labels.size(); ++k) {
      std::string attr = "rekognition-custom-labels-training-" + std::to_string(k);
      j[attr] = 1;
      j[attr + "-metadata"] = {{"class-name", line.labels[k]},
                               {"confidence", 1},
                               {"human-annotated", "yes"},
                               {"type", "groundtruth/image-classification"},
                               {"job-name", "rekognition-custom-labels-training-job"}};
    }
    out += j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  return out;
}

}  // namespace

// Reads a manifest from an S3 location or from a dataset's entries.
static Result<ParsedManifest> LoadManifest(metadata::MetadataStore& metadata,
                                           storage::ObjectStore& objects,
                                           const metadata::S3Location& location,
                                           const std::string& dataset_arn) {
  if (!location.empty()) {
    Result<std::string> text = objects.GetObject(location.bucket, location.key);
    if (!text.ok()) {
      return Status::NotFound("The manifest s3://" + location.bucket + "/" + location.key +
                              " could not be read (" + text.status().message() +
                              "). Upload it, then create a new model version.");
    }
    return ParseManifest(*text);
  }
  OSPREY_ASSIGN_OR_RETURN(metadata::DatasetRecord dataset, metadata.GetDatasetByArn(dataset_arn));
  std::string text;
  OSPREY_RETURN_IF_ERROR(metadata.ForEachEntry(dataset.id, [&](const metadata::EntryRecord& e) {
    text += e.line + "\n";
    return true;
  }));
  return ParseManifest(text);
}

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

  Result<ParsedManifest> train_manifest =
      LoadManifest(metadata_, objects_, version.training_input, version.training_dataset_arn);
  if (!train_manifest.ok()) return fail(train_manifest.status());
  ParsedManifest train = std::move(train_manifest).value();
  ParsedManifest test;
  std::vector<size_t> train_used, test_used;
  if (version.testing_auto_create) {
    SplitEightyTwenty(train.lines, &train_used, &test_used);
    test = train;
  } else {
    Result<ParsedManifest> test_manifest =
        LoadManifest(metadata_, objects_, version.testing_input, version.testing_dataset_arn);
    if (!test_manifest.ok()) return fail(test_manifest.status());
    test = std::move(test_manifest).value();
    for (size_t i = 0; i < train.lines.size(); ++i) train_used.push_back(i);
    for (size_t i = 0; i < test.lines.size(); ++i) test_used.push_back(i);
  }
  if (train.use_case == "OBJECT_LOCALIZATION") {
    return fail(Status::InvalidArgument(
        "This Osprey build trains image-classification models only; the training manifest "
        "describes object detection (bounding boxes)."));
  }
  std::vector<ManifestLine> train_lines, test_lines;
  for (size_t i : train_used) train_lines.push_back(train.lines[i]);
  for (size_t i : test_used) test_lines.push_back(test.lines[i]);
  Result<engine::TrainingSet> train_set = BuildTrainingSet(train_lines, objects_, {});
  if (!train_set.ok()) return fail(train_set.status());
  Result<engine::TrainingSet> test_set = BuildTrainingSet(test_lines, objects_, train_set->labels);
  if (!test_set.ok()) return fail(test_set.status());
  // Missing images became line errors: copy them back for the validation files.
  for (size_t k = 0; k < train_used.size(); ++k) train.lines[train_used[k]] = train_lines[k];
  for (size_t k = 0; k < test_used.size(); ++k) test.lines[test_used[k]] = test_lines[k];

  std::string prefix = version.output_prefix;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  auto project_name = version.project_arn.substr(version.project_arn.find(":project/") + 9);
  project_name = project_name.substr(0, project_name.find('/'));
  auto key = [&](const std::string& kind) {
    return prefix + kind + "-" + project_name + "-" + version.name + ".json";
  };
  auto put = [&](const std::string& k, const std::string& body, metadata::S3Location* where) {
    Result<storage::ObjectInfo> r =
        objects_.PutObject(version.output_bucket, k, body, {"application/json", {}, ""});
    if (r.ok() && where != nullptr) *where = {version.output_bucket, k};
    return r.status();
  };
  json summary = {{"errors", json::array()},
                  {"statistics", {{"training", LineStatistics(train, train_used)},
                                  {"testing", LineStatistics(test, test_used)}}}};
  Status written = put(key("ManifestSummary"), summary.dump(2), &version.manifest_summary);
  if (written.ok()) {
    written = put(key("TrainingManifestWithValidation"), ValidationManifest(train, train_used),
                  &version.training_validation);
  }
  if (written.ok()) {
    written = put(key("TestingManifestWithValidation"), ValidationManifest(test, test_used),
                  &version.testing_validation);
  }
  if (!written.ok()) {
    return fail(Status::Internal("Could not write to the output bucket " + version.output_bucket +
                                 ": " + written.message()));
  }
  size_t invalid = summary["statistics"]["training"]["invalid_json_lines"].get<size_t>();
  if (invalid * 5 > train_used.size()) {
    return fail(Status::InvalidArgument(
        "The manifest file contains too many invalid rows. Each row's error is in s3://" +
        version.output_bucket + "/" + version.training_validation.key + "."));
  }
  if (train_set->labels.size() < 2) {
    return fail(Status::InvalidArgument(
        "The training data needs at least 2 labels; it has " +
        std::to_string(train_set->labels.size()) + ". Add images of another label."));
  }
  if (test_set->images.empty()) {
    return fail(Status::InvalidArgument(
        "The testing data has no usable image. Add images, or use AutoCreate with more images."));
  }

  std::string artifact_rel = "models/" + project_name + "/" + version.name + "-" +
                             std::to_string(version.creation_ms);
  engine::TrainingOptions options;
  options.output_dir = options_.models_dir.parent_path() / artifact_rel;
  options.backbone_dir = options_.backbone_dir.empty() ? engine::DefaultBackboneDir()
                                                       : options_.backbone_dir;
  options.seed = 1;
  options.time_budget_seconds = options_.training_time_budget_seconds;
  std::error_code ec;
  std::filesystem::remove_all(options.output_dir, ec);  // a leftover of an interrupted run
  std::filesystem::create_directories(options.output_dir.parent_path(), ec);
  StatusObserver observer(versions_, version);
  Result<engine::TrainingReport> report =
      engine::TrainClassifier(*train_set, nullptr, options, &observer);
  if (!report.ok()) return fail(report.status());

  Result<std::unique_ptr<engine::Predictor>> predictor = engine::Predictor::Load(options.output_dir);
  if (!predictor.ok()) return fail(predictor.status());
  std::vector<engine::SkippedImage> skipped;
  Result<engine::EvaluationResult> evaluation =
      engine::EvaluateModel(**predictor, *test_set, &skipped);
  if (!evaluation.ok()) return fail(evaluation.status());
  engine::EvaluationContext context{version.arn, Iso8601(clock_.NowMillis()),
                                    report->num_training_images};
  written = put(key("EvaluationResultSummary"), engine::EvaluationSummaryJson(*evaluation, context),
                &version.evaluation_summary);
  if (written.ok()) {
    written = put(key("TrainingGroundTruth"), GroundTruthSnapshot(train, train_used),
                  &version.training_output);
  }
  if (written.ok()) {
    written = put(key("TestingGroundTruth"), GroundTruthSnapshot(test, test_used),
                  &version.testing_output);
  }
  if (!written.ok()) return fail(Status::Internal("Could not write evaluation files: " + written.message()));
  version.f1_score = evaluation->f1;
  version.artifact_dir = artifact_rel;
  version.task = "classification";
  version.billable_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now() - started).count();
  finish("TRAINING_COMPLETED", "The model is ready to run.");
}

}  // namespace osprey::service

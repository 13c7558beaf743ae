// ModelService without real training: validation, state machine, recovery, policies.
#include "service/model_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "metadata/sqlite_metadata_store.h"
#include "metadata/sqlite_version_store.h"
#include "service/rekognition_service.h"
#include "storage/local_object_store.h"

namespace osprey::service {
namespace {
namespace fs = std::filesystem;

class ModelServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey-models-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string db = (dir_ / "osprey.db").string();
    metadata_ = std::move(metadata::SqliteMetadataStore::Open(db)).value();
    versions_ = std::move(metadata::SqliteVersionStore::Open(db)).value();
    objects_ = std::move(storage::LocalObjectStore::Open(dir_ / "buckets")).value();
    ASSERT_TRUE(objects_->CreateBucket("out-bucket").ok());
    projects_ = std::make_unique<RekognitionService>(*metadata_, *objects_, clock_, ServiceOptions{});
    Reopen();
    project_arn_ = projects_->CreateProject(ctx_, {"p", {}})->project_arn;
  }
  void TearDown() override {
    models_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    models_.reset();
    ModelServiceOptions options;
    options.models_dir = dir_ / "models";
    models_ = std::make_unique<ModelService>(*metadata_, *versions_, *objects_, clock_, options);
  }
  CreateProjectVersionRequest Request(const std::string& name) {
    CreateProjectVersionRequest r;
    r.project_arn = project_arn_;
    r.version_name = name;
    r.output_bucket = "out-bucket";
    r.training_asset = S3Location{"out-bucket", "missing.manifest"};
    r.testing_auto_create = true;
    return r;
  }
  metadata::VersionRecord WaitUntilNot(const std::string& arn, const std::string& status) {
    for (int i = 0; i < 500; ++i) {
      auto v = versions_->GetVersionByArn(arn);
      if (v.ok() && v->status != status) return *v;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << arn << " stuck in " << status;
    return {};
  }

  fs::path dir_;
  FakeClock clock_{1764855000000};
  RequestContext ctx_{"us-east-1", "AK", "rid"};
  std::unique_ptr<metadata::SqliteMetadataStore> metadata_;
  std::unique_ptr<metadata::SqliteVersionStore> versions_;
  std::unique_ptr<storage::LocalObjectStore> objects_;
  std::unique_ptr<RekognitionService> projects_;
  std::unique_ptr<ModelService> models_;
  std::string project_arn_;
};

TEST_F(ModelServiceTest, MissingManifestFailsTrainingWithAnActionableMessage) {
  auto arn = models_->CreateProjectVersion(ctx_, Request("v1"));
  ASSERT_TRUE(arn.ok()) << arn.status().ToString();
  EXPECT_EQ(*arn, "arn:aws:rekognition:us-east-1:000000000000:project/p/version/v1/1764855000000");
  metadata::VersionRecord v = WaitUntilNot(*arn, "TRAINING_IN_PROGRESS");
  EXPECT_EQ(v.status, "TRAINING_FAILED");
  EXPECT_NE(v.status_message.find("s3://out-bucket/missing.manifest"), std::string::npos);
  EXPECT_NE(v.status_message.find("Upload it"), std::string::npos);
  EXPECT_TRUE(v.training_end_ms.has_value());
}

// The first 33 bytes of a PNG: enough for the header check, nothing to decode.
std::string PngHeader(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (uint32_t v : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((v >> shift) & 0xFF);
  }
  return png + std::string("\x08\x02\0\0\0\0\0\0\0", 9);
}

std::string ClassLine(int image, const std::string& label) {
  return R"({"source-ref":"s3://imgs/)" + std::to_string(image) +
         R"(.png","a":1,"a-metadata":{"class-name":")" + label +
         R"(","confidence":1,"type":"groundtruth/image-classification","human-annotated":"yes",)"
         R"("creation-date":"2020-01-01T00:00:00"}})";
}

TEST_F(ModelServiceTest, TooManyInvalidLinesFailBeforeTrainingAndTheFilesSayWhich) {
  ASSERT_TRUE(objects_->CreateBucket("imgs").ok());
  std::string manifest;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(objects_->PutObject("imgs", std::to_string(i) + ".png", PngHeader(100, 100), {}).ok());
    manifest += (i % 3 == 2 ? std::string("{broken") : ClassLine(i, i % 2 ? "cat" : "dog")) + "\n";
  }
  ASSERT_TRUE(objects_->PutObject("out-bucket", "bad.manifest", manifest, {}).ok());
  auto r = Request("v1");
  r.training_asset = S3Location{"out-bucket", "bad.manifest"};
  r.output_prefix = "out";
  auto arn = models_->CreateProjectVersion(ctx_, r);
  ASSERT_TRUE(arn.ok()) << arn.status().ToString();
  metadata::VersionRecord v = WaitUntilNot(*arn, "TRAINING_IN_PROGRESS");
  EXPECT_EQ(v.status, "TRAINING_FAILED");
  EXPECT_NE(v.status_message.find("ERROR_TOO_MANY_RECORDS_IN_ERROR"), std::string::npos)
      << v.status_message;
  EXPECT_NE(v.status_message.find("s3://out-bucket/out/TrainingManifestWithValidation-p-v1.json"),
            std::string::npos) << v.status_message;
  auto validation = objects_->GetObject("out-bucket", "out/TrainingManifestWithValidation-p-v1.json");
  ASSERT_TRUE(validation.ok());
  EXPECT_NE(validation->find("ERROR_INVALID_JSON_LINE"), std::string::npos);
  auto summary = objects_->GetObject("out-bucket", "out/ManifestSummary-p-v1.json");
  ASSERT_TRUE(summary.ok());
  EXPECT_NE(summary->find(R"("invalid_json_lines": 3)"), std::string::npos) << *summary;
}

TEST_F(ModelServiceTest, OneLabelFailsWithTooFewLabels) {
  ASSERT_TRUE(objects_->CreateBucket("imgs").ok());
  std::string manifest;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(objects_->PutObject("imgs", std::to_string(i) + ".png", PngHeader(100, 100), {}).ok());
    manifest += ClassLine(i, "cat") + "\n";
  }
  ASSERT_TRUE(objects_->PutObject("out-bucket", "one.manifest", manifest, {}).ok());
  auto r = Request("v1");
  r.training_asset = S3Location{"out-bucket", "one.manifest"};
  auto arn = models_->CreateProjectVersion(ctx_, r);
  ASSERT_TRUE(arn.ok());
  metadata::VersionRecord v = WaitUntilNot(*arn, "TRAINING_IN_PROGRESS");
  EXPECT_EQ(v.status, "TRAINING_FAILED");
  EXPECT_NE(v.status_message.find("ERROR_MANIFEST_TOO_FEW_LABELS"), std::string::npos)
      << v.status_message;
  EXPECT_NE(v.status_message.find("at least 2 labels"), std::string::npos);
}

TEST_F(ModelServiceTest, DatasetsInProgressCannotTrain) {
  metadata::DatasetRecord dataset;
  dataset.project_id = metadata_->GetProjectByArn(project_arn_)->id;
  dataset.arn = project_arn_ + "/dataset/train/1";
  dataset.dataset_type = "TRAIN";
  dataset.status = "UPDATE_IN_PROGRESS";
  ASSERT_TRUE(metadata_->InsertDataset(dataset).ok());
  auto r = Request("v1");
  r.training_asset.reset();
  r.testing_auto_create = false;
  Result<std::string> arn = models_->CreateProjectVersion(ctx_, r);
  EXPECT_EQ(arn.status().code(), StatusCode::kInUse);
  EXPECT_NE(arn.status().message().find("UPDATE_IN_PROGRESS"), std::string::npos);
  EXPECT_EQ(versions_->CountVersionsInStatus("TRAINING_IN_PROGRESS").value(), 0u);
}

TEST_F(ModelServiceTest, CreateValidatesSourcesBucketsAndNames) {
  auto r = Request("v1");
  r.training_asset.reset();
  EXPECT_EQ(models_->CreateProjectVersion(ctx_, r).status().code(), StatusCode::kInvalidArgument);
  r = Request("v1");
  r.testing_auto_create = false;
  EXPECT_EQ(models_->CreateProjectVersion(ctx_, r).status().code(), StatusCode::kInvalidArgument);
  r = Request("v1");
  r.output_bucket = "no-such-bucket";
  EXPECT_EQ(models_->CreateProjectVersion(ctx_, r).status().code(), StatusCode::kInvalidArgument);
  r = Request("v1");
  r.project_arn = project_arn_ + "1";
  EXPECT_EQ(models_->CreateProjectVersion(ctx_, r).status().code(), StatusCode::kNotFound);
  auto first = models_->CreateProjectVersion(ctx_, Request("v1"));
  ASSERT_TRUE(first.ok());
  WaitUntilNot(*first, "TRAINING_IN_PROGRESS");
  EXPECT_EQ(models_->CreateProjectVersion(ctx_, Request("v1")).status().code(), StatusCode::kInUse);
  // A project with versions cannot be deleted.
  EXPECT_EQ(projects_->DeleteProject(ctx_, {project_arn_}).status().code(), StatusCode::kInUse);
}

TEST_F(ModelServiceTest, StateMachineRefusesWrongTransitions) {
  auto arn = models_->CreateProjectVersion(ctx_, Request("v1"));
  ASSERT_TRUE(arn.ok());
  WaitUntilNot(*arn, "TRAINING_IN_PROGRESS");  // TRAINING_FAILED
  EXPECT_EQ(models_->StartProjectVersion({*arn, 1, std::nullopt}).status().code(),
            StatusCode::kInUse);
  EXPECT_EQ(models_->StopProjectVersion(*arn).status().code(), StatusCode::kInUse);
  DetectCustomLabelsRequest detect;
  detect.version_arn = *arn;
  detect.image_bytes = "x";
  EXPECT_EQ(models_->DetectCustomLabels(detect).status().code(), StatusCode::kNotReady);
  EXPECT_EQ(models_->StartProjectVersion({*arn, 2, 1}).status().code(),
            StatusCode::kInvalidArgument);
  auto deleted = models_->DeleteProjectVersion(*arn);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, "DELETING");
  EXPECT_EQ(versions_->GetVersionByArn(*arn).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(projects_->DeleteProject(ctx_, {project_arn_}).ok());
}

TEST_F(ModelServiceTest, RecoverFailsInterruptedTrainings) {
  metadata::VersionRecord v;
  v.project_id = metadata_->GetProjectByArn(project_arn_)->id;
  v.project_arn = project_arn_;
  v.name = "interrupted";
  v.arn = "arn:aws:rekognition:us-east-1:000000000000:project/p/version/interrupted/1";
  v.status = "TRAINING_IN_PROGRESS";
  v.output_bucket = "out-bucket";
  ASSERT_TRUE(versions_->InsertVersion(v).ok());
  Reopen();
  ASSERT_TRUE(models_->Recover().ok());
  auto got = versions_->GetVersionByArn(v.arn);
  EXPECT_EQ(got->status, "TRAINING_FAILED");
  EXPECT_NE(got->status_message.find("interrupted"), std::string::npos);
}

TEST_F(ModelServiceTest, TrainingLimitIsEnforced) {
  metadata::VersionRecord v;
  v.project_id = metadata_->GetProjectByArn(project_arn_)->id;
  v.project_arn = project_arn_;
  v.name = "busy";
  v.arn = "arn:aws:rekognition:us-east-1:000000000000:project/p/version/busy/1";
  v.status = "TRAINING_IN_PROGRESS";
  v.output_bucket = "out-bucket";
  ASSERT_TRUE(versions_->InsertVersion(v).ok());
  EXPECT_EQ(models_->CreateProjectVersion(ctx_, Request("v2")).status().code(),
            StatusCode::kLimitExceeded);
}

TEST_F(ModelServiceTest, PoliciesFollowRevisions) {
  PutProjectPolicyRequest put{project_arn_, "share", "", R"({"Version":"2012-10-17","Statement":[]})"};
  auto revision = models_->PutProjectPolicy(put);
  ASSERT_TRUE(revision.ok());
  EXPECT_EQ(models_->PutProjectPolicy(put).status().code(), StatusCode::kAlreadyExists);
  put.revision_id = "00";
  EXPECT_EQ(models_->PutProjectPolicy(put).status().code(), StatusCode::kInvalidPolicyRevision);
  put.revision_id = *revision;
  auto second = models_->PutProjectPolicy(put);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, *revision);
  auto listed = models_->ListProjectPolicies(project_arn_, "", 5);
  ASSERT_EQ(listed->policies.size(), 1u);
  EXPECT_EQ(models_->DeleteProjectPolicy(project_arn_, "share", *revision).code(),
            StatusCode::kInvalidPolicyRevision);
  EXPECT_TRUE(models_->DeleteProjectPolicy(project_arn_, "share", *second).ok());
  EXPECT_EQ(models_->DeleteProjectPolicy(project_arn_, "share", "").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace osprey::service

#include "metadata/sqlite_version_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "metadata/sqlite_metadata_store.h"

namespace osprey::metadata {
namespace {
namespace fs = std::filesystem;

class SqliteVersionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey-ver-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string path = (dir_ / "osprey.db").string();
    projects_ = std::move(SqliteMetadataStore::Open(path)).value();
    versions_ = std::move(SqliteVersionStore::Open(path)).value();
    project_ = *projects_->InsertProject({0, "p", "arn:p", 1, "CREATED"});
  }
  void TearDown() override { fs::remove_all(dir_); }

  VersionRecord Version(const std::string& name) {
    VersionRecord v;
    v.project_id = project_.id;
    v.project_arn = project_.arn;
    v.name = name;
    v.arn = "arn:p/version/" + name;
    v.status = "TRAINING_IN_PROGRESS";
    v.output_bucket = "out";
    v.training_input = {"train-bucket", "a/train.manifest"};
    v.testing_auto_create = true;
    return v;
  }

  fs::path dir_;
  std::unique_ptr<SqliteMetadataStore> projects_;
  std::unique_ptr<SqliteVersionStore> versions_;
  ProjectRecord project_;
};

TEST_F(SqliteVersionStoreTest, InsertReadUpdateRoundTripsEveryColumn) {
  auto inserted = versions_->InsertVersion(Version("v1"));
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  VersionRecord v = *inserted;
  v.status = "TRAINING_COMPLETED";
  v.f1_score = 0.875;
  v.training_end_ms = 99;
  v.billable_seconds = 7;
  v.evaluation_summary = {"out", "x/EvaluationResultSummary.json"};
  v.min_inference_units = 1;
  ASSERT_TRUE(versions_->UpdateVersion(v).ok());
  auto got = versions_->GetVersionByArn(v.arn);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "TRAINING_COMPLETED");
  EXPECT_DOUBLE_EQ(*got->f1_score, 0.875);
  EXPECT_EQ(got->training_input.bucket, "train-bucket");
  EXPECT_EQ(got->training_input.key, "a/train.manifest");
  EXPECT_TRUE(got->testing_auto_create);
  EXPECT_EQ(got->evaluation_summary.key, "x/EvaluationResultSummary.json");
  EXPECT_EQ(*got->min_inference_units, 1);
  EXPECT_FALSE(got->max_inference_units.has_value());
}

TEST_F(SqliteVersionStoreTest, DuplicateNameAndProjectDeletionAreRefused) {
  ASSERT_TRUE(versions_->InsertVersion(Version("v1")).ok());
  EXPECT_EQ(versions_->InsertVersion(Version("v1")).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(projects_->DeleteProject(project_.id).code(), StatusCode::kInUse);
}

TEST_F(SqliteVersionStoreTest, ListsNewestFirstWithPagesAndNames) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(versions_->InsertVersion(Version("v" + std::to_string(i))).ok());
  auto page = versions_->ListVersions(project_.id, 0, 2, {});
  ASSERT_EQ(page->versions.size(), 2u);
  EXPECT_EQ(page->versions[0].name, "v4");
  auto next = versions_->ListVersions(project_.id, *page->next_after_id, 10, {});
  ASSERT_EQ(next->versions.size(), 3u);
  EXPECT_EQ(next->versions[0].name, "v2");
  auto named = versions_->ListVersions(project_.id, 0, 10, {"v1", "v3"});
  ASSERT_EQ(named->versions.size(), 2u);
  EXPECT_EQ(named->versions[0].name, "v3");
}

TEST_F(SqliteVersionStoreTest, TransitionsCheckTheCurrentState) {
  auto v = *versions_->InsertVersion(Version("v1"));
  EXPECT_EQ(versions_->TransitionVersion(v.id, {"TRAINING_COMPLETED"}, "STARTING", "").code(),
            StatusCode::kInUse);
  ASSERT_TRUE(versions_->TransitionVersion(v.id, {"TRAINING_IN_PROGRESS"}, "TRAINING_FAILED", "m").ok());
  EXPECT_EQ(versions_->GetVersionByArn(v.arn)->status_message, "m");
  EXPECT_EQ(*versions_->CountVersionsInStatus("TRAINING_FAILED"), 1u);
  ASSERT_TRUE(versions_->DeleteVersion(v.id).ok());
  EXPECT_TRUE(projects_->DeleteProject(project_.id).ok());
}

}  // namespace
}  // namespace osprey::metadata

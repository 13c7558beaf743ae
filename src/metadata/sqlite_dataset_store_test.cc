#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "metadata/sqlite_metadata_store.h"

namespace osprey::metadata {
namespace {
namespace fs = std::filesystem;

class SqliteDatasetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey-dsmeta-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Reopen();
    auto project = store_->InsertProject(
        {0, "p", "arn:aws:rekognition:us-east-1:000000000000:project/p/1", 1, "CREATED"});
    ASSERT_TRUE(project.ok());
    project_id_ = project->id;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Reopen() {
    store_.reset();
    store_ = std::move(SqliteMetadataStore::Open((dir_ / "osprey.db").string())).value();
  }
  DatasetRecord Dataset(const std::string& type, const std::string& status = "CREATE_COMPLETE") {
    DatasetRecord d;
    d.project_id = project_id_;
    d.arn = "arn:aws:rekognition:us-east-1:000000000000:project/p/dataset/" +
            std::string(type == "TRAIN" ? "train" : "test") + "/2";
    d.dataset_type = type;
    d.status = status;
    auto inserted = store_->InsertDataset(d);
    EXPECT_TRUE(inserted.ok()) << inserted.status().ToString();
    return inserted.ok() ? *inserted : d;
  }
  static EntryRecord Entry(int64_t seq, const std::string& ref, std::vector<EntryLabel> labels,
                           bool errors = false) {
    EntryRecord e;
    e.id = seq;
    e.source_ref = ref;
    e.line = "{\"source-ref\":\"" + ref + "\"}";
    e.is_labeled = !labels.empty();
    e.has_errors = errors;
    e.labels = std::move(labels);
    return e;
  }

  fs::path dir_;
  std::unique_ptr<SqliteMetadataStore> store_;
  int64_t project_id_ = 0;
};

TEST_F(SqliteDatasetStoreTest, OneDatasetPerTypeAndProjectDeleteIsRestricted) {
  DatasetRecord train = Dataset("TRAIN");
  DatasetRecord again = train;
  again.arn += "0";
  EXPECT_EQ(store_->InsertDataset(again).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->DeleteProject(project_id_).code(), StatusCode::kInUse)
      << store_->DeleteProject(project_id_).ToString();
  auto listed = store_->ListProjectDatasets(project_id_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].arn, train.arn);
  ASSERT_TRUE(store_->DeleteDataset(train.id).ok());
  EXPECT_TRUE(store_->DeleteProject(project_id_).ok());
  DatasetRecord orphan = train;
  orphan.project_id = 9999;
  EXPECT_EQ(store_->InsertDataset(orphan).status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteDatasetStoreTest, StageCommitMergesBySourceRefAndFilters) {
  DatasetRecord train = Dataset("TRAIN");
  auto dups = store_->StageEntries(
      "job1", {Entry(0, "s3://b/a.jpg", {{"cat", false}}), Entry(1, "s3://b/b.jpg", {}),
               Entry(2, "s3://b/a.jpg", {{"dog", false}}),
               Entry(3, "s3://b/c.jpg", {{"dog", true}, {"cat", false}}, true)});
  ASSERT_TRUE(dups.ok());
  EXPECT_EQ(*dups, 1u);
  // Nothing is visible before the commit.
  EXPECT_EQ(store_->GetDatasetStats(train.id)->total_entries, 0);
  ASSERT_TRUE(store_->CommitStagedEntries("job1", train.id, "b").ok());
  auto stats = store_->GetDatasetStats(train.id);
  EXPECT_EQ(stats->total_entries, 3);
  EXPECT_EQ(stats->labeled_entries, 2);
  EXPECT_EQ(stats->error_entries, 1);
  EXPECT_EQ(stats->total_labels, 2);

  EntryFilter filter;
  filter.contains_labels = {"dog"};
  auto page = store_->ListEntries(train.id, filter, 0, 10);
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].source_ref, "s3://b/c.jpg");
  filter = {};
  filter.labeled = false;
  EXPECT_EQ(store_->ListEntries(train.id, filter, 0, 10)->entries.size(), 1u);
  filter = {};
  filter.source_ref_contains = "a.j";
  EXPECT_EQ(store_->ListEntries(train.id, filter, 0, 10)->entries.size(), 1u);
  filter = {};
  filter.has_errors = true;
  EXPECT_EQ(store_->ListEntries(train.id, filter, 0, 10)->entries.size(), 1u);
  auto first = store_->ListEntries(train.id, {}, 0, 2);
  ASSERT_EQ(first->entries.size(), 2u);
  ASSERT_TRUE(first->next_after_id);
  EXPECT_EQ(store_->ListEntries(train.id, {}, *first->next_after_id, 2)->entries.size(), 1u);

  // An update replaces a.jpg's labels.
  ASSERT_TRUE(store_->StageEntries("job2", {Entry(0, "s3://b/a.jpg", {{"bird", false}})}).ok());
  ASSERT_TRUE(store_->CommitStagedEntries("job2", train.id, "b").ok());
  auto labels = store_->ListLabelStats(train.id);
  ASSERT_EQ(labels->size(), 3u);
  EXPECT_EQ((*labels)[0].label, "bird");
  EXPECT_EQ((*labels)[2].label, "dog");
  EXPECT_EQ((*labels)[2].bounding_box_entry_count, 1);
  EXPECT_EQ(store_->GetDatasetStats(train.id)->total_entries, 3);
}

TEST_F(SqliteDatasetStoreTest, CopyMoveAndForEach) {
  DatasetRecord train = Dataset("TRAIN");
  ASSERT_TRUE(store_->StageEntries("j", {Entry(0, "s3://b/1", {{"x", false}}),
                                         Entry(1, "s3://b/2", {{"y", true}})}).ok());
  ASSERT_TRUE(store_->CommitStagedEntries("j", train.id, "b").ok());
  DatasetRecord test = Dataset("TEST");
  std::vector<EntryRecord> seen;
  ASSERT_TRUE(store_->ForEachEntry(train.id, [&](const EntryRecord& e) {
    seen.push_back(e);
    return true;
  }).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].labels[0].name, "y");
  EXPECT_TRUE(seen[1].labels[0].has_box);
  ASSERT_TRUE(store_->MoveEntries(train.id, test.id, {seen[0].id}).ok());
  EXPECT_EQ(store_->GetDatasetStats(train.id)->total_entries, 1);
  EXPECT_EQ(store_->GetDatasetStats(test.id)->total_entries, 1);
  EXPECT_EQ(store_->GetDatasetByArn(test.arn)->image_bucket, "b");
  ASSERT_TRUE(store_->CopyEntries(train.id, test.id).ok());
  EXPECT_EQ(store_->GetDatasetStats(test.id)->total_entries, 2);
  EXPECT_EQ(store_->GetDatasetStats(test.id)->total_labels, 2);
}

TEST_F(SqliteDatasetStoreTest, BusyDatasetsRefuseAndRecoveryFailsThem) {
  DatasetRecord train = Dataset("TRAIN", "CREATE_IN_PROGRESS");
  EXPECT_EQ(store_->BeginDatasetOperation(train.id, "UPDATE_IN_PROGRESS", 5).code(),
            StatusCode::kInUse);
  EXPECT_EQ(store_->DeleteDataset(train.id).code(), StatusCode::kInUse);
  ASSERT_TRUE(store_->StageEntries("j", {Entry(0, "s3://b/1", {})}).ok());
  auto job = store_->InsertJob({0, "dataset-import", train.arn, "RUNNING", "", 1, 1});
  ASSERT_TRUE(job.ok());
  Reopen();  // as after a crash
  auto jobs = store_->FailUnfinishedJobs("interrupted", 7);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(store_->GetJob(job->id)->state, "FAILED");
  auto failed = store_->FailInProgressDatasets("interrupted by restart", 7);
  ASSERT_EQ(failed->size(), 1u);
  DatasetRecord after = *store_->GetDatasetByArn(train.arn);
  EXPECT_EQ(after.status, "CREATE_FAILED");
  EXPECT_EQ(after.status_message, "interrupted by restart");
  EXPECT_EQ(after.status_message_code, "SERVICE_ERROR");
  // Staged rows are gone: committing them now adds nothing.
  ASSERT_TRUE(store_->CommitStagedEntries("j", train.id, "b").ok());
  EXPECT_EQ(store_->GetDatasetStats(train.id)->total_entries, 0);
  EXPECT_TRUE(store_->BeginDatasetOperation(train.id, "UPDATE_IN_PROGRESS", 8).ok());
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

TEST_F(SqliteDatasetStoreTest, DeleteInProgressEndsInDeletionNowOrAtRecovery) {
  DatasetRecord train = Dataset("TRAIN");
  ASSERT_TRUE(store_->SetTags(train.arn, {{"k", "v"}}, 50).ok());
  ASSERT_TRUE(store_->StageEntries("j", {Entry(0, "s3://b/1", {{"cat", false}})}).ok());
  ASSERT_TRUE(store_->CommitStagedEntries("j", train.id, "b").ok());
  ASSERT_TRUE(store_->BeginDatasetOperation(train.id, "DELETE_IN_PROGRESS", 5).ok());
  EXPECT_EQ(store_->GetDatasetByArn(train.arn)->status, "DELETE_IN_PROGRESS");
  EXPECT_EQ(store_->BeginDatasetOperation(train.id, "UPDATE_IN_PROGRESS", 6).code(),
            StatusCode::kInUse);
  ASSERT_TRUE(store_->DeleteDataset(train.id).ok());
  EXPECT_EQ(store_->GetDatasetByArn(train.arn).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetTags(train.arn)->empty());

  // Stopped before the deletion ran: start-up recovery finishes it, tags and entries included.
  DatasetRecord test = Dataset("TEST");
  ASSERT_TRUE(store_->SetTags(test.arn, {{"k", "v"}}, 50).ok());
  ASSERT_TRUE(store_->StageEntries("j2", {Entry(0, "s3://b/2", {{"dog", false}})}).ok());
  ASSERT_TRUE(store_->CommitStagedEntries("j2", test.id, "b").ok());
  ASSERT_TRUE(store_->BeginDatasetOperation(test.id, "DELETE_IN_PROGRESS", 7).ok());
  Reopen();
  auto failed = store_->FailInProgressDatasets("interrupted", 8);
  ASSERT_TRUE(failed.ok());
  EXPECT_TRUE(failed->empty());  // deleted, not failed
  EXPECT_EQ(store_->GetDatasetByArn(test.arn).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetTags(test.arn)->empty());
  EXPECT_TRUE(store_->DeleteProject(project_id_).ok());
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

}  // namespace
}  // namespace osprey::metadata

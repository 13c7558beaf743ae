#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "jobs/job_runner.h"
#include "metadata/sqlite_metadata_store.h"
#include "service/rekognition_service.h"
#include "storage/local_object_store.h"

namespace osprey::service {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string PngHeader(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (uint32_t v : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((v >> shift) & 0xFF);
  }
  return png + std::string("\x08\x02\0\0\0\0\0\0\0", 9);
}

std::string Line(const std::string& ref, const std::string& label) {
  return json{{"source-ref", ref},
              {"l", 1},
              {"l-metadata",
               {{"confidence", 1}, {"class-name", label}, {"human-annotated", "yes"},
                {"creation-date", "2024-01-01T00:00:00"},
                {"type", "groundtruth/image-classification"}}}}
      .dump();
}

class DatasetServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey-dssvc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    metadata_ = std::move(metadata::SqliteMetadataStore::Open((dir_ / "db").string())).value();
    objects_ = std::move(storage::LocalObjectStore::Open(dir_ / "buckets")).value();
    service_ = std::make_unique<RekognitionService>(*metadata_, *objects_, clock_, ServiceOptions{});
    ASSERT_TRUE(objects_->CreateBucket("imgs").ok());
    ASSERT_TRUE(objects_->CreateBucket("other").ok());
    for (int image_idx = 0; image_idx < 30; ++image_idx) {
      ASSERT_TRUE(objects_->PutObject("imgs", Key(image_idx), PngHeader(128, 128), {}).ok());
    }
    ASSERT_TRUE(objects_->PutObject("other", "o.png", PngHeader(128, 128), {}).ok());
    project_arn_ = service_->CreateProject(ctx_, {"p", {}})->project_arn;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Key(int image_idx) { return "i/" + std::to_string(image_idx) + ".png"; }
  static std::string Ref(int image_idx) { return "s3://imgs/" + Key(image_idx); }
  // `count` lines over refs [first, first+count), labels alternating a/b/c.
  static std::string Lines(int first, int count) {
    std::string text;
    for (int image_idx = first; image_idx < first + count; ++image_idx) {
      text += Line(Ref(image_idx), std::string(1, static_cast<char>('a' + image_idx % 3))) + "\n";
    }
    return text;
  }
  std::string CreateFromManifest(const std::string& type, const std::string& text) {
    EXPECT_TRUE(objects_->PutObject("other", "m.manifest", text, {}).ok());
    CreateDatasetRequest request{project_arn_, type, ManifestObject{"other", "m.manifest", ""},
                                 "", {}};
    auto created = service_->CreateDataset(ctx_, request);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    clock_.Advance(1);
    return created.ok() ? created->dataset_arn : "";
  }
  DatasetDescription Describe(const std::string& arn) {
    return service_->DescribeDataset(ctx_, {arn})->description;
  }

  fs::path dir_;
  FakeClock clock_{1700000000000};
  std::unique_ptr<metadata::SqliteMetadataStore> metadata_;
  std::unique_ptr<storage::LocalObjectStore> objects_;
  std::unique_ptr<RekognitionService> service_;
  RequestContext ctx_{"us-west-2", "AK", "rid"};
  std::string project_arn_;
};

TEST_F(DatasetServiceTest, EmptyDatasetsAndProjectRules) {
  auto train = service_->CreateDataset(ctx_, {project_arn_, "TRAIN", std::nullopt, "", {}});
  ASSERT_TRUE(train.ok());
  EXPECT_EQ(train->dataset_arn,
            "arn:aws:rekognition:us-west-2:000000000000:project/p/dataset/train/1700000000000");
  EXPECT_EQ(Describe(train->dataset_arn).status, "CREATE_COMPLETE");
  EXPECT_EQ(service_->CreateDataset(ctx_, {project_arn_, "TRAIN", std::nullopt, "", {}})
                .status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(service_->CreateDataset(ctx_, {project_arn_ + "1", "TEST", std::nullopt, "", {}})
                .status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->CreateDataset(ctx_, {project_arn_, "TEST",
                                           ManifestObject{"other", "nope", ""}, "", {}})
                .status().code(), StatusCode::kInvalidS3Object);
  auto projects = service_->DescribeProjects(ctx_, {});
  ASSERT_EQ(projects->projects[0].datasets.size(), 1u);
  EXPECT_EQ(projects->projects[0].datasets[0].dataset_type, "TRAIN");
  EXPECT_EQ(service_->DeleteProject(ctx_, {project_arn_}).status().code(), StatusCode::kInUse);
  EXPECT_TRUE(service_->TagResource(ctx_, {train->dataset_arn, {{"k", "v"}}}).ok());
  EXPECT_TRUE(service_->DeleteDataset(ctx_, {train->dataset_arn}).ok());
  EXPECT_EQ(service_->DescribeDataset(ctx_, {train->dataset_arn}).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(service_->DeleteProject(ctx_, {project_arn_}).ok());
}

TEST_F(DatasetServiceTest, ImportFlagsBadLinesAndListsEntriesAndLabels) {
  std::string text = Lines(0, 9) + "{broken\n" + Line("s3://imgs/missing.png", "a") + "\n";
  std::string arn = CreateFromManifest("TRAIN", text);
  DatasetDescription d = Describe(arn);
  EXPECT_EQ(d.status, "CREATE_COMPLETE");
  EXPECT_EQ(d.status_message_code, "SUCCESS");
  EXPECT_EQ(d.stats.total_entries, 10);
  EXPECT_EQ(d.stats.error_entries, 1);
  EXPECT_EQ(d.stats.labeled_entries, 10);
  EXPECT_EQ(d.stats.total_labels, 3);

  ListDatasetEntriesRequest errors;
  errors.dataset_arn = arn;
  errors.has_errors = true;
  auto listed = service_->ListDatasetEntries(ctx_, errors);
  ASSERT_EQ(listed->entries.size(), 1u);
  EXPECT_NE(listed->entries[0].find("ERROR_INVALID_IMAGE"), std::string::npos);
  ListDatasetEntriesRequest page;
  page.dataset_arn = arn;
  page.max_results = 4;
  page.contains_labels = {"a", "b"};
  auto first = service_->ListDatasetEntries(ctx_, page);
  ASSERT_EQ(first->entries.size(), 4u);
  page.next_token = first->next_token;
  auto second = service_->ListDatasetEntries(ctx_, page);
  EXPECT_EQ(second->entries.size(), 3u);  // a: 0,3,6,missing; b: 1,4,7
  EXPECT_TRUE(second->next_token.empty());
  page.next_token = "forged";
  EXPECT_EQ(service_->ListDatasetEntries(ctx_, page).status().code(),
            StatusCode::kInvalidPaginationToken);

  auto labels = service_->ListDatasetLabels(ctx_, {arn, "", 2});
  ASSERT_EQ(labels->labels.size(), 2u);
  EXPECT_EQ(labels->labels[0].label_name, "a");
  EXPECT_EQ(labels->labels[0].entry_count, 4);
  auto rest = service_->ListDatasetLabels(ctx_, {arn, labels->next_token, 2});
  ASSERT_EQ(rest->labels.size(), 1u);
  EXPECT_TRUE(rest->next_token.empty());
}

TEST_F(DatasetServiceTest, TooManyBadLinesFailsTheCreate) {
  std::string arn = CreateFromManifest("TRAIN", Lines(0, 3) + "x\ny\n");
  DatasetDescription d = Describe(arn);
  EXPECT_EQ(d.status, "CREATE_FAILED");
  EXPECT_EQ(d.status_message, "The manifest file has too many terminal errors.");
  EXPECT_EQ(d.status_message_code, "CLIENT_ERROR");
  EXPECT_EQ(d.stats.total_entries, 0);
  std::string empty = CreateFromManifest("TEST", "");
  EXPECT_EQ(Describe(empty).status_message, "The manifest file is empty.");
}

TEST_F(DatasetServiceTest, UpdateMergesBySourceRefAndFailedUpdateKeepsContents) {
  std::string arn = CreateFromManifest("TRAIN", Lines(0, 5));
  std::string update = Line(Ref(0), "zebra") + "\n" + Lines(5, 2);
  ASSERT_TRUE(service_->UpdateDatasetEntries(ctx_, {arn, update}).ok());
  DatasetDescription d = Describe(arn);
  EXPECT_EQ(d.status, "UPDATE_COMPLETE");
  EXPECT_EQ(d.stats.total_entries, 7);
  ListDatasetEntriesRequest zebra;
  zebra.dataset_arn = arn;
  zebra.contains_labels = {"zebra"};
  EXPECT_EQ(service_->ListDatasetEntries(ctx_, zebra)->entries.size(), 1u);

  ASSERT_TRUE(service_->UpdateDatasetEntries(ctx_, {arn, Line("s3://other/o.png", "x")}).ok());
  d = Describe(arn);
  EXPECT_EQ(d.status, "UPDATE_FAILED");
  EXPECT_EQ(d.status_message, "The manifest file contains images from multiple S3 buckets.");
  EXPECT_EQ(d.stats.total_entries, 7);
}

TEST_F(DatasetServiceTest, DistributeMovesAStratifiedFifthAndCopyDuplicates) {
  std::string train = CreateFromManifest("TRAIN", Lines(0, 30));
  auto test = service_->CreateDataset(ctx_, {project_arn_, "TEST", std::nullopt, "", {}});
  ASSERT_TRUE(test.ok());
  EXPECT_EQ(service_->DistributeDatasetEntries(ctx_, {{train}}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(service_->DistributeDatasetEntries(ctx_, {{train, test->dataset_arn}}).ok());
  EXPECT_EQ(Describe(train).status, "UPDATE_COMPLETE");
  EXPECT_EQ(Describe(train).stats.total_entries, 24);
  EXPECT_EQ(Describe(test->dataset_arn).stats.total_entries, 6);
  EXPECT_EQ(Describe(test->dataset_arn).stats.total_labels, 3);
  // The test dataset is no longer empty.
  EXPECT_EQ(service_->DistributeDatasetEntries(ctx_, {{test->dataset_arn, train}}).code(),
            StatusCode::kInvalidArgument);

  auto other = service_->CreateProject(ctx_, {"q", {}});
  auto copy = service_->CreateDataset(ctx_, {other->project_arn, "TRAIN", std::nullopt, train, {}});
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(Describe(copy->dataset_arn).status, "CREATE_COMPLETE");
  EXPECT_EQ(Describe(copy->dataset_arn).stats.total_entries, 24);
}

TEST_F(DatasetServiceTest, DistributeWithTooFewLabeledImagesFails) {
  std::string train = CreateFromManifest("TRAIN", Lines(0, 1));
  auto test = service_->CreateDataset(ctx_, {project_arn_, "TEST", std::nullopt, "", {}});
  ASSERT_TRUE(service_->DistributeDatasetEntries(ctx_, {{train, test->dataset_arn}}).ok());
  DatasetDescription d = Describe(train);
  EXPECT_EQ(d.status, "UPDATE_FAILED");
  EXPECT_EQ(d.status_message,
            "The manifest file doesn't have enough labeled images to distribute the dataset.");
}

TEST_F(DatasetServiceTest, ManifestRemovedBeforeTheJobRunsFailsTheCreate) {
  jobs::JobRunner runner(*metadata_, clock_, {/*workers=*/1, /*max_queued=*/4});
  service_->set_jobs(&runner);
  std::mutex gate;
  gate.lock();
  ASSERT_TRUE(runner.Submit({"block", "x"}, [&](int64_t) {
    std::lock_guard wait(gate);
    return Status::Ok();
  }).ok());
  std::string arn = CreateFromManifest("TRAIN", Lines(0, 5));
  EXPECT_EQ(Describe(arn).status, "CREATE_IN_PROGRESS");
  ListDatasetEntriesRequest list;
  list.dataset_arn = arn;
  EXPECT_EQ(service_->ListDatasetEntries(ctx_, list).status().code(), StatusCode::kNotReady);
  ASSERT_TRUE(objects_->DeleteObject("other", "m.manifest").ok());
  gate.unlock();
  runner.WaitIdle();
  DatasetDescription d = Describe(arn);
  EXPECT_EQ(d.status, "CREATE_FAILED");
  EXPECT_EQ(d.status_message, "The manifest file extension or contents are invalid.");
  EXPECT_EQ(d.status_message_code, "CLIENT_ERROR");
  service_->set_jobs(nullptr);
}

TEST_F(DatasetServiceTest, BackgroundJobsAndRecoveryAfterACrash) {
  jobs::JobRunner runner(*metadata_, clock_);
  service_->set_jobs(&runner);
  std::string arn = CreateFromManifest("TRAIN", Lines(0, 20));
  runner.WaitIdle();
  EXPECT_EQ(Describe(arn).status, "CREATE_COMPLETE");
  // Simulate a process killed mid-update.
  auto record = metadata_->GetDatasetByArn(arn);
  ASSERT_TRUE(metadata_->BeginDatasetOperation(record->id, "UPDATE_IN_PROGRESS", 1).ok());
  EXPECT_EQ(service_->DeleteDataset(ctx_, {arn}).code(), StatusCode::kInUse);
  EXPECT_EQ(service_->UpdateDatasetEntries(ctx_, {arn, Lines(0, 1)}).code(), StatusCode::kInUse);
  ListDatasetEntriesRequest list;
  list.dataset_arn = arn;
  EXPECT_EQ(service_->ListDatasetEntries(ctx_, list).status().code(), StatusCode::kInUse);
  ASSERT_TRUE(service_->RecoverInterruptedDatasetOperations().ok());
  DatasetDescription d = Describe(arn);
  EXPECT_EQ(d.status, "UPDATE_FAILED");
  EXPECT_EQ(d.status_message_code, "SERVICE_ERROR");
  EXPECT_FALSE(d.status_message.empty());
  EXPECT_EQ(d.stats.total_entries, 20);
  service_->set_jobs(nullptr);
}

TEST_F(DatasetServiceTest, DeleteShowsDeleteInProgressUntilTheDatasetIsGone) {
  std::string arn = CreateFromManifest("TRAIN", Lines(0, 5));
  ASSERT_TRUE(service_->TagResource(ctx_, {arn, {{"k", "v"}}}).ok());
  jobs::JobRunner runner(*metadata_, clock_, {/*workers=*/1, /*max_queued=*/4});
  service_->set_jobs(&runner);
  std::mutex gate;
  gate.lock();
  ASSERT_TRUE(runner.Submit({"block", "x"}, [&](int64_t) {
    std::lock_guard wait(gate);
    return Status::Ok();
  }).ok());

  ASSERT_TRUE(service_->DeleteDataset(ctx_, {arn}).ok());
  DatasetDescription d = Describe(arn);
  EXPECT_EQ(d.status, "DELETE_IN_PROGRESS");
  EXPECT_EQ(d.stats.total_entries, 5);
  ListDatasetEntriesRequest list;
  list.dataset_arn = arn;
  EXPECT_EQ(service_->ListDatasetEntries(ctx_, list).status().code(), StatusCode::kInUse);
  EXPECT_EQ(service_->UpdateDatasetEntries(ctx_, {arn, Lines(5, 1)}).code(), StatusCode::kInUse);
  EXPECT_EQ(service_->DeleteProject(ctx_, {project_arn_}).status().code(), StatusCode::kInUse);
  // A repeated delete is accepted (it queues the deletion again) and changes nothing visible.
  ASSERT_TRUE(service_->DeleteDataset(ctx_, {arn}).ok());
  EXPECT_EQ(Describe(arn).status, "DELETE_IN_PROGRESS");

  gate.unlock();
  runner.WaitIdle();
  EXPECT_EQ(service_->DescribeDataset(ctx_, {arn}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->DeleteDataset(ctx_, {arn}).code(), StatusCode::kNotFound);
  EXPECT_TRUE(metadata_->GetTags(arn)->empty());
  EXPECT_TRUE(service_->DeleteProject(ctx_, {project_arn_}).ok());
  service_->set_jobs(nullptr);
}

TEST_F(DatasetServiceTest, DeleteOfABusyDatasetIsRefusedAndAFullQueueDeletesInline) {
  std::string arn = CreateFromManifest("TRAIN", Lines(0, 5));
  auto record = metadata_->GetDatasetByArn(arn);
  ASSERT_TRUE(metadata_->BeginDatasetOperation(record->id, "UPDATE_IN_PROGRESS", 1).ok());
  EXPECT_EQ(service_->DeleteDataset(ctx_, {arn}).code(), StatusCode::kInUse);
  EXPECT_EQ(Describe(arn).status, "UPDATE_IN_PROGRESS");  // untouched
  ASSERT_TRUE(metadata_->SetDatasetStatus(record->id, "UPDATE_COMPLETE", "", "SUCCESS", 2).ok());

  jobs::JobRunner runner(*metadata_, clock_, {/*workers=*/1, /*max_queued=*/1});
  service_->set_jobs(&runner);
  std::mutex gate;
  gate.lock();
  std::atomic<bool> started{false};
  auto block = [&](int64_t) {
    started = true;
    std::lock_guard wait(gate);
    return Status::Ok();
  };
  ASSERT_TRUE(runner.Submit({"block", "x"}, block).ok());
  while (!started) std::this_thread::yield();
  ASSERT_TRUE(runner.Submit({"block", "y"}, block).ok());  // fills the one queue slot
  ASSERT_TRUE(service_->DeleteDataset(ctx_, {arn}).ok());
  EXPECT_EQ(service_->DescribeDataset(ctx_, {arn}).status().code(), StatusCode::kNotFound);
  gate.unlock();
  runner.WaitIdle();
  service_->set_jobs(nullptr);
}

// A stop between DeleteDataset and its job: the next start-up finishes the deletion.
TEST_F(DatasetServiceTest, RestartDuringDeletionFinishesIt) {
  std::string arn = CreateFromManifest("TRAIN", Lines(0, 5));
  ASSERT_TRUE(service_->TagResource(ctx_, {arn, {{"k", "v"}}}).ok());
  {
    jobs::JobRunner runner(*metadata_, clock_, {/*workers=*/1, /*max_queued=*/4});
    service_->set_jobs(&runner);
    std::mutex gate;
    gate.lock();
    std::atomic<bool> started{false};
    ASSERT_TRUE(runner.Submit({"block", "x"}, [&](int64_t) {
      started = true;
      std::lock_guard wait(gate);
      return Status::Ok();
    }).ok());
    while (!started) std::this_thread::yield();
    ASSERT_TRUE(service_->DeleteDataset(ctx_, {arn}).ok());
    EXPECT_EQ(Describe(arn).status, "DELETE_IN_PROGRESS");
    // Stop as a killed process would: the queued deletion never runs. Shutdown abandons queued
    // jobs, and the gate opens only once it has begun refusing work.
    std::thread stop([&] { runner.Shutdown(); });
    while (runner.Submit({"probe", "y"}, [](int64_t) { return Status::Ok(); }).status().code() !=
           StatusCode::kNotReady) {
      std::this_thread::yield();
    }
    gate.unlock();
    stop.join();
    service_->set_jobs(nullptr);
  }
  EXPECT_EQ(Describe(arn).status, "DELETE_IN_PROGRESS");

  // Start-up, in the order server_app.cc runs it, on a reopened database.
  service_.reset();
  metadata_.reset();
  metadata_ = std::move(metadata::SqliteMetadataStore::Open((dir_ / "db").string())).value();
  service_ = std::make_unique<RekognitionService>(*metadata_, *objects_, clock_, ServiceOptions{});
  jobs::JobRunner restarted(*metadata_, clock_);
  auto interrupted = restarted.RecoverInterrupted("Interrupted because the server stopped.");
  ASSERT_TRUE(interrupted.ok());
  bool delete_job_seen = false;
  for (const auto& job : *interrupted) delete_job_seen |= job.kind == "dataset-delete";
  EXPECT_TRUE(delete_job_seen);
  ASSERT_TRUE(service_->RecoverInterruptedDatasetOperations().ok());
  EXPECT_EQ(service_->DescribeDataset(ctx_, {arn}).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(metadata_->GetTags(arn)->empty());
  EXPECT_TRUE(service_->DeleteProject(ctx_, {project_arn_}).ok());
}

}  // namespace
}  // namespace osprey::service

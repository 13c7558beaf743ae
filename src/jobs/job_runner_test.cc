#include "jobs/job_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "metadata/sqlite_metadata_store.h"

namespace osprey::jobs {
namespace {
namespace fs = std::filesystem;

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey-jobs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(metadata::SqliteMetadataStore::Open((dir_ / "db").string())).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  FakeClock clock_{1000};
  std::unique_ptr<metadata::SqliteMetadataStore> store_;
};

TEST_F(JobRunnerTest, RunsJobsAndRecordsOutcomes) {
  JobRunner runner(*store_, clock_, {/*workers=*/2, /*max_queued=*/16});
  std::atomic<int> ran{0};
  auto ok = runner.Submit({"test", "arn:a"}, [&](int64_t) {
    ++ran;
    return Status::Ok();
  });
  auto failed = runner.Submit({"test", "arn:b"}, [&](int64_t) {
    ++ran;
    return Status::InvalidArgument("bad input");
  });
  auto threw = runner.Submit({"test", "arn:c"}, [&](int64_t) -> Status {
    ++ran;
    throw std::runtime_error("boom");
  });
  ASSERT_TRUE(ok.ok() && failed.ok() && threw.ok());
  runner.WaitIdle();
  EXPECT_EQ(ran.load(), 3);
  EXPECT_EQ(store_->GetJob(*ok)->state, "SUCCEEDED");
  EXPECT_EQ(store_->GetJob(*failed)->state, "FAILED");
  EXPECT_NE(store_->GetJob(*failed)->message.find("bad input"), std::string::npos);
  EXPECT_NE(store_->GetJob(*threw)->message.find("boom"), std::string::npos);
}

TEST_F(JobRunnerTest, BoundedQueueRefusesExtraJobs) {
  JobRunner runner(*store_, clock_, {/*workers=*/1, /*max_queued=*/1});
  std::mutex gate;
  gate.lock();
  std::atomic<bool> started{false};
  ASSERT_TRUE(runner.Submit({"t", "a"}, [&](int64_t) {
    started = true;
    std::lock_guard wait(gate);
    return Status::Ok();
  }).ok());
  while (!started) std::this_thread::yield();
  ASSERT_TRUE(runner.Submit({"t", "b"}, [](int64_t) { return Status::Ok(); }).ok());
  EXPECT_EQ(runner.Submit({"t", "c"}, [](int64_t) { return Status::Ok(); }).status().code(),
            StatusCode::kLimitExceeded);
  gate.unlock();
  runner.WaitIdle();
}

TEST_F(JobRunnerTest, RecoveryFailsJobsLeftByACrash) {
  auto left = store_->InsertJob({0, "dataset-import", "arn:x", "RUNNING", "", 1, 1});
  ASSERT_TRUE(left.ok());
  JobRunner runner(*store_, clock_);
  auto recovered = runner.RecoverInterrupted("interrupted by a restart");
  ASSERT_TRUE(recovered.ok());
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ((*recovered)[0].kind, "dataset-import");
  EXPECT_EQ(store_->GetJob(left->id)->state, "FAILED");
  EXPECT_EQ(store_->GetJob(left->id)->message, "interrupted by a restart");
  runner.Shutdown();
  EXPECT_EQ(runner.Submit({"t", "a"}, [](int64_t) { return Status::Ok(); }).status().code(),
            StatusCode::kNotReady);
}

}  // namespace
}  // namespace osprey::jobs

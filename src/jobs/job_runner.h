// JobRunner: a small bounded worker pool for long operations that outlive their request
// (dataset imports and updates now, model training later). Each job is a row in the metadata
// store (QUEUED -> RUNNING -> SUCCEEDED | FAILED, with a message), so a crash cannot hide one:
// at start-up RecoverInterrupted() fails every row a previous process left unfinished and
// returns them, and each owner (the dataset service, the trainer) fails its own resource.
//
// Ownership: the runner owns its threads; the store and clock must outlive it. Work functions
// own their captured state. Thread-safe: Submit, WaitIdle and Shutdown may be called from any
// thread (not from inside a job for WaitIdle/Shutdown).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "metadata/metadata_store.h"

namespace osprey::jobs {

struct JobRunnerOptions {
  size_t workers = 2;      // concurrent jobs; imports are I/O + SQLite bound
  size_t max_queued = 64;  // waiting jobs beyond this are refused (LimitExceededException)
};

struct JobSpec {
  std::string kind;          // e.g. "dataset-import"; recovery dispatches on it
  std::string resource_arn;  // the dataset / model version the job works on
};

// The work of one job. Its Status becomes the row's outcome (message on failure).
using JobFn = std::function<Status(int64_t job_id)>;

class JobRunner {
 public:
  JobRunner(metadata::MetadataStore& store, const Clock& clock, JobRunnerOptions options = {});
  ~JobRunner();  // Shutdown()
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Marks every job a previous process left QUEUED or RUNNING as FAILED with `message` and
  // returns them as they were. Call once at start-up, before the first Submit.
  Result<std::vector<metadata::JobRecord>> RecoverInterrupted(const std::string& message);

  // Records the job as QUEUED and runs `work` on a worker thread. Returns the job id, or
  // kLimitExceeded if max_queued jobs are already waiting, or kNotReady after Shutdown().
  Result<int64_t> Submit(const JobSpec& spec, JobFn work);

  // Blocks until no job is queued or running.
  void WaitIdle();
  // Refuses new jobs, waits for the running ones and stops the threads. Jobs still queued are
  // not run; their rows stay QUEUED and the next start-up's RecoverInterrupted fails them.
  void Shutdown();

 private:
  struct Pending {
    int64_t id;
    JobFn work;
  };
  void WorkerLoop();
  void Run(Pending& job);

  metadata::MetadataStore& store_;
  const Clock& clock_;
  const JobRunnerOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;         // a job was queued or shutdown began
  std::condition_variable idle_;         // a job finished
  std::deque<Pending> queue_;            // GUARDED_BY(mu_)
  size_t running_ = 0;                   // GUARDED_BY(mu_)
  bool stopping_ = false;                // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;
};

}  // namespace osprey::jobs

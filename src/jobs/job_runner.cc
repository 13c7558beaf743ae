#include "jobs/job_runner.h"

#include <exception>

namespace osprey::jobs {

JobRunner::JobRunner(metadata::MetadataStore& store, const Clock& clock, JobRunnerOptions options)
    : store_(store), clock_(clock), options_(options) {
  size_t workers = options_.workers == 0 ? 1 : options_.workers;
  for (size_t worker_idx = 0; worker_idx < workers; ++worker_idx) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

JobRunner::~JobRunner() { Shutdown(); }

Result<std::vector<metadata::JobRecord>> JobRunner::RecoverInterrupted(const std::string& message) {
  return store_.FailUnfinishedJobs(message, clock_.NowMillis());
}

Result<int64_t> JobRunner::Submit(const JobSpec& spec, JobFn work) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status::NotReady("The server is shutting down.");
    if (queue_.size() >= options_.max_queued) {
      return Status::LimitExceeded("Too many background operations are waiting; retry later.");
    }
  }
  int64_t now = clock_.NowMillis();
  OSPREY_ASSIGN_OR_RETURN(metadata::JobRecord record,
                          store_.InsertJob({0, spec.kind, spec.resource_arn, "QUEUED", "", now, now}));
  {
    std::lock_guard lock(mu_);
    queue_.push_back({record.id, std::move(work)});
  }
  wake_.notify_one();
  return record.id;
}

void JobRunner::WorkerLoop() {
  while (true) {
    Pending job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    Run(job);
    {
      std::lock_guard lock(mu_);
      --running_;
    }
    idle_.notify_all();
  }
}

void JobRunner::Run(Pending& job) {
  // A failed bookkeeping write must not stop the job; the start-up sweep repairs the row.
  (void)store_.SetJobState(job.id, "RUNNING", "", clock_.NowMillis());
  Status outcome;
  try {
    outcome = job.work(job.id);
  } catch (const std::exception& e) {
    // Last resort, like the HTTP layer's catch-all: reaching it is a bug in the job.
    outcome = Status::Internal(std::string("job threw: ") + e.what());
  } catch (...) {
    outcome = Status::Internal("job threw a non-standard exception");
  }
  (void)store_.SetJobState(job.id, outcome.ok() ? "SUCCEEDED" : "FAILED",
                           outcome.ok() ? "" : outcome.ToString(), clock_.NowMillis());
}

void JobRunner::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return (queue_.empty() || stopping_) && running_ == 0; });
}

void JobRunner::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
  idle_.notify_all();
}

}  // namespace osprey::jobs

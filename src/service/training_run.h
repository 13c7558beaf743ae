// The engine half of a training job: trains a classifier or a detector on the usable training
// entries, reloads the saved artifact and evaluates it on the testing entries. Internal to
// service/ (training_job.cc is the only caller).
#pragma once

#include <filesystem>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "engine/classifier.h"
#include "service/training_data.h"
#include "storage/object_store.h"

namespace osprey::service {

struct TrainingRunInputs {
  EntryRefs train;
  EntryRefs test;
  bool object_detection = false;
  std::filesystem::path output_dir;    // the artifact folder (must not exist)
  std::filesystem::path backbone_dir;
  // 0: the engine's default for the task (60 s image classification, 300 s object detection).
  double time_budget_seconds = 0;
  uint64_t seed = 1;
  std::string version_arn;             // for the evaluation summary
};

struct TrainedModel {
  std::string task;                    // "classification" | "detection"
  double f1 = 0;                       // aggregate F1 on the testing entries
  std::string evaluation_summary;      // EvaluationResultSummary JSON
};

// kInvalidArgument (with a message that says what to fix) when the data cannot train a model;
// the engine's errors otherwise.
Result<TrainedModel> RunTraining(const TrainingRunInputs& inputs,
                                 const storage::ObjectStore& objects, const Clock& clock,
                                 engine::TrainingObserver* observer);

// "2019-11-21T07:30:23.910" (UTC) for epoch milliseconds.
std::string Iso8601Millis(int64_t ms);

}  // namespace osprey::service

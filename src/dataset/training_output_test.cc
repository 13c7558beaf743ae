#include "dataset/training_output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace osprey::dataset {
namespace {

using nlohmann::json;

std::vector<json> Lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

DatasetEntry Entry(int64_t index, const std::string& ref, bool errors) {
  DatasetEntry e;
  e.line_index = index;
  e.source_ref = ref;
  e.has_errors = errors;
  json line = {{"source-ref", ref}, {"cl-metadata", {{"is_labeled", !errors}}}};
  if (errors) line["cl-errors"] = {{{"code", "ERROR_INVALID_IMAGE"}, {"message", "bad"}}};
  e.line = line.dump();
  return e;
}

TEST(TrainingOutputTest, CountsEntriesAndDroppedLinesWithSortedIndices) {
  DatasetEntry good = Entry(0, "s3://b/a.jpg", false), bad = Entry(3, "s3://b/c.jpg", true);
  DroppedLine dropped{1, "{not json", "ERROR_INVALID_JSON_LINE"};
  ManifestStatistics s = CountLines({&bad, &good}, {&dropped}, "IMAGE_LEVEL_LABELS");
  EXPECT_EQ(s.total_lines, 3);
  EXPECT_EQ(s.valid_lines, 1);
  EXPECT_EQ(s.invalid_lines, 2);
  EXPECT_EQ(s.error_line_indices, (std::vector<int64_t>{1, 3}));
  json summary = json::parse(ManifestSummaryJson(s, ManifestStatistics{}, {}));
  EXPECT_EQ(summary["statistics"]["training"]["invalid_json_lines"], 2);
  EXPECT_EQ(summary["statistics"]["training"]["use_case"], "IMAGE_LEVEL_LABELS");
  EXPECT_EQ(summary["statistics"]["testing"]["use_case"], "NOT_DETERMINED");
}

TEST(TrainingOutputTest, ValidationManifestKeepsOrderMovesErrorsAndReplacesDroppedLines) {
  DatasetEntry good = Entry(0, "s3://b/a.jpg", false), bad = Entry(2, "s3://b/c.jpg", true);
  DroppedLine dropped{1, "{not json", "ERROR_INVALID_JSON_LINE"};
  std::vector<json> lines = Lines(ValidationManifest({&bad, &good}, {&dropped}));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["source-ref"], "s3://b/a.jpg");
  EXPECT_FALSE(lines[0].contains("errors"));
  EXPECT_FALSE(lines[0].contains("cl-metadata"));
  EXPECT_EQ(lines[1]["errors"][0]["code"], "ERROR_INVALID_JSON_LINE");
  EXPECT_FALSE(lines[1]["errors"][0]["message"].get<std::string>().empty());
  EXPECT_EQ(lines[2]["errors"][0]["code"], "ERROR_INVALID_IMAGE");
  EXPECT_FALSE(lines[2].contains("cl-errors"));
}

TEST(TrainingOutputTest, GroundTruthSnapshotsUseRekognitionAttributes) {
  DatasetEntry e = Entry(0, "s3://b/a.jpg", false);
  e.labels = {{"bird", true}, {"cat", true}};
  e.boxes = {{"cat", 1, 2, 30, 40}, {"bird", 5, 6, 7, 8}};
  e.image_width = 320;
  e.image_height = 240;
  json detection = Lines(GroundTruthSnapshot({&e}, true)).at(0);
  const json& boxes = detection["rekognition-custom-labels-training-0"];
  const json& meta = detection["rekognition-custom-labels-training-0-metadata"];
  EXPECT_EQ(meta["type"], "groundtruth/object-detection");
  EXPECT_EQ(boxes["image_size"][0]["width"], 320);
  ASSERT_EQ(boxes["annotations"].size(), 2u);
  EXPECT_EQ(meta["class-map"][std::to_string(boxes["annotations"][0]["class_id"].get<int>())], "cat");
  EXPECT_EQ(boxes["annotations"][0]["width"], 30);
  EXPECT_EQ(meta["objects"].size(), 2u);

  json classification = Lines(GroundTruthSnapshot({&e, &e}, false)).at(1);
  EXPECT_EQ(classification["rekognition-custom-labels-object-id"], 1);
  EXPECT_EQ(classification["rekognition-custom-labels-training-1-metadata"]["class-name"], "cat");
}

}  // namespace
}  // namespace osprey::dataset

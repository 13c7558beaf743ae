#include "dataset/manifest_import.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "dataset/manifest_errors.h"
#include "storage/local_object_store.h"

namespace osprey::dataset {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// The first 33 bytes of a PNG: enough for ProbeImageHeader, nothing to decode.
std::string PngHeader(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (uint32_t v : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((v >> shift) & 0xFF);
  }
  png += std::string("\x08\x02\0\0\0\0\0\0\0", 9);
  return png;
}

std::string ClassLine(const std::string& ref, const std::string& label) {
  json line = {{"source-ref", ref},
               {"a", 1},
               {"a-metadata",
                {{"confidence", 1},
                 {"class-name", label},
                 {"human-annotated", "yes"},
                 {"creation-date", "2020-03-06T17:46:39.176"},
                 {"type", "groundtruth/image-classification"}}}};
  return line.dump();
}

// A detection line declaring `width` x `height`, with one box per {left, top, width, height}.
std::string SizedBoxLine(const std::string& ref, int width, int height,
                         const std::vector<std::array<int, 4>>& boxes) {
  json annotations = json::array();
  json objects = json::array();
  for (const auto& box : boxes) {
    annotations.push_back({{"class_id", 0}, {"left", box[0]}, {"top", box[1]},
                           {"width", box[2]}, {"height", box[3]}});
    objects.push_back({{"confidence", 1}});
  }
  json line = {{"source-ref", ref},
               {"bb", {{"image_size", {{{"width", width}, {"height", height}, {"depth", 3}}}},
                       {"annotations", annotations}}},
               {"bb-metadata", {{"objects", objects},
                                {"class-map", {{"0", "bird"}}},
                                {"type", "groundtruth/object-detection"},
                                {"human-annotated", "yes"},
                                {"creation-date", "2024-01-01T00:00:00"}}}};
  return line.dump();
}

std::string BoxLine(const std::string& ref) {
  return SizedBoxLine(ref, 320, 240, {{5, 5, 50, 40}});
}

class ManifestImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey-import-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store_ = std::move(storage::LocalObjectStore::Open(dir_)).value();
    ASSERT_TRUE(store_->CreateBucket("imgs").ok());
    ASSERT_TRUE(store_->CreateBucket("other").ok());
    for (int image_idx = 0; image_idx < 20; ++image_idx) {
      Put("imgs", "i/" + std::to_string(image_idx) + ".png", PngHeader(320, 240));
    }
    Put("other", "o.png", PngHeader(320, 240));
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Put(const std::string& bucket, const std::string& key, const std::string& bytes) {
    ASSERT_TRUE(store_->PutObject(bucket, key, bytes, {}).ok());
  }
  static std::string Ref(int image_idx) { return "s3://imgs/i/" + std::to_string(image_idx) + ".png"; }

  // Imports `text`, collecting what reaches the sink.
  ImportResult Import(const std::string& text, ImportOptions options = {}) {
    entries_.clear();
    options.batch_size = 3;
    auto result = ImportManifest(StringChunkReader(text), static_cast<int64_t>(text.size()),
                                 *store_, options, [this](std::vector<DatasetEntry>& batch) {
                                   for (auto& e : batch) entries_.push_back(std::move(e));
                                   return Status::Ok();
                                 });
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return std::move(result).value();
  }
  std::string Manifest(int lines, const std::string& bad_line = "", int bad_every = 0) {
    std::string text;
    for (int line_idx = 0; line_idx < lines; ++line_idx) {
      bool bad = bad_every > 0 && line_idx % bad_every == bad_every - 1;
      text += (bad ? bad_line : ClassLine(Ref(line_idx), line_idx % 2 ? "cat" : "dog")) + "\n";
    }
    return text;
  }

  fs::path dir_;
  std::unique_ptr<storage::LocalObjectStore> store_;
  std::vector<DatasetEntry> entries_;
};

TEST_F(ManifestImportTest, GoodManifestImportsEveryLine) {
  ImportResult r = Import(Manifest(10) + BoxLine(Ref(15)));  // no final newline
  EXPECT_FALSE(r.failure);
  EXPECT_EQ(r.total_lines, 11);
  EXPECT_EQ(r.entries, 11);
  EXPECT_EQ(r.error_entries, 0);
  EXPECT_EQ(r.image_bucket, "imgs");
  EXPECT_EQ(r.labels, (std::set<std::string>{"bird", "cat", "dog"}));
  ASSERT_EQ(entries_.size(), 11u);
  EXPECT_EQ(entries_[10].boxes.size(), 1u);
  EXPECT_EQ(entries_[0].image_width, 320);
}

TEST_F(ManifestImportTest, BadLinesAreFlaggedAndCountedExactly) {
  // 10 lines: one invalid JSON (dropped), one missing image (kept with ERROR_INVALID_IMAGE).
  std::string text = Manifest(8) + "{not json\n" + ClassLine("s3://imgs/missing.png", "cat") + "\n";
  ImportResult r = Import(text);
  EXPECT_FALSE(r.failure);
  EXPECT_EQ(r.total_lines, 10);
  EXPECT_EQ(r.dropped_lines, 1);
  EXPECT_EQ(r.error_entries, 1);
  EXPECT_EQ(r.entries, 9);
  EXPECT_EQ(r.invalid_line_indices, (std::vector<int64_t>{8, 9}));
  ASSERT_EQ(entries_.size(), 9u);
  EXPECT_TRUE(entries_[8].has_errors);
  EXPECT_NE(entries_[8].line.find("ERROR_INVALID_IMAGE"), std::string::npos);
}

TEST_F(ManifestImportTest, KeepsDroppedLinesAndLineIndicesWhenAsked) {
  std::string text = ClassLine(Ref(10), "cat") + "\n{not json\n" + BoxLine(Ref(11)) + "\n" +
                     ClassLine(Ref(10), "dog") + "\n" + Manifest(6);
  ImportResult plain = Import(text);
  EXPECT_TRUE(plain.dropped.empty());
  ImportOptions options;
  options.keep_dropped_lines = true;
  ImportResult r = Import(text, options);
  ASSERT_EQ(r.dropped.size(), 2u);  // the invalid line and the duplicate source-ref
  EXPECT_EQ(r.dropped[0].index, 1);
  EXPECT_EQ(r.dropped[0].text, "{not json");
  EXPECT_EQ(r.dropped[0].code, "ERROR_INVALID_JSON_LINE");
  EXPECT_EQ(r.dropped[1].index, 3);
  EXPECT_EQ(r.dropped[1].code, "ERROR_DUPLICATE_SOURCE_REF");
  ASSERT_EQ(entries_.size(), 8u);
  EXPECT_EQ(entries_[7].line_index, 9);
  EXPECT_EQ(entries_[0].line_index, 0);
  EXPECT_FALSE(entries_[0].object_detection);
  EXPECT_EQ(entries_[1].line_index, 2);
  EXPECT_TRUE(entries_[1].object_detection);
}

TEST_F(ManifestImportTest, TwentyPercentRule) {
  // Exactly 20 % invalid passes; one more fails (§9.2: cumulative over all rules).
  EXPECT_FALSE(Import(Manifest(10, "garbage", 5)).failure);
  std::string text = Manifest(10, "garbage", 5) + ClassLine("s3://imgs/none.png", "x") + "\n";
  ImportResult r = Import(text);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, kErrTooManyRecordsInError);
  EXPECT_EQ(r.failure->message, "The manifest file has too many terminal errors.");
}

TEST_F(ManifestImportTest, BlankCrlfAndBomLines) {
  std::string text = "\xEF\xBB\xBF" + ClassLine(Ref(10), "a") + "\r\n" + ClassLine(Ref(11), "b") +
                     "\r\n\r\n" + Manifest(8) + ClassLine(Ref(0), "again") + "\n";
  ImportResult r = Import(text);
  EXPECT_FALSE(r.failure);
  EXPECT_EQ(r.total_lines, 12);     // the blank line counts (§9.2)
  EXPECT_EQ(r.dropped_lines, 2);    // the blank line and the duplicate of image 0
  EXPECT_EQ(r.entries, 10);
  EXPECT_EQ(entries_[0].source_ref, Ref(10));
  EXPECT_EQ(r.labels.count("again"), 0u);
}

TEST_F(ManifestImportTest, TerminalFileErrors) {
  EXPECT_EQ(Import("").failure->code, kErrEmptyManifest);
  ImportOptions rows;
  rows.limits.max_lines = 5;
  EXPECT_EQ(Import(Manifest(6), rows).failure->code, kErrTooManyRows);
  EXPECT_FALSE(Import(Manifest(5), rows).failure);
  ImportOptions size;
  size.limits.max_manifest_bytes = 100;
  EXPECT_EQ(Import(Manifest(6), size).failure->code, kErrManifestTooLarge);
  ImportOptions labels;
  labels.limits.max_labels = 1;
  EXPECT_EQ(Import(Manifest(4)).labels.size(), 2u);
  EXPECT_EQ(Import(Manifest(4), labels).failure->code, kErrTooManyLabels);
  EXPECT_EQ(Import(Manifest(3) + ClassLine("s3://other/o.png", "a") + "\n").failure->code,
            kErrMultipleBuckets);
  ImportOptions bucket;
  bucket.required_bucket = "other";
  EXPECT_EQ(Import(Manifest(1), bucket).failure->code, kErrMultipleBuckets);
}

TEST_F(ManifestImportTest, EndlessLineIsDroppedWithoutBufferingIt) {
  ImportOptions options;
  options.limits.max_line_bytes = 1000;
  std::string text = Manifest(9) + std::string(3 << 20, 'x');  // 3 MiB, no newline
  ImportResult r = Import(text, options);
  EXPECT_EQ(r.total_lines, 10);
  EXPECT_EQ(r.dropped_lines, 1);
  EXPECT_FALSE(r.failure);
  ManifestLineReader reader(StringChunkReader(text), 1000, /*chunk_bytes=*/4096);
  ManifestLine line;
  int64_t lines = 0;
  bool last_too_long = false;
  while (reader.Next(line)) {
    ++lines;
    EXPECT_LE(line.text.size(), 1001u);
    last_too_long = line.too_long;
  }
  EXPECT_EQ(lines, 10);
  EXPECT_TRUE(last_too_long);
}

TEST_F(ManifestImportTest, ImageChecksUseTheHeaderOnly) {
  Put("imgs", "small.png", PngHeader(32, 32));
  Put("imgs", "bomb.png", PngHeader(65500, 65500));
  Put("imgs", "wide.png", PngHeader(1400, 64));
  Put("imgs", "gif.gif", "GIF89a\x01\0\x01\0");
  Put("imgs", "box-small.png", PngHeader(32, 32));
  std::string text;
  for (const char* key : {"small.png", "bomb.png", "wide.png", "gif.gif"}) {
    text += ClassLine(std::string("s3://imgs/") + key, "a") + "\n";
  }
  text += BoxLine("s3://imgs/box-small.png") + "\n";
  ImportOptions options;
  options.limits.max_invalid_fraction = 1.0;
  ImportResult r = Import(text, options);
  ASSERT_EQ(entries_.size(), 5u);
  for (size_t entry_idx = 0; entry_idx < 4; ++entry_idx) {
    EXPECT_NE(entries_[entry_idx].line.find("\"ERROR_INVALID_IMAGE\""), std::string::npos)
        << entries_[entry_idx].line;
  }
  EXPECT_NE(entries_[4].line.find("ERROR_INVALID_IMAGE_DIMENSION"), std::string::npos);
  ImportOptions tiny;
  tiny.limits.max_image_bytes = 10;
  tiny.limits.max_invalid_fraction = 1.0;
  Import(ClassLine(Ref(0), "a"), tiny);
  EXPECT_TRUE(entries_[0].has_errors);
}

// A detection line's image_size is compared with the image header (the test images are
// 320x240): a mismatch flags the line with ERROR_INVALID_IMAGE_DIMENSION, and its boxes are
// still judged against the declared size, as the parser did.
TEST_F(ManifestImportTest, DeclaredImageSizeMustMatchTheHeader) {
  ImportOptions options;
  options.limits.max_invalid_fraction = 1.0;
  std::string text = SizedBoxLine(Ref(0), 320, 240, {{5, 5, 50, 40}}) + "\n" +
                     // Box 1 fits the declared 640x480 but not the real image; box 2 does not
                     // fit the declared frame.
                     SizedBoxLine(Ref(1), 640, 480, {{400, 300, 100, 100}, {600, 5, 100, 40}}) +
                     "\n" + SizedBoxLine(Ref(2), 320, 241, {{5, 5, 50, 40}}) + "\n" +
                     // A missing image is ERROR_INVALID_IMAGE only: there is no header to compare.
                     SizedBoxLine("s3://imgs/missing.png", 640, 480, {{5, 5, 50, 40}}) + "\n";
  ImportResult r = Import(text, options);
  EXPECT_FALSE(r.failure);
  ASSERT_EQ(entries_.size(), 4u);
  EXPECT_EQ(r.error_entries, 3);

  EXPECT_FALSE(entries_[0].has_errors) << entries_[0].line;
  EXPECT_EQ(entries_[0].boxes.size(), 1u);

  json mismatched = json::parse(entries_[1].line);
  ASSERT_TRUE(mismatched.contains("cl-errors")) << entries_[1].line;
  ASSERT_EQ(mismatched["cl-errors"].size(), 1u);
  EXPECT_EQ(mismatched["cl-errors"][0]["code"], "ERROR_INVALID_IMAGE_DIMENSION");
  EXPECT_EQ(mismatched["cl-errors"][0]["message"],
            "The image dimension(s) do not conform to allowed dimensions.");
  EXPECT_TRUE(entries_[1].has_errors);
  ASSERT_EQ(entries_[1].boxes.size(), 1u);  // box 1, valid in the declared frame
  EXPECT_EQ(entries_[1].boxes[0].left, 400);
  EXPECT_EQ(mismatched["bb-metadata"]["cl-errors"][0]["code"], "ERROR_INVALID_BOUNDING_BOX");
  EXPECT_EQ(entries_[1].image_width, 640);  // the frame the boxes are in
  EXPECT_EQ(entries_[1].image_height, 480);

  EXPECT_NE(entries_[2].line.find("ERROR_INVALID_IMAGE_DIMENSION"), std::string::npos);
  EXPECT_EQ(entries_[2].boxes.size(), 1u);

  EXPECT_NE(entries_[3].line.find("\"ERROR_INVALID_IMAGE\""), std::string::npos);
  EXPECT_EQ(entries_[3].line.find("ERROR_INVALID_IMAGE_DIMENSION"), std::string::npos);
}

// The real limits, not shrunk ones: 250,001 lines and a 1 GB + 1 byte manifest.
TEST_F(ManifestImportTest, DefaultRowAndSizeLimits) {
  std::string rows;
  rows.reserve(250001 * 2);
  for (int line_idx = 0; line_idx < 250001; ++line_idx) rows += "x\n";
  ImportOptions options;
  options.limits.max_invalid_fraction = 1.0;
  ImportResult r = Import(rows, options);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, kErrTooManyRows);
  EXPECT_EQ(r.total_lines, 250001);
  rows.resize(250000 * 2);
  EXPECT_FALSE(Import(rows, options).failure);

  auto huge = ImportManifest(StringChunkReader(""), (int64_t{1} << 30) + 1, *store_, {},
                             [](std::vector<DatasetEntry>&) { return Status::Ok(); });
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->failure->code, kErrManifestTooLarge);
  EXPECT_EQ(huge->total_lines, 0);
}

TEST(CheckTrainingLabelsTest, TooFewAndTooMany) {
  ManifestLimits limits;
  EXPECT_EQ(CheckTrainingLabels(1, false, limits)->code, kErrTooFewLabels);
  EXPECT_FALSE(CheckTrainingLabels(1, true, limits));
  EXPECT_FALSE(CheckTrainingLabels(2, false, limits));
  EXPECT_EQ(CheckTrainingLabels(251, false, limits)->code, kErrTooManyLabels);
}

}  // namespace
}  // namespace osprey::dataset

#include "dataset/manifest_line.h"

#include <gtest/gtest.h>

#include "dataset/manifest_errors.h"

namespace osprey::dataset {
namespace {

using nlohmann::json;

const ManifestLimits kLimits;

json ClassMeta(const std::string& name) {
  return {{"confidence", 1},          {"job-name", "labeling-job/x"},
          {"class-name", name},       {"human-annotated", "yes"},
          {"creation-date", "2020-03-06T17:46:39.176"},
          {"type", "groundtruth/image-classification"}};
}

json Classification(const std::string& name) {
  return {{"source-ref", "s3://bucket/images/a.png"}, {"cls", 1}, {"cls-metadata", ClassMeta(name)}};
}

json Detection(json annotations, json objects, json class_map, int w = 640, int h = 480) {
  return {{"source-ref", "s3://bucket/images/b.png"},
          {"bounding-box",
           {{"image_size", json::array({{{"width", w}, {"height", h}, {"depth", 3}}})},
            {"annotations", std::move(annotations)}}},
          {"bounding-box-metadata",
           {{"objects", std::move(objects)},
            {"class-map", std::move(class_map)},
            {"type", "groundtruth/object-detection"},
            {"human-annotated", "yes"},
            {"creation-date", "2013-11-18T02:53:27"},
            {"job-name", "my job"}}}};
}

json Box(int class_id, int left, int top, int width, int height) {
  return {{"class_id", class_id}, {"left", left}, {"top", top}, {"width", width}, {"height", height}};
}

ParsedLine Parse(const json& line) {
  ParsedLine parsed = ParseManifestLine(line.dump(), kLimits);
  if (!parsed.drop_code) FinishLine(parsed);
  return parsed;
}

// Every code found anywhere in the stored line's cl-errors arrays.
std::set<std::string> Codes(const ParsedLine& parsed) {
  std::set<std::string> codes;
  json doc = json::parse(parsed.entry.line);
  auto collect = [&codes](const json& errors) {
    for (const auto& e : errors) codes.insert(e["code"].get<std::string>());
  };
  if (doc.contains("cl-errors")) collect(doc["cl-errors"]);
  for (const auto& [key, value] : doc.items()) {
    if (value.is_object() && value.contains("cl-errors")) collect(value["cl-errors"]);
  }
  return codes;
}

TEST(ManifestLineTest, SingleLabelClassification) {
  ParsedLine p = Parse(Classification("Sunrise"));
  ASSERT_FALSE(p.drop_code);
  EXPECT_EQ(p.entry.bucket, "bucket");
  EXPECT_EQ(p.entry.key, "images/a.png");
  ASSERT_EQ(p.entry.labels.size(), 1u);
  EXPECT_EQ(p.entry.labels[0].name, "Sunrise");
  EXPECT_FALSE(p.entry.labels[0].has_box);
  EXPECT_TRUE(p.entry.is_labeled);
  EXPECT_FALSE(p.entry.has_errors);
  json doc = json::parse(p.entry.line);
  EXPECT_EQ(doc["cl-metadata"], json({{"is_labeled", true}}));
  EXPECT_FALSE(doc.contains("cl-errors"));
}

TEST(ManifestLineTest, MultiLabelClassification) {
  json line = Classification("football");
  line["sport1"] = 0;
  line["sport1-metadata"] = ClassMeta("ball");
  ParsedLine p = Parse(line);
  ASSERT_EQ(p.entry.labels.size(), 2u);
  EXPECT_EQ(p.entry.labels[0].name, "ball");
  EXPECT_EQ(p.entry.labels[1].name, "football");
  EXPECT_FALSE(p.entry.has_errors);
}

TEST(ManifestLineTest, ObjectDetection) {
  ParsedLine p = Parse(Detection({Box(1, 399, 251, 155, 101), Box(0, 86, 65, 220, 334)},
                                 {{{"confidence", 1}}, {{"confidence", 1}}},
                                 {{"0", "Echo"}, {"1", "Echo Dot"}}));
  ASSERT_FALSE(p.drop_code);
  EXPECT_FALSE(p.entry.has_errors) << p.entry.line;
  ASSERT_EQ(p.entry.boxes.size(), 2u);
  EXPECT_EQ(p.entry.boxes[0].label, "Echo Dot");
  ASSERT_EQ(p.entry.labels.size(), 2u);
  EXPECT_TRUE(p.entry.labels[0].has_box);
  EXPECT_EQ(p.entry.image_width, 640);
  EXPECT_TRUE(p.has_detection);
}

TEST(ManifestLineTest, DetectionWithoutAnnotationsIsValidButUnlabeled) {
  ParsedLine p = Parse(Detection(json::array(), json::array(), json::object()));
  EXPECT_FALSE(p.entry.has_errors);
  EXPECT_FALSE(p.entry.is_labeled);
}

TEST(ManifestLineTest, SourceRefOnlyIsAnUnlabeledEntry) {
  ParsedLine p = Parse({{"source-ref", "s3://bucket/x.jpg"}});
  ASSERT_FALSE(p.drop_code);
  EXPECT_FALSE(p.entry.is_labeled);
  EXPECT_FALSE(p.entry.has_errors);
}

TEST(ManifestLineTest, DatasetEntryFormIsReimportedWithServiceFieldsRecomputed) {
  json line = Classification("cat");
  line["cl-metadata"] = {{"is_labeled", false}};
  line["cl-errors"] = json::array({{{"code", "ERROR_INVALID_IMAGE"}, {"message", "x"}}});
  line["cls-metadata"]["cl-errors"] = json::array({{{"code", "ERROR_X"}, {"message", "y"}}});
  ParsedLine p = Parse(line);
  EXPECT_FALSE(p.entry.has_errors) << p.entry.line;
  EXPECT_TRUE(p.entry.is_labeled);
  EXPECT_EQ(json::parse(p.entry.line)["cl-metadata"]["is_labeled"], true);
}

TEST(ManifestLineTest, TerminalContentErrorsDropTheLine) {
  EXPECT_EQ(*ParseManifestLine("not json", kLimits).drop_code, kErrInvalidJsonLine);
  EXPECT_EQ(*ParseManifestLine("", kLimits).drop_code, kErrInvalidJsonLine);
  EXPECT_EQ(*ParseManifestLine("[1,2]", kLimits).drop_code, kErrInvalidJsonLine);
  EXPECT_EQ(*ParseManifestLine(std::string(40, '[') + std::string(40, ']'), kLimits).drop_code,
            kErrInvalidJsonLine);
  EXPECT_EQ(*ParseManifestLine(R"({"cls":1})", kLimits).drop_code, kErrMissingSourceRef);
  for (const char* ref : {"file:///etc/passwd", "http://bucket/a.jpg", "https://b/a", "s3://",
                          "s3://bucket", "s3://bucket/", "s3://bucket/../etc/passwd",
                          "s3://bucket/a/./b.jpg", "s3://Bad_Bucket/a.jpg", "s3://bucket/a\\b"}) {
    json line = {{"source-ref", ref}};
    EXPECT_EQ(*ParseManifestLine(line.dump(), kLimits).drop_code, kErrInvalidSourceRef) << ref;
  }
  EXPECT_EQ(*ParseManifestLine(R"({"source-ref":5})", kLimits).drop_code, kErrInvalidSourceRef);
  ManifestLimits small;
  small.max_line_bytes = 10;
  EXPECT_EQ(*ParseManifestLine(Classification("a").dump(), small).drop_code, kErrLineTooLong);
}

TEST(ManifestLineTest, CrlfAndInvalidUtf8) {
  EXPECT_FALSE(ParseManifestLine(Classification("a").dump() + "\r", kLimits).drop_code);
  EXPECT_EQ(*ParseManifestLine("{\"source-ref\":\"s3://b\xff\xfe/x\"}", kLimits).drop_code,
            kErrInvalidJsonLine);
}

TEST(ManifestLineTest, LabelAttributeErrors) {
  json orphan = Classification("a");
  orphan["lonely"] = 1;
  EXPECT_EQ(Codes(Parse(orphan)), std::set<std::string>{std::string(kErrNoLabelAttributes)});

  json bad_value = Classification("a");
  bad_value["cls"] = "one";
  EXPECT_TRUE(Codes(Parse(bad_value)).count(std::string(kErrAttributeFormat)));
  EXPECT_TRUE(Codes(Parse(bad_value)).count(std::string(kErrNoValidAttributes)));

  json no_class = Classification("a");
  no_class["cls-metadata"].erase("class-name");
  EXPECT_TRUE(Codes(Parse(no_class)).count(std::string(kErrMetadataFormat)));

  json bad_human = Classification("a");
  bad_human["cls-metadata"]["human-annotated"] = "maybe";
  EXPECT_TRUE(Codes(Parse(bad_human)).count(std::string(kErrMetadataFormat)));

  json multilabel = Classification("a");
  multilabel["cls-metadata"]["type"] = "groundtruth/image-classification-multilabel";
  ParsedLine p = Parse(multilabel);
  EXPECT_TRUE(Codes(p).count(std::string(kErrUnsupportedUseCase)));
  EXPECT_NE(p.entry.line.find("cls-metadata label attribute metadata is unsupported"),
            std::string::npos);

  json long_name = Classification(std::string(257, 'x'));
  EXPECT_TRUE(Codes(Parse(long_name)).count(std::string(kErrLabelNameLength)));
  EXPECT_FALSE(Parse(Classification(std::string(256, 'x'))).entry.has_errors);
}

TEST(ManifestLineTest, BoundingBoxErrors) {
  json cm = {{"0", "a"}, {"1", "b"}};
  json one = json::array({{{"confidence", 1}}});
  auto codes = [&](json boxes, json objects, int w = 640, int h = 480) {
    return Codes(Parse(Detection(std::move(boxes), std::move(objects), cm, w, h)));
  };
  EXPECT_TRUE(codes({Box(0, 600, 10, 100, 10)}, one).count(std::string(kErrInvalidBoundingBox)));
  EXPECT_TRUE(codes({Box(0, -1, 10, 10, 10)}, one).count(std::string(kErrInvalidBoundingBox)));
  EXPECT_TRUE(codes({Box(0, 10, 10, 1, 10)}, one).count(std::string(kErrBoundingBoxTooSmall)));
  // 4096 px wide is resized to 1280: a 3 px box becomes under 1 px.
  EXPECT_TRUE(codes({Box(0, 10, 10, 3, 100)}, one, 4096, 4096)
                  .count(std::string(kErrBoundingBoxTooSmall)));
  EXPECT_TRUE(codes({Box(7, 10, 10, 50, 50)}, one).count(std::string(kErrMissingClassMapId)));
  EXPECT_TRUE(codes({Box(0, 10, 10, 50, 50)}, json::array())
                  .count(std::string(kErrMissingConfidence)));
  EXPECT_TRUE(codes({Box(0, 10, 10, 50, 50)}, one).empty());
  json many = json::array();
  json conf = json::array();
  for (int box_idx = 0; box_idx < 51; ++box_idx) {
    many.push_back(Box(0, 1, 1, 10, 10));
    conf.push_back({{"confidence", 1}});
  }
  EXPECT_TRUE(codes(many, conf).count(std::string(kErrTooManyBoundingBoxes)));
  many.erase(many.size() - 1);
  EXPECT_TRUE(codes(many, conf).empty());
  // One bad box among good ones drops only that box; all bad: ERROR_NO_VALID_ANNOTATIONS.
  ParsedLine mixed = Parse(Detection({Box(0, 10, 10, 50, 50), Box(1, 900, 10, 50, 50)},
                                     {{{"confidence", 1}}, {{"confidence", 1}}}, cm));
  EXPECT_EQ(mixed.entry.boxes.size(), 1u);
  EXPECT_TRUE(mixed.entry.has_errors);
  EXPECT_TRUE(codes({Box(0, 900, 10, 50, 50)}, one).count(std::string(kErrNoValidAnnotations)));

  json bad_size = Detection({Box(0, 1, 1, 10, 10)}, one, cm);
  bad_size["bounding-box"]["image_size"].push_back(bad_size["bounding-box"]["image_size"][0]);
  EXPECT_TRUE(Codes(Parse(bad_size)).count(std::string(kErrAttributeFormat)));
  // Sides beyond INT_MAX are no image size (they used to overflow an int conversion).
  json huge = Detection({Box(0, 1, 1, 10, 10)}, one, cm);
  huge["bounding-box"]["image_size"][0]["width"] = 2147483648u;
  EXPECT_TRUE(Codes(Parse(huge)).count(std::string(kErrAttributeFormat)));
  huge["bounding-box"]["image_size"][0]["width"] = 2147483647;  // well-formed (box too small)
  EXPECT_FALSE(Codes(Parse(huge)).count(std::string(kErrAttributeFormat)));
  // A class_id past INT64_MAX names its own class-map key, not a wrapped negative one.
  json wrapped = Detection({Box(0, 1, 1, 10, 10)}, one, {{"-1", "a"}});
  wrapped["bounding-box"]["annotations"][0]["class_id"] = 18446744073709551615u;
  EXPECT_TRUE(Codes(Parse(wrapped)).count(std::string(kErrMissingClassMapId)));
  wrapped["bounding-box-metadata"]["class-map"] = {{"18446744073709551615", "a"}};
  EXPECT_TRUE(Codes(Parse(wrapped)).empty());
  json no_map = Detection({Box(0, 1, 1, 10, 10)}, one, cm);
  no_map["bounding-box-metadata"].erase("class-map");
  EXPECT_TRUE(Codes(Parse(no_map)).count(std::string(kErrMetadataFormat)));
}

TEST(ManifestLineTest, ParseS3Uri) {
  auto ok = ParseS3Uri("s3://my-bucket/a/b c.jpg");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->first, "my-bucket");
  EXPECT_EQ(ok->second, "a/b c.jpg");
  EXPECT_FALSE(ParseS3Uri("s3://my-bucket//a.jpg"));
  EXPECT_FALSE(ParseS3Uri("S3://my-bucket/a.jpg"));
}

}  // namespace
}  // namespace osprey::dataset

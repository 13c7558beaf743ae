#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "metadata/sqlite_metadata_store.h"
#include "service/arn.h"
#include "service/page_token.h"
#include "service/rekognition_service.h"
#include "storage/local_object_store.h"

namespace osprey::service {
namespace {
namespace fs = std::filesystem;

TEST(ArnTest, ParsesEveryKindAndRejectsTheRest) {
  auto p = ParseArn("arn:aws:rekognition:eu-west-1:123456789012:project/p.1/1690000000001");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, "project");
  EXPECT_EQ(p->region, "eu-west-1");
  EXPECT_EQ(p->project_name, "p.1");
  EXPECT_EQ(p->creation_ms, 1690000000001);
  auto v = ParseArn("arn:aws:rekognition:us-east-1:123456789012:project/p/version/v1/5");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, "version");
  EXPECT_EQ(v->child_name, "v1");
  auto d = ParseArn("arn:aws:rekognition:us-east-1:123456789012:project/p/dataset/train/5");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, "dataset");
  for (const char* bad : {"", "arn:aws:rekognition:us-east-1:12345:project/p/5",
                          "arn:aws:rekognition:us-east-1:123456789012:project/p q/5",
                          "arn:aws:rekognition:us-east-1:123456789012:project/p/dataset/val/5",
                          "arn:aws:s3:us-east-1:123456789012:project/p/5"}) {
    EXPECT_FALSE(ParseArn(bad)) << bad;
  }
}

TEST(PageTokenTest, RoundTripsAndRejectsForgeries) {
  std::string t = EncodePageToken("projects", 42);
  EXPECT_EQ(DecodePageToken("projects", t), 42);
  EXPECT_FALSE(DecodePageToken("versions", t));
  std::string forged = t;
  forged[forged.size() - 1] = forged.back() == '0' ? '1' : '0';
  EXPECT_FALSE(DecodePageToken("projects", forged));
  EXPECT_FALSE(DecodePageToken("projects", "zz"));
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("osprey-svc-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    metadata_ = std::move(metadata::SqliteMetadataStore::Open((dir_ / "db").string())).value();
    objects_ = std::move(storage::LocalObjectStore::Open(dir_ / "buckets")).value();
    service_ = std::make_unique<RekognitionService>(*metadata_, *objects_, clock_, ServiceOptions{});
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  FakeClock clock_{1700000000123};
  std::unique_ptr<metadata::SqliteMetadataStore> metadata_;
  std::unique_ptr<storage::LocalObjectStore> objects_;
  std::unique_ptr<RekognitionService> service_;
  RequestContext ctx_{"eu-central-1", "AK", "rid"};
};

TEST_F(ServiceTest, CreateDescribeDeleteProject) {
  auto created = service_->CreateProject(ctx_, {"birds", {}});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->project_arn,
            "arn:aws:rekognition:eu-central-1:000000000000:project/birds/1700000000123");
  EXPECT_EQ(service_->CreateProject(ctx_, {"birds", {}}).status().code(), StatusCode::kInUse);
  auto described = service_->DescribeProjects(ctx_, {});
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->projects.size(), 1u);
  EXPECT_EQ(described->projects[0].status, "CREATED");
  auto deleted = service_->DeleteProject(ctx_, {created->project_arn});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->status, "DELETING");
  EXPECT_EQ(service_->DeleteProject(ctx_, {created->project_arn}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(ServiceTest, DescribePaginatesWithoutRepeatingTokens) {
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(1);
    ASSERT_TRUE(service_->CreateProject(ctx_, {"p" + std::to_string(i), {}}).ok());
  }
  DescribeProjectsRequest request;
  request.max_results = 3;
  std::vector<std::string> seen;
  std::string previous_token;
  do {
    auto page = service_->DescribeProjects(ctx_, request);
    ASSERT_TRUE(page.ok());
    for (const auto& p : page->projects) seen.push_back(p.project_arn);
    EXPECT_NE(page->next_token, request.next_token);
    request.next_token = page->next_token;
  } while (!request.next_token.empty());
  EXPECT_EQ(seen.size(), 7u);
  request.next_token = "bogus";
  EXPECT_EQ(service_->DescribeProjects(ctx_, request).status().code(),
            StatusCode::kInvalidPaginationToken);
}

TEST_F(ServiceTest, TagsRequireAnExistingResource) {
  auto created = service_->CreateProject(ctx_, {"tagged", {{"a", "1"}}});
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(service_->TagResource(ctx_, {created->project_arn, {{"b", "2"}}}).ok());
  auto tags = service_->ListTagsForResource(ctx_, {created->project_arn});
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->tags.size(), 2u);
  ASSERT_TRUE(service_->UntagResource(ctx_, {created->project_arn, {"a"}}).ok());
  EXPECT_EQ(service_->ListTagsForResource(ctx_, {created->project_arn})->tags.size(), 1u);
  EXPECT_EQ(service_->TagResource(ctx_, {created->project_arn + "9", {{"b", "2"}}}).code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace osprey::service

#include "metadata/sqlite_metadata_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "metadata/migrations.h"

namespace osprey::metadata {
namespace {
namespace fs = std::filesystem;

class SqliteMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("osprey-meta-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Reopen();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Reopen() {
    store_.reset();
    auto store = SqliteMetadataStore::Open((dir_ / "osprey.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  ProjectRecord Project(const std::string& name, int64_t ms) {
    return ProjectRecord{0, name, "arn:aws:rekognition:us-east-1:000000000000:project/" + name +
                                      "/" + std::to_string(ms), ms, "CREATED"};
  }

  fs::path dir_;
  std::unique_ptr<SqliteMetadataStore> store_;
};

TEST_F(SqliteMetadataStoreTest, InsertGetAndDuplicateName) {
  auto p = store_->InsertProject(Project("p1", 1000));
  ASSERT_TRUE(p.ok());
  EXPECT_GT(p->id, 0);
  auto got = store_->GetProjectByArn(p->arn);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "p1");
  EXPECT_EQ(store_->InsertProject(Project("p1", 2000)).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetProjectByArn("arn:nope").status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteMetadataStoreTest, ListPagesInCreationOrderAndFilters) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->InsertProject(Project("p" + std::to_string(i), i)).ok());
  auto page = store_->ListProjects(0, 2, {});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->projects.size(), 2u);
  EXPECT_EQ(page->projects[0].name, "p0");
  ASSERT_TRUE(page->next_after_id.has_value());
  auto rest = store_->ListProjects(*page->next_after_id, 10, {});
  ASSERT_EQ(rest->projects.size(), 3u);
  EXPECT_FALSE(rest->next_after_id.has_value());
  auto filtered = store_->ListProjects(0, 10, {"p3", "p1", "zz"});
  ASSERT_EQ(filtered->projects.size(), 2u);
  EXPECT_EQ(filtered->projects[0].name, "p1");
}

TEST_F(SqliteMetadataStoreTest, DataSurvivesReopenAndMigrationIsIdempotent) {
  auto p = store_->InsertProject(Project("keep", 5));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(store_->SetTags(p->arn, {{"team", "vision"}}, 200).ok());
  Reopen();
  EXPECT_EQ(store_->GetProjectByArn(p->arn)->name, "keep");
  EXPECT_EQ(store_->GetTags(p->arn)->at("team"), "vision");
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

TEST_F(SqliteMetadataStoreTest, TagsQuotaIsAllOrNothing) {
  std::map<std::string, std::string> tags;
  for (int i = 0; i < 3; ++i) tags["k" + std::to_string(i)] = "v";
  ASSERT_TRUE(store_->SetTags("arn:x", tags, 3).ok());
  EXPECT_EQ(store_->SetTags("arn:x", {{"k9", "v"}, {"k0", "new"}}, 3).code(),
            StatusCode::kQuotaExceeded);
  auto got = store_->GetTags("arn:x");
  EXPECT_EQ(got->size(), 3u);
  EXPECT_EQ(got->at("k0"), "v");
  ASSERT_TRUE(store_->RemoveTags("arn:x", {"k0", "missing"}).ok());
  EXPECT_EQ(store_->GetTags("arn:x")->size(), 2u);
}

TEST_F(SqliteMetadataStoreTest, DeleteProjectRemovesItsTags) {
  auto p = store_->InsertProject(Project("gone", 1));
  ASSERT_TRUE(store_->SetTags(p->arn, {{"a", "b"}}, 200).ok());
  ASSERT_TRUE(store_->DeleteProject(p->id).ok());
  EXPECT_EQ(store_->GetProjectByArn(p->arn).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetTags(p->arn)->empty());
  EXPECT_EQ(store_->DeleteProject(p->id).code(), StatusCode::kNotFound);
}

TEST(MigrationsTest, RefusesNewerSchema) {
  auto db = SqliteDb::Open(":memory:");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 999").ok());
  EXPECT_EQ(Migrate(**db).code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace osprey::metadata

#include <gtest/gtest.h>

#include <filesystem>

#include "auth/crypto.h"
#include "storage/local_object_store.h"

namespace osprey::storage {
namespace {
namespace fs = std::filesystem;

class MultipartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("osprey-mpu-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    store_ = std::move(LocalObjectStore::Open(root_)).value();
    ASSERT_TRUE(store_->CreateBucket("bucket-1").ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<PartInfo> Upload(const std::string& id, int number, const std::string& data) {
    return store_->UploadPart("bucket-1", "big/obj", id, number,
                              [&](const ChunkWriter& write) { return write(data); });
  }

  fs::path root_;
  std::unique_ptr<LocalObjectStore> store_;
};

TEST_F(MultipartTest, CompleteConcatenatesPartsWithMultipartEtag) {
  auto id = store_->CreateMultipartUpload("bucket-1", "big/obj", {"text/plain", {{"a", "b"}}, ""});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(Upload(*id, 2, "world").ok());
  ASSERT_TRUE(Upload(*id, 1, "hello ").ok());
  ASSERT_TRUE(Upload(*id, 1, "hello, ").ok());  // replaces part 1
  EXPECT_EQ(store_->HeadObject("bucket-1", "big/obj").status().code(), StatusCode::kNotFound);
  auto parts = store_->ListParts("bucket-1", "big/obj", *id);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].etag, auth::Md5Hex("hello, "));
  auto uploads = store_->ListMultipartUploads("bucket-1", "big/");
  ASSERT_EQ(uploads->size(), 1u);
  EXPECT_EQ((*uploads)[0].upload_id, *id);

  auto done = store_->CompleteMultipartUpload(
      "bucket-1", "big/obj", *id,
      {{1, "\"" + auth::Md5Hex("hello, ") + "\""}, {2, auth::Md5Hex("world")}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(*store_->GetObject("bucket-1", "big/obj"), "hello, world");
  auto head = store_->HeadObject("bucket-1", "big/obj");
  EXPECT_EQ(head->etag, MultipartEtag({auth::Md5Hex("hello, "), auth::Md5Hex("world")}));
  EXPECT_EQ(head->etag.substr(32), "-2");
  EXPECT_EQ(head->content_type, "text/plain");
  EXPECT_EQ(head->user_metadata.at("a"), "b");
  EXPECT_EQ(store_->ListParts("bucket-1", "big/obj", *id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListMultipartUploads("bucket-1", "")->empty());
}

TEST_F(MultipartTest, CompleteRefusesBadPartLists) {
  auto id = store_->CreateMultipartUpload("bucket-1", "big/obj", {});
  ASSERT_TRUE(Upload(*id, 1, "a").ok());
  ASSERT_TRUE(Upload(*id, 2, "b").ok());
  auto e1 = auth::Md5Hex("a"), e2 = auth::Md5Hex("b");
  EXPECT_FALSE(store_->CompleteMultipartUpload("bucket-1", "big/obj", *id, {}).ok());
  EXPECT_FALSE(
      store_->CompleteMultipartUpload("bucket-1", "big/obj", *id, {{2, e2}, {1, e1}}).ok());
  EXPECT_FALSE(store_->CompleteMultipartUpload("bucket-1", "big/obj", *id, {{1, e2}}).ok());
  EXPECT_FALSE(store_->CompleteMultipartUpload("bucket-1", "big/obj", *id, {{3, e1}}).ok());
  EXPECT_FALSE(store_->HeadObject("bucket-1", "big/obj").ok());
  // A subset of parts is fine.
  ASSERT_TRUE(store_->CompleteMultipartUpload("bucket-1", "big/obj", *id, {{2, e2}}).ok());
  EXPECT_EQ(*store_->GetObject("bucket-1", "big/obj"), "b");
}

TEST_F(MultipartTest, HostileUploadIdsAndWrongKeysAreNoSuchUpload) {
  auto id = store_->CreateMultipartUpload("bucket-1", "big/obj", {});
  for (std::string bad : {std::string("../../x"), std::string(""), std::string("ABC"),
                          std::string("..%2f"), *id + "/.."}) {
    EXPECT_EQ(Upload(bad, 1, "x").status().code(), StatusCode::kNotFound) << bad;
  }
  EXPECT_EQ(
      store_->UploadPart("bucket-1", "other", *id, 1, [](const ChunkWriter& w) { return w("x"); })
          .status()
          .code(),
      StatusCode::kNotFound);
  EXPECT_EQ(Upload(*id, 0, "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Upload(*id, 10001, "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateMultipartUpload("no-such-bucket", "k", {}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(MultipartTest, AbortDropsEverythingAndFailedPartStoresNothing) {
  auto id = store_->CreateMultipartUpload("bucket-1", "big/obj", {});
  auto failed = store_->UploadPart("bucket-1", "big/obj", *id, 1, [](const ChunkWriter& write) {
    (void)write("partial");
    return Status::Internal("client went away");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(store_->ListParts("bucket-1", "big/obj", *id)->empty());
  ASSERT_TRUE(store_->AbortMultipartUpload("bucket-1", "big/obj", *id).ok());
  EXPECT_EQ(store_->AbortMultipartUpload("bucket-1", "big/obj", *id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::is_empty(root_ / ".uploads"));
}

TEST_F(MultipartTest, ListRollsUpCommonPrefixes) {
  for (std::string key : {"a", "b/1", "b/2", "b/c/3", "c/d/e/4", "d", "bx"}) {
    ASSERT_TRUE(store_->PutObject("bucket-1", key, "x", {}).ok());
  }
  ListOptions options;
  options.delimiter = "/";
  auto top = store_->ListObjects("bucket-1", options);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->objects.size(), 3u);  // a, bx, d
  EXPECT_EQ(top->common_prefixes, (std::vector<std::string>{"b/", "c/"}));
  options.prefix = "b/";
  auto sub = store_->ListObjects("bucket-1", options);
  ASSERT_EQ(sub->objects.size(), 2u);
  EXPECT_EQ(sub->common_prefixes, std::vector<std::string>{"b/c/"});
  // Paging across a common prefix does not repeat it.
  ListOptions page;
  page.delimiter = "/";
  page.max_keys = 2;
  auto first = store_->ListObjects("bucket-1", page);
  ASSERT_TRUE(first->truncated);
  EXPECT_EQ(first->last_returned, "b/");
  page.start_after = first->last_returned;
  auto second = store_->ListObjects("bucket-1", page);
  ASSERT_EQ(second->objects.size(), 1u);
  EXPECT_EQ(second->objects[0].key, "bx");
  EXPECT_EQ(second->common_prefixes, std::vector<std::string>{"c/"});
  // A non-slash delimiter works on the full walk.
  ListOptions dash;
  dash.delimiter = "x";
  EXPECT_EQ(store_->ListObjects("bucket-1", dash)->common_prefixes, std::vector<std::string>{"bx"});
  ListOptions zero;
  zero.max_keys = 0;
  EXPECT_FALSE(store_->ListObjects("bucket-1", zero)->truncated);
}

}  // namespace
}  // namespace osprey::storage

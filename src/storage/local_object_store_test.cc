#include "storage/local_object_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace osprey::storage {
namespace {
namespace fs = std::filesystem;

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("osprey-store-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    auto store = LocalObjectStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->CreateBucket("bucket-1").ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  std::unique_ptr<LocalObjectStore> store_;
};

TEST_F(LocalObjectStoreTest, PutThenGetRoundTrips) {
  auto put =
      store_->PutObject("bucket-1", "images/a.jpg", "hello", {"image/jpeg", {{"k", "v"}}, ""});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, "5d41402abc4b2a76b9719d911017c592");
  auto got = store_->GetObject("bucket-1", "images/a.jpg");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "hello");
  auto head = store_->HeadObject("bucket-1", "images/a.jpg");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 5);
  EXPECT_EQ(head->content_type, "image/jpeg");
  EXPECT_EQ(head->user_metadata.at("k"), "v");
}

TEST_F(LocalObjectStoreTest, KeyAndItsChildCoexist) {
  ASSERT_TRUE(store_->PutObject("bucket-1", "a", "1", {}).ok());
  ASSERT_TRUE(store_->PutObject("bucket-1", "a/b", "22", {}).ok());
  EXPECT_EQ(*store_->GetObject("bucket-1", "a"), "1");
  EXPECT_EQ(*store_->GetObject("bucket-1", "a/b"), "22");
  auto list = store_->ListObjects("bucket-1", {});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->objects.size(), 2u);
  EXPECT_EQ(list->objects[0].key, "a");
  EXPECT_EQ(list->objects[1].key, "a/b");
}

TEST_F(LocalObjectStoreTest, HostileKeysNeverLeaveTheBucket) {
  for (const std::string& key : std::vector<std::string>{
           "..", ".", "a/../../etc/passwd", "/abs", "a//b", "a\\b", "a/./b", std::string("a\0b", 3),
           std::string("\xff\xfe"), std::string(1025, 'k'), std::string(".osprey.obj"),
           std::string("x/.osprey.meta")}) {
    EXPECT_FALSE(store_->PutObject("bucket-1", key, "x", {}).ok()) << key;
    EXPECT_EQ(store_->HeadObject("bucket-1", key).status().code(), StatusCode::kNotFound) << key;
  }
  EXPECT_FALSE(fs::exists(root_ / "etc"));
  EXPECT_TRUE(store_->ListObjects("bucket-1", {})->objects.empty());
}

TEST_F(LocalObjectStoreTest, BucketNamesFollowS3Rules) {
  for (const std::string& bad :
       std::vector<std::string>{"ab", "UPPER", "a..b", "-ab", "ab-", "192.168.1.1", "a_b", "../x",
                                std::string(64, 'a')}) {
    EXPECT_EQ(store_->CreateBucket(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store_->CreateBucket("bucket-1").code(), StatusCode::kAlreadyExists);
}

TEST_F(LocalObjectStoreTest, DeleteBucketRefusesWhileNotEmpty) {
  ASSERT_TRUE(store_->PutObject("bucket-1", "k", "v", {}).ok());
  EXPECT_EQ(store_->DeleteBucket("bucket-1").code(), StatusCode::kInUse);
  ASSERT_TRUE(store_->DeleteObject("bucket-1", "k").ok());
  EXPECT_TRUE(store_->DeleteBucket("bucket-1").ok());
  EXPECT_FALSE(store_->BucketExists("bucket-1"));
}

TEST_F(LocalObjectStoreTest, FailedStreamLeavesNothingVisible) {
  ASSERT_TRUE(store_->PutObject("bucket-1", "k", "old", {}).ok());
  auto put = store_->PutObjectStream("bucket-1", "k",
                                     [](const ChunkWriter& write) {
                                       Status s = write("partial");
                                       if (!s.ok()) return s;
                                       return Status::Internal("client went away");
                                     },
                                     {});
  EXPECT_FALSE(put.ok());
  EXPECT_EQ(*store_->GetObject("bucket-1", "k"), "old");
  EXPECT_TRUE(fs::is_empty(root_ / ".tmp"));
}

TEST_F(LocalObjectStoreTest, ConcurrentPutsLeaveOneCompleteWinner) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::string body(100000, static_cast<char>('a' + t));
      for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->PutObject("bucket-1", "same", body, {}).ok());
    });
  }
  for (auto& th : threads) th.join();
  auto got = store_->GetObject("bucket-1", "same");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 100000u);
  EXPECT_EQ(got->find_first_not_of(got->front()), std::string::npos);
  auto head = store_->HeadObject("bucket-1", "same");
  EXPECT_EQ(head->size, 100000);
}

TEST_F(LocalObjectStoreTest, ListHonoursPrefixStartAfterAndMaxKeys) {
  for (const std::string& key :
       std::vector<std::string>{"img/1", "img/2", "img/3", "imgx", "other/1"}) {
    ASSERT_TRUE(store_->PutObject("bucket-1", key, "x", {}).ok());
  }
  auto list = store_->ListObjects("bucket-1", {"img/", "img/1", 1, ""});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->objects.size(), 1u);
  EXPECT_EQ(list->objects[0].key, "img/2");
  EXPECT_TRUE(list->truncated);
  EXPECT_EQ(store_->ListObjects("bucket-1", {"img", "", 100, ""})->objects.size(), 4u);
}

TEST_F(LocalObjectStoreTest, RangeReadsAndBadRanges) {
  ASSERT_TRUE(store_->PutObject("bucket-1", "k", "0123456789", {}).ok());
  std::string got;
  ASSERT_TRUE(store_
                  ->ReadObject("bucket-1", "k", 2, 3,
                               [&](std::string_view c) {
                                 got.append(c);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(got, "234");
  EXPECT_EQ(store_->ReadObject("bucket-1", "k", 8, 5, [](std::string_view) { return true; }).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(LocalObjectStoreTest, OpenObjectPinsOneVersion) {
  ASSERT_TRUE(store_->PutObject("bucket-1", "k", "first version", {}).ok());
  auto reader = store_->OpenObject("bucket-1", "k");
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(store_->PutObject("bucket-1", "k", "second", {}).ok());
  ASSERT_TRUE(store_->DeleteObject("bucket-1", "k").ok());
  std::string got;
  ASSERT_TRUE((*reader)
                  ->Read(0, (*reader)->info().size,
                         [&](std::string_view c) {
                           got.append(c);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(got, "first version");
  EXPECT_EQ((*reader)->info().size, 13);
  EXPECT_EQ(store_->OpenObject("bucket-1", "k").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace osprey::storage

#include "common/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace osprey {
namespace {

TEST(FileTest, ReadsEveryByteAndReportsAMissingFile) {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("osprey-file-test-" + std::to_string(::getpid()));
  std::string bytes("a\0b\r\n\xff", 6);
  std::ofstream(path, std::ios::binary) << bytes;
  Result<std::string> read = ReadWholeFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, bytes);
  std::filesystem::remove(path);
  Result<std::string> missing = ReadWholeFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(path.string()), std::string::npos);
}

}  // namespace
}  // namespace osprey

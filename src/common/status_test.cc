#include "common/status.h"

#include <gtest/gtest.h>

#include "common/ids.h"
#include "common/result.h"

namespace osprey {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  OSPREY_ASSIGN_OR_RETURN(int half, Half(x));
  OSPREY_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusTest, OkAndErrorToString) {
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  EXPECT_EQ(Status::NotFound("p1").ToString(), "NotFound: p1");
  EXPECT_FALSE(Status::InUse("x").ok());
}

TEST(ResultTest, AssignOrReturnPropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(IdsTest, UuidHasVersionFourShape) {
  std::string a = NewUuid();
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, NewUuid());
}

}  // namespace
}  // namespace osprey

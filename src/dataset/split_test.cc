#include "dataset/split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace osprey::dataset {
namespace {

std::vector<SplitItem> Items(const std::map<std::string, int>& per_label) {
  std::vector<SplitItem> items;
  for (const auto& [label, count] : per_label) {
    for (int item_idx = 0; item_idx < count; ++item_idx) {
      items.push_back({"s3://b/" + label + "/" + std::to_string(item_idx) + ".jpg", {label}});
    }
  }
  return items;
}

TEST(SplitTest, TwentyPercentPerLabel) {
  auto items = Items({{"cat", 50}, {"dog", 20}});
  auto chosen = ChooseTestSplit(items);
  EXPECT_EQ(chosen.size(), 14u);  // 70 -> 56/14, as observed on AWS (§10)
  std::map<std::string, int> per_label;
  for (size_t idx : chosen) ++per_label[items[idx].labels[0]];
  EXPECT_EQ(per_label["cat"], 10);
  EXPECT_EQ(per_label["dog"], 4);
}

TEST(SplitTest, DeterministicAndOrderIndependent) {
  auto items = Items({{"a", 13}, {"b", 7}, {"c", 3}});
  auto first = ChooseTestSplit(items);
  EXPECT_EQ(first, ChooseTestSplit(items));
  std::set<std::string> keys;
  for (size_t idx : first) keys.insert(items[idx].key);
  std::vector<SplitItem> reversed(items.rbegin(), items.rend());
  std::set<std::string> reversed_keys;
  for (size_t idx : ChooseTestSplit(reversed)) reversed_keys.insert(reversed[idx].key);
  EXPECT_EQ(keys, reversed_keys);
  SplitOptions other;
  other.seed = 99;
  std::set<std::string> other_keys;
  for (size_t idx : ChooseTestSplit(items, other)) other_keys.insert(items[idx].key);
  EXPECT_EQ(other_keys.size(), keys.size());
}

TEST(SplitTest, NeverTakesTheLastItemOfALabel) {
  auto items = Items({{"rare", 1}, {"pair", 2}, {"common", 10}});
  auto chosen = ChooseTestSplit(items);
  for (size_t idx : chosen) EXPECT_NE(items[idx].labels[0], "rare");
  std::map<std::string, int> left;
  for (size_t idx = 0; idx < items.size(); ++idx) {
    if (!std::binary_search(chosen.begin(), chosen.end(), idx)) ++left[items[idx].labels[0]];
  }
  EXPECT_EQ(left.size(), 3u);
  EXPECT_TRUE(ChooseTestSplit({}).empty());
  EXPECT_TRUE(ChooseTestSplit(Items({{"one", 1}})).empty());
}

TEST(SplitTest, MultiLabelItemsAreStratifiedByTheirRarestLabel) {
  std::vector<SplitItem> items = Items({{"common", 40}});
  for (int item_idx = 0; item_idx < 10; ++item_idx) {
    items.push_back({"s3://b/m" + std::to_string(item_idx), {"common", "rare"}});
  }
  auto chosen = ChooseTestSplit(items);
  EXPECT_EQ(chosen.size(), 10u);
  int rare = 0;
  for (size_t idx : chosen) rare += items[idx].labels.size() == 2;
  EXPECT_EQ(rare, 2);
}

}  // namespace
}  // namespace osprey::dataset

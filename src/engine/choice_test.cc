#include "engine/choice.h"

#include <gtest/gtest.h>

namespace osprey::engine {
namespace {

TEST(ChoiceTest, HighestF1WinsAndEqualF1GoesToTheLowerLoss) {
  EXPECT_EQ(ChooseOption({{0.80, 0.5, true}, {0.85, 0.9, true}}, 0.03), 1u);
  // Cards, seed 1: scratch alone and conv-head+scratch both at 0.925; the pair has the lower loss.
  EXPECT_EQ(ChooseOption({{0.912, 0.30, true}, {0.925, 0.28, true}, {0.925, 0.21, true}}, 0.03), 2u);
  // Equal f1 and loss: the earlier (cheaper) option.
  EXPECT_EQ(ChooseOption({{0.9, 0.2, true}, {0.9, 0.2, true}}, 0.03), 0u);
}

TEST(ChoiceTest, UntrustedOptionsMustWinByTheMargin) {
  // The frozen head (untrusted) is ahead by less than the margin: the trusted option stays.
  EXPECT_EQ(ChooseOption({{0.84, 0.4, false}, {0.82, 0.5, true}}, 0.03), 1u);
  // Ahead by the margin or more: it is kept.
  EXPECT_EQ(ChooseOption({{0.86, 0.4, false}, {0.82, 0.5, true}}, 0.03), 0u);
  // No trusted option at all: the best one.
  EXPECT_EQ(ChooseOption({{0.5, 0.4, false}, {0.6, 0.5, false}}, 0.03), 1u);
  // A tie between untrusted and trusted options goes to the trusted one whatever the loss.
  EXPECT_EQ(ChooseOption({{0.7, 0.1, false}, {0.7, 0.9, true}}, 0.03), 1u);
}

}  // namespace
}  // namespace osprey::engine

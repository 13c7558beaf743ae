#include "engine/box_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace osprey::engine {
namespace {

TEST(BoxMathTest, IoUOfKnownBoxes) {
  Box a{0, 0, 10, 10};
  EXPECT_FLOAT_EQ(IoU(a, a), 1.0f);
  EXPECT_FLOAT_EQ(IoU(a, Box{5, 0, 10, 10}), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(IoU(a, Box{5, 5, 10, 10}), 25.0f / 175.0f);
  EXPECT_FLOAT_EQ(IoU(a, Box{2, 2, 4, 4}), 16.0f / 100.0f);  // contained
  EXPECT_FLOAT_EQ(IoU(a, Box{10, 0, 5, 5}), 0.0f);           // touching edges
  EXPECT_FLOAT_EQ(IoU(a, Box{20, 20, 5, 5}), 0.0f);
  EXPECT_FLOAT_EQ(IoU(a, Box{3, 3, 0, 0}), 0.0f);  // empty box
  EXPECT_FLOAT_EQ(IoU(Box{5, 0, 10, 10}, a), IoU(a, Box{5, 0, 10, 10}));
}

TEST(BoxMathTest, LetterboxOfLandscapeImagePadsTopAndBottom) {
  Letterbox lb = MakeLetterbox(640, 480, 320);
  EXPECT_FLOAT_EQ(lb.scale, 0.5f);
  EXPECT_EQ(lb.scaled_width, 320);
  EXPECT_EQ(lb.scaled_height, 240);
  EXPECT_FLOAT_EQ(lb.pad_x, 0);
  EXPECT_FLOAT_EQ(lb.pad_y, 40);
  Box in = ToLetterbox(lb, Box{100, 50, 60, 80});
  EXPECT_FLOAT_EQ(in.left, 50);
  EXPECT_FLOAT_EQ(in.top, 65);
  EXPECT_FLOAT_EQ(in.width, 30);
  EXPECT_FLOAT_EQ(in.height, 40);
}

TEST(BoxMathTest, LetterboxOfPortraitImagePadsLeftAndRight) {
  Letterbox lb = MakeLetterbox(240, 320, 416);
  EXPECT_FLOAT_EQ(lb.scale, 1.3f);
  EXPECT_EQ(lb.scaled_height, 416);
  EXPECT_EQ(lb.scaled_width, 312);
  EXPECT_FLOAT_EQ(lb.pad_x, 52);
  EXPECT_FLOAT_EQ(lb.pad_y, 0);
}

TEST(BoxMathTest, LetterboxRoundTripIsIdentity) {
  for (auto [w, h] : {std::pair{640, 480}, std::pair{333, 1000}, std::pair{4096, 64}}) {
    Letterbox lb = MakeLetterbox(w, h, 320);
    Box original{w * 0.1f, h * 0.2f, w * 0.3f, h * 0.4f};
    Box back = FromLetterbox(lb, ToLetterbox(lb, original));
    EXPECT_NEAR(back.left, original.left, 1e-3 * w);
    EXPECT_NEAR(back.top, original.top, 1e-3 * h);
    EXPECT_NEAR(back.width, original.width, 1e-3 * w);
    EXPECT_NEAR(back.height, original.height, 1e-3 * h);
  }
}

TEST(BoxMathTest, NormaliseRoundTrips) {
  Box ratios = Normalise(Box{64, 48, 320, 240}, 640, 480);
  EXPECT_FLOAT_EQ(ratios.left, 0.1f);
  EXPECT_FLOAT_EQ(ratios.top, 0.1f);
  EXPECT_FLOAT_EQ(ratios.width, 0.5f);
  EXPECT_FLOAT_EQ(ratios.height, 0.5f);
  Box pixels = Denormalise(ratios, 640, 480);
  EXPECT_FLOAT_EQ(pixels.left, 64);
  EXPECT_FLOAT_EQ(pixels.height, 240);
}

TEST(BoxMathTest, DeltasOfKnownBoxesAndTheirRoundTrip) {
  Box from{10, 20, 40, 20}, to{20, 15, 80, 20};  // centre (30, 30) -> (60, 25), width x 2
  BoxDeltas deltas = DeltasBetween(from, to);
  EXPECT_FLOAT_EQ(deltas.x, 30.0f / 40.0f);
  EXPECT_FLOAT_EQ(deltas.y, -5.0f / 20.0f);
  EXPECT_FLOAT_EQ(deltas.w, std::log(2.0f));
  EXPECT_FLOAT_EQ(deltas.h, 0.0f);
  Box back = ApplyDeltas(from, deltas);
  EXPECT_NEAR(back.left, to.left, 1e-4);
  EXPECT_NEAR(back.top, to.top, 1e-4);
  EXPECT_NEAR(back.width, to.width, 1e-4);
  EXPECT_NEAR(back.height, to.height, 1e-4);
  Box same = ApplyDeltas(from, {});
  EXPECT_FLOAT_EQ(same.left, from.left);
  EXPECT_FLOAT_EQ(same.width, from.width);
  // A wild scale is clamped to e^+-1 around the centre.
  Box wild = ApplyDeltas(from, {0, 0, 50, -50});
  EXPECT_NEAR(wild.width, 40 * std::exp(1.0f), 1e-3);
  EXPECT_NEAR(wild.height, 20 * std::exp(-1.0f), 1e-4);
  EXPECT_NEAR(wild.left + wild.width / 2, 30, 1e-4);
}

TEST(BoxMathTest, ClipBoxKeepsInsidePart) {
  Box clipped = ClipBox(Box{-10, 90, 30, 30}, 100, 100);
  EXPECT_FLOAT_EQ(clipped.left, 0);
  EXPECT_FLOAT_EQ(clipped.top, 90);
  EXPECT_FLOAT_EQ(clipped.width, 20);
  EXPECT_FLOAT_EQ(clipped.height, 10);
  EXPECT_FLOAT_EQ(ClipBox(Box{200, 200, 5, 5}, 100, 100).area(), 0);
}

TEST(BoxMathTest, ValidateBoxRejectsBadBoxes) {
  EXPECT_TRUE(ValidateBox(Box{0, 0, 320, 240}, 320, 240).ok());
  EXPECT_TRUE(ValidateBox(Box{-0.5f, 0, 320.5f, 240}, 320, 240).ok());  // within tolerance
  EXPECT_EQ(ValidateBox(Box{300, 10, 50, 20}, 320, 240).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateBox(Box{-20, 10, 50, 20}, 320, 240).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateBox(Box{10, 10, 0, 20}, 320, 240).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateBox(Box{10, 10, -5, 20}, 320, 240).code(), StatusCode::kInvalidArgument);
  float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(ValidateBox(Box{nan, 10, 5, 20}, 320, 240).code(), StatusCode::kInvalidArgument);
}

TEST(BoxMathTest, NmsIsClassAwareAndSorted) {
  std::vector<Detection> input = {
      {0, 0.6f, {0, 0, 10, 10}},   // suppressed by the 0.9 box of label 0
      {0, 0.9f, {1, 0, 10, 10}},
      {1, 0.8f, {0, 0, 10, 10}},   // other label: kept
      {0, 0.7f, {50, 50, 10, 10}}, // far away: kept
      {0, 0.5f, {6, 0, 10, 10}},   // IoU with 0.9 box = 5/15 < 0.5: kept
  };
  std::vector<Detection> kept = NonMaxSuppression(input, /*iou_threshold=*/0.5f);
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_FLOAT_EQ(kept[0].confidence, 0.9f);
  EXPECT_FLOAT_EQ(kept[1].confidence, 0.8f);
  EXPECT_EQ(kept[1].label, 1);
  EXPECT_FLOAT_EQ(kept[2].confidence, 0.7f);
  EXPECT_FLOAT_EQ(kept[3].confidence, 0.5f);
  EXPECT_EQ(NonMaxSuppression(input, 0.5f, /*max_detections=*/2).size(), 2u);
  EXPECT_TRUE(NonMaxSuppression({}, 0.5f).empty());
}

}  // namespace
}  // namespace osprey::engine

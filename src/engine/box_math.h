// Box arithmetic for object detection: intersection over union, the letterbox transform
// between image pixels and the square network input, normalisation to ratios of the image
// (Rekognition's BoundingBox form), validation and class-aware non-maximum suppression.
// Plain C++ (no LibTorch); all functions are pure and thread-safe.
#pragma once

#include <vector>

#include "common/status.h"

namespace osprey::engine {

// An axis-aligned box: left/top corner plus size. The unit (pixels, letterbox pixels or ratios
// of the image) is given by the context; every function below says which it expects.
struct Box {
  float left = 0, top = 0, width = 0, height = 0;

  float right() const { return left + width; }
  float bottom() const { return top + height; }
  float area() const { return width > 0 && height > 0 ? width * height : 0.0f; }
};

// Intersection over union in [0, 1]; 0 when either box is empty. Any consistent unit.
float IoU(const Box& a, const Box& b);

// How an image of `image_width` x `image_height` is placed in a square `size` x `size` network
// input: scaled by `scale` (aspect ratio kept, the long side fills the square) and centred, the
// rest padded. Letterbox pixel = image pixel * scale + pad.
struct Letterbox {
  int size = 0;
  float scale = 1;
  float pad_x = 0, pad_y = 0;
  int scaled_width = 0, scaled_height = 0;  // the image's extent inside the square
};

// REQUIRES: image_width, image_height, size > 0.
Letterbox MakeLetterbox(int image_width, int image_height, int size);
// Image pixels -> letterbox pixels, and back.
Box ToLetterbox(const Letterbox& letterbox, const Box& image_box);
Box FromLetterbox(const Letterbox& letterbox, const Box& letterbox_box);

// Pixels <-> ratios of the image (Left/Top/Width/Height in 0..1). REQUIRES: width, height > 0.
Box Normalise(const Box& pixel_box, int image_width, int image_height);
Box Denormalise(const Box& ratio_box, int image_width, int image_height);

// Clips a box to [0, width] x [0, height]; the result may be empty.
Box ClipBox(const Box& box, float width, float height);

// Checks a ground-truth box in pixels against its image: finite values, positive size, and
// inside the image up to `tolerance_px` (annotation tools round outward). Returns
// kInvalidArgument, with the reason, otherwise.
Status ValidateBox(const Box& pixel_box, int image_width, int image_height,
                   float tolerance_px = 1.0f);

// A box correction in the Fast R-CNN form: the centre moves by (x * width, y * height) of the
// box, the width and height scale by e^w and e^h.
struct BoxDeltas {
  float x = 0, y = 0, w = 0, h = 0;
};
// `box` corrected by `deltas`, the scales clamped to e^+-1 (a wild correction stays bounded).
Box ApplyDeltas(const Box& box, const BoxDeltas& deltas);
// The deltas that turn `from` into `to`. REQUIRES: both boxes have positive sides.
BoxDeltas DeltasBetween(const Box& from, const Box& to);

// One detected object. `label` indexes the model's labels; confidence is 0..1.
struct Detection {
  int label = 0;
  float confidence = 0;
  Box box;
};

// Class-aware greedy non-maximum suppression: within each label, keeps the most confident box
// and drops every other box of that label overlapping a kept one with IoU > iou_threshold.
// Boxes of different labels never suppress each other. Returns at most `max_detections` boxes
// (<= 0: no limit), most confident first; ties keep the input order.
std::vector<Detection> NonMaxSuppression(std::vector<Detection> detections, float iou_threshold,
                                         int max_detections = 0);

}  // namespace osprey::engine

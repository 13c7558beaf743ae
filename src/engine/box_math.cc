#include "engine/box_math.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace osprey::engine {

float IoU(const Box& a, const Box& b) {
  float inter_w = std::min(a.right(), b.right()) - std::max(a.left, b.left);
  float inter_h = std::min(a.bottom(), b.bottom()) - std::max(a.top, b.top);
  if (inter_w <= 0 || inter_h <= 0) return 0;
  float inter = inter_w * inter_h;
  float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

Letterbox MakeLetterbox(int image_width, int image_height, int size) {
  Letterbox letterbox;
  letterbox.size = size;
  letterbox.scale = static_cast<float>(size) / static_cast<float>(std::max(image_width, image_height));
  // Rounded, never zero: a 4000 x 10 image still gets one row.
  letterbox.scaled_width =
      std::clamp(static_cast<int>(std::lround(image_width * letterbox.scale)), 1, size);
  letterbox.scaled_height =
      std::clamp(static_cast<int>(std::lround(image_height * letterbox.scale)), 1, size);
  // Integer padding, so the pasted pixels line up with the transform exactly.
  letterbox.pad_x = static_cast<float>((size - letterbox.scaled_width) / 2);
  letterbox.pad_y = static_cast<float>((size - letterbox.scaled_height) / 2);
  return letterbox;
}

Box ToLetterbox(const Letterbox& letterbox, const Box& image_box) {
  return {image_box.left * letterbox.scale + letterbox.pad_x,
          image_box.top * letterbox.scale + letterbox.pad_y, image_box.width * letterbox.scale,
          image_box.height * letterbox.scale};
}

Box FromLetterbox(const Letterbox& letterbox, const Box& letterbox_box) {
  return {(letterbox_box.left - letterbox.pad_x) / letterbox.scale,
          (letterbox_box.top - letterbox.pad_y) / letterbox.scale,
          letterbox_box.width / letterbox.scale, letterbox_box.height / letterbox.scale};
}

Box Normalise(const Box& pixel_box, int image_width, int image_height) {
  float w = static_cast<float>(image_width), h = static_cast<float>(image_height);
  return {pixel_box.left / w, pixel_box.top / h, pixel_box.width / w, pixel_box.height / h};
}

Box Denormalise(const Box& ratio_box, int image_width, int image_height) {
  float w = static_cast<float>(image_width), h = static_cast<float>(image_height);
  return {ratio_box.left * w, ratio_box.top * h, ratio_box.width * w, ratio_box.height * h};
}

Box ClipBox(const Box& box, float width, float height) {
  float left = std::clamp(box.left, 0.0f, width), top = std::clamp(box.top, 0.0f, height);
  float right = std::clamp(box.right(), 0.0f, width);
  float bottom = std::clamp(box.bottom(), 0.0f, height);
  return {left, top, std::max(0.0f, right - left), std::max(0.0f, bottom - top)};
}

Box ApplyDeltas(const Box& box, const BoxDeltas& deltas) {
  float w = box.width * std::exp(std::clamp(deltas.w, -1.0f, 1.0f));
  float h = box.height * std::exp(std::clamp(deltas.h, -1.0f, 1.0f));
  float cx = box.left + box.width / 2 + deltas.x * box.width;
  float cy = box.top + box.height / 2 + deltas.y * box.height;
  return {cx - w / 2, cy - h / 2, w, h};
}

BoxDeltas DeltasBetween(const Box& from, const Box& to) {
  return {(to.left + to.width / 2 - from.left - from.width / 2) / from.width,
          (to.top + to.height / 2 - from.top - from.height / 2) / from.height, std::log(to.width / from.width),
          std::log(to.height / from.height)};
}

Status ValidateBox(const Box& box, int image_width, int image_height, float tolerance_px) {
  auto describe = [&] {
    return "box (left " + std::to_string(box.left) + ", top " + std::to_string(box.top) +
           ", width " + std::to_string(box.width) + ", height " + std::to_string(box.height) +
           ") in a " + std::to_string(image_width) + "x" + std::to_string(image_height) + " image";
  };
  if (!std::isfinite(box.left) || !std::isfinite(box.top) || !std::isfinite(box.width) ||
      !std::isfinite(box.height)) {
    return Status::InvalidArgument("non-finite " + describe());
  }
  if (box.width <= 0 || box.height <= 0) return Status::InvalidArgument("empty " + describe());
  if (box.left < -tolerance_px || box.top < -tolerance_px ||
      box.right() > static_cast<float>(image_width) + tolerance_px ||
      box.bottom() > static_cast<float>(image_height) + tolerance_px) {
    return Status::InvalidArgument("out-of-image " + describe());
  }
  return Status::Ok();
}

std::vector<Detection> NonMaxSuppression(std::vector<Detection> detections, float iou_threshold,
                                         int max_detections) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.confidence > b.confidence; });
  std::vector<Detection> kept;
  for (const Detection& candidate : detections) {
    bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& other) {
      return other.label == candidate.label && IoU(other.box, candidate.box) > iou_threshold;
    });
    if (suppressed) continue;
    kept.push_back(candidate);
    if (max_detections > 0 && static_cast<int>(kept.size()) >= max_detections) break;
  }
  return kept;
}

}  // namespace osprey::engine

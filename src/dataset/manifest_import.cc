#include "dataset/manifest_import.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "dataset/image_check.h"
#include "dataset/manifest_errors.h"
#include "dataset/manifest_line.h"

namespace osprey::dataset {
namespace {

constexpr size_t kMaxReportedIndices = 1000;
constexpr size_t kImageCheckWindow = 256;  // lines parsed ahead of their image checks

// Duplicate detection keeps 128 bits per source-ref instead of the string: a hostile manifest
// of 250,000 long source-refs must not cost gigabytes.
struct RefHash {
  uint64_t a = 0;
  uint64_t b = 0;
  bool operator==(const RefHash&) const = default;
};
struct RefHashHasher {
  size_t operator()(const RefHash& h) const { return static_cast<size_t>(h.a ^ (h.b * 31)); }
};
RefHash HashRef(std::string_view ref) {
  uint64_t fnv = 14695981039346656037ull;
  for (char c : ref) fnv = (fnv ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return RefHash{fnv, std::hash<std::string_view>{}(ref)};
}

// A detection line's `image_size` must be the real image's size: its boxes are in that frame
// and are checked against it (manifest_line.cc), so a wrong size would let a box hang off the
// real image or shrink below AWS's 1 px rule unseen. AWS's catalogue (rekognition-api.md §9.3)
// has no code for this mismatch; its one code for a bad size of an image with boxes is
// ERROR_INVALID_IMAGE_DIMENSION ("The image dimension(s) do not conform to allowed
// dimensions."), line-level, and that is the code used. ERROR_INVALID_BOUNDING_BOX is
// annotation-level ("off frame values") and would blame boxes that fit the declared frame.
// The boxes keep their own verdicts: the line is flagged, not re-judged against the header.
bool DeclaredSizeMismatch(const ParsedLine& parsed, const ImageCheck& image) {
  if (image.error) return false;  // already ERROR_INVALID_IMAGE(_DIMENSION)
  for (const DeclaredImageSize& declared : parsed.declared_sizes) {
    if (declared.width != image.width || declared.height != image.height) return true;
  }
  return false;
}

class Importer {
 public:
  Importer(const storage::ObjectStore& images, const ImportOptions& options,
           const EntrySink& sink)
      : images_(images), options_(options), sink_(sink) {
    result_.image_bucket = options.required_bucket;
  }

  // Returns false when a terminal file error stops the import.
  Result<bool> Add(const ManifestLine& line) {
    ++result_.total_lines;
    if (result_.total_lines > options_.limits.max_lines) return Fail(kErrTooManyRows);
    Pending pending;
    pending.index = line.index;
    if (line.too_long) {
      pending.parsed.drop_code = std::string(kErrLineTooLong);
    } else {
      pending.parsed = ParseManifestLine(line.text, options_.limits);
    }
    ParsedLine& parsed = pending.parsed;
    if (!parsed.drop_code && !seen_.insert(HashRef(parsed.entry.source_ref)).second) {
      parsed.drop_code = std::string(kErrDuplicateSourceRef);
    }
    if (parsed.drop_code && options_.keep_dropped_lines && !line.too_long) pending.text = line.text;
    if (!parsed.drop_code) {
      if (result_.image_bucket.empty()) result_.image_bucket = parsed.entry.bucket;
      if (parsed.entry.bucket != result_.image_bucket) return Fail(kErrMultipleBuckets);
    }
    pending_.push_back(std::move(pending));
    if (pending_.size() >= kImageCheckWindow) OSPREY_RETURN_IF_ERROR(Drain());
    return true;
  }

  // Checks the images of the pending lines (in parallel: each check is a few syscalls that
  // mostly wait on the file system), then finishes them in manifest order.
  Status Drain() {
    CheckImages();
    for (auto& pending : pending_) {
      ParsedLine& parsed = pending.parsed;
      if (parsed.drop_code) {
        ++result_.dropped_lines;
        NoteInvalid(pending.index);
        if (options_.keep_dropped_lines) {
          result_.dropped.push_back({pending.index, std::move(pending.text), *parsed.drop_code});
        }
        continue;
      }
      if (pending.image.error) AddLineError(parsed, *pending.image.error);
      if (DeclaredSizeMismatch(parsed, pending.image)) {
        AddLineError(parsed, kErrInvalidImageDimension);
      }
      if (parsed.entry.image_width == 0) {
        parsed.entry.image_width = pending.image.width;
        parsed.entry.image_height = pending.image.height;
      }
      FinishLine(parsed);
      parsed.entry.line_index = pending.index;
      parsed.entry.object_detection = parsed.has_detection;
      if (parsed.entry.has_errors) {
        ++result_.error_entries;
        NoteInvalid(pending.index);
      }
      for (const auto& label : parsed.entry.labels) {
        if (result_.labels.size() <= options_.limits.max_labels) result_.labels.insert(label.name);
      }
      ++result_.entries;
      batch_.push_back(std::move(parsed.entry));
      if (batch_.size() >= options_.batch_size) OSPREY_RETURN_IF_ERROR(Flush());
    }
    pending_.clear();
    return Status::Ok();
  }

  Status Flush() {
    if (batch_.empty()) return Status::Ok();
    Status s = sink_(batch_);
    batch_.clear();
    return s;
  }

  // The rules that need the whole file (§9.2).
  void Finish() {
    if (result_.failure) return;
    if (result_.total_lines == 0) {
      Fail(kErrEmptyManifest);
    } else if (result_.labels.size() > options_.limits.max_labels) {
      Fail(kErrTooManyLabels);
    } else if (static_cast<double>(result_.dropped_lines + result_.error_entries) >
               options_.limits.max_invalid_fraction * static_cast<double>(result_.total_lines)) {
      Fail(kErrTooManyRecordsInError);
    }
  }

  bool Fail(std::string_view code) {
    result_.failure = MakeError(code);
    return false;
  }

  ImportResult& result() { return result_; }

 private:
  struct Pending {
    ParsedLine parsed;
    int64_t index = 0;
    std::string text;  // kept only for dropped lines, with keep_dropped_lines
    ImageCheck image;
  };

  void CheckImages() {
    std::vector<Pending*> todo;
    for (auto& pending : pending_) {
      if (!pending.parsed.drop_code) todo.push_back(&pending);
    }
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t todo_idx = next++; todo_idx < todo.size(); todo_idx = next++) {
        const ParsedLine& parsed = todo[todo_idx]->parsed;
        todo[todo_idx]->image = CheckImage(images_, parsed.entry.bucket, parsed.entry.key,
                                           parsed.has_detection, options_.limits);
      }
    };
    std::vector<std::thread> helpers;
    size_t wanted = std::min(options_.image_check_threads, todo.size());
    for (size_t helper_idx = 1; helper_idx < wanted; ++helper_idx) {
      try {
        helpers.emplace_back(work);
      } catch (const std::system_error&) {
        break;  // no more threads to be had: the calling thread does the rest
      }
    }
    work();
    for (auto& helper : helpers) helper.join();
  }

  void NoteInvalid(int64_t index) {
    if (result_.invalid_line_indices.size() < kMaxReportedIndices) {
      result_.invalid_line_indices.push_back(index);
    }
  }

  const storage::ObjectStore& images_;
  const ImportOptions& options_;
  const EntrySink& sink_;
  ImportResult result_;
  std::unordered_set<RefHash, RefHashHasher> seen_;
  std::vector<DatasetEntry> batch_;
  std::vector<Pending> pending_;  // parsed lines waiting for their image check
};

}  // namespace

Result<ImportResult> ImportManifest(const ChunkReader& read, int64_t manifest_bytes,
                                    const storage::ObjectStore& images,
                                    const ImportOptions& options, const EntrySink& sink) {
  Importer importer(images, options, sink);
  if (manifest_bytes > options.limits.max_manifest_bytes) {
    importer.Fail(kErrManifestTooLarge);
    return std::move(importer.result());
  }
  ManifestLineReader reader(read, options.limits.max_line_bytes);
  ManifestLine line;
  while (reader.Next(line)) {
    OSPREY_ASSIGN_OR_RETURN(bool go_on, importer.Add(line));
    if (!go_on) return std::move(importer.result());
    // A manifest that grew past the size limit while we read it is still too large.
    if (reader.bytes_read() > options.limits.max_manifest_bytes) {
      importer.Fail(kErrManifestTooLarge);
      return std::move(importer.result());
    }
  }
  OSPREY_RETURN_IF_ERROR(reader.status());
  OSPREY_RETURN_IF_ERROR(importer.Drain());
  OSPREY_RETURN_IF_ERROR(importer.Flush());
  importer.Finish();
  return std::move(importer.result());
}

std::optional<LineError> CheckTrainingLabels(size_t label_count, bool object_detection,
                                             const ManifestLimits& limits) {
  if (label_count > limits.max_labels) return MakeError(kErrTooManyLabels);
  size_t minimum = object_detection ? 1 : limits.min_classification_labels;
  if (label_count < minimum) return MakeError(kErrTooFewLabels);
  return std::nullopt;
}

}  // namespace osprey::dataset

// libFuzzer target for the manifest line parser (dataset/manifest_line.h), built by
// scripts/fuzz.sh with ASan + UBSan (docs/design/datasets.md, "Fuzzing"). The properties are the
// ones manifest_fuzz_test replays in CI: ParseManifestLine never crashes or throws, and a kept
// line serialises to a JSON object that re-imports to the same labels and boxes (the stored
// entry form must survive ListDatasetEntries -> UpdateDatasetEntries). A broken property
// aborts, which libFuzzer reports as a crash with the input saved.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dataset/manifest_line.h"

namespace {

void Require(bool condition, const char* what, const std::string& line) {
  if (condition) return;
  std::fprintf(stderr, "property broken: %s\nserialised line: %s\n", what, line.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using osprey::dataset::ParsedLine;
  const osprey::dataset::ManifestLimits limits;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ParsedLine parsed = osprey::dataset::ParseManifestLine(input, limits);
  if (parsed.drop_code) return 0;
  osprey::dataset::AddLineError(parsed, "ERROR_INVALID_IMAGE");
  osprey::dataset::FinishLine(parsed);
  const std::string& line = parsed.entry.line;

  nlohmann::json document = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  Require(document.is_object(), "a kept line serialises to a JSON object", line);
  auto metadata = document.find("cl-metadata");
  Require(metadata != document.end() && metadata->is_object() &&
              metadata->value("is_labeled", !parsed.entry.is_labeled) == parsed.entry.is_labeled,
          "cl-metadata.is_labeled matches the entry", line);

  ParsedLine again = osprey::dataset::ParseManifestLine(line, limits);
  Require(!again.drop_code, "the stored entry form is not dropped on re-import", line);
  Require(again.entry.source_ref == parsed.entry.source_ref, "same source-ref", line);
  Require(again.entry.labels.size() == parsed.entry.labels.size(), "same labels", line);
  for (size_t label_idx = 0; label_idx < parsed.entry.labels.size(); ++label_idx) {
    Require(again.entry.labels[label_idx].name == parsed.entry.labels[label_idx].name &&
                again.entry.labels[label_idx].has_box == parsed.entry.labels[label_idx].has_box,
            "same label names and box flags", line);
  }
  Require(again.entry.boxes.size() == parsed.entry.boxes.size(), "same boxes", line);
  return 0;
}

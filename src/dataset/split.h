// The deterministic, label-stratified train/test split: DistributeDatasetEntries moves the
// chosen 20 % into the test dataset, and training with TestingData.AutoCreate (or without a
// test dataset) holds them out for that run only (rekognition-api.md §3.10, §10). Pure and
// thread-safe: the same items (in any order) and seed always give the same choice.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace osprey::dataset {

struct SplitItem {
  std::string key;                  // a stable identity, e.g. the source-ref; orders the draw
  std::vector<std::string> labels;  // the item's labels (image-level and box labels)
};

struct SplitOptions {
  double test_fraction = 0.2;
  uint64_t seed = 0x05B7E1;         // fixed so that a split is reproducible
};

// Returns the indices into `items` chosen for the test set, ascending.
//
// Each item is assigned to one stratum: its rarest label over all items (ties broken by name);
// items without labels form their own stratum. Every stratum gives up round(n * fraction) items,
// apportioned by largest remainder so that the total is round(N * fraction), but never its last
// item, so every label of a stratum stays in training. Inside a stratum items are drawn in the
// order of a seeded hash of their key, which makes the split independent of input order.
std::vector<size_t> ChooseTestSplit(const std::vector<SplitItem>& items,
                                    const SplitOptions& options = {});

}  // namespace osprey::dataset

#include "dataset/split.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace osprey::dataset {
namespace {

uint64_t SeededHash(uint64_t seed, const std::string& key) {
  uint64_t h = 14695981039346656037ull ^ (seed * 0x9E3779B97F4A7C15ull);
  for (char c : key) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  // splitmix64 finaliser: FNV alone orders similar keys too regularly.
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

struct Stratum {
  std::vector<size_t> members;
  size_t quota = 0;
  double remainder = 0;
};

std::map<std::string, Stratum> BuildStrata(const std::vector<SplitItem>& items) {
  std::map<std::string, size_t> frequency;
  for (const auto& item : items) {
    for (const auto& label : item.labels) ++frequency[label];
  }
  std::map<std::string, Stratum> strata;  // "" = unlabelled; names sort deterministically
  for (size_t item_idx = 0; item_idx < items.size(); ++item_idx) {
    std::string rarest;
    size_t best = SIZE_MAX;
    for (const auto& label : items[item_idx].labels) {
      size_t f = frequency[label];
      if (f < best || (f == best && label < rarest)) {
        best = f;
        rarest = label;
      }
    }
    strata[best == SIZE_MAX ? std::string() : "L" + rarest].members.push_back(item_idx);
  }
  return strata;
}

}  // namespace

std::vector<size_t> ChooseTestSplit(const std::vector<SplitItem>& items,
                                    const SplitOptions& options) {
  std::map<std::string, Stratum> strata = BuildStrata(items);
  const double fraction = std::clamp(options.test_fraction, 0.0, 1.0);
  size_t target = static_cast<size_t>(std::llround(fraction * static_cast<double>(items.size())));
  size_t assigned = 0;
  for (auto& [name, stratum] : strata) {
    double exact = fraction * static_cast<double>(stratum.members.size());
    size_t cap = stratum.members.size() > 0 ? stratum.members.size() - 1 : 0;
    stratum.quota = std::min(static_cast<size_t>(std::floor(exact)), cap);
    stratum.remainder = exact - std::floor(exact);
    assigned += stratum.quota;
  }
  // Largest remainders first; ties by stratum name, so the result is stable.
  std::vector<Stratum*> order;
  for (auto& [name, stratum] : strata) order.push_back(&stratum);
  std::stable_sort(order.begin(), order.end(),
                   [](const Stratum* a, const Stratum* b) { return a->remainder > b->remainder; });
  for (Stratum* stratum : order) {
    if (assigned >= target) break;
    if (stratum->remainder > 0 && stratum->quota + 1 < stratum->members.size()) {
      ++stratum->quota;
      ++assigned;
    }
  }
  std::vector<size_t> chosen;
  for (auto& [name, stratum] : strata) {
    std::vector<std::pair<uint64_t, size_t>> draw;
    for (size_t item_idx : stratum.members) {
      draw.emplace_back(SeededHash(options.seed, items[item_idx].key), item_idx);
    }
    std::sort(draw.begin(), draw.end());
    for (size_t pick = 0; pick < stratum.quota; ++pick) chosen.push_back(draw[pick].second);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace osprey::dataset

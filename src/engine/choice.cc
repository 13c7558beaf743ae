#include "engine/choice.h"

namespace osprey::engine {
namespace {

// Macro-F1s computed from the same counts are equal to the bit; the tolerance only absorbs
// summation order.
constexpr double kSameF1 = 1e-9;

bool Better(const OptionScore& a, const OptionScore& b) {
  return a.f1 > b.f1 + kSameF1 || (a.f1 > b.f1 - kSameF1 && a.loss < b.loss);
}

}  // namespace

size_t ChooseOption(const std::vector<OptionScore>& options, double margin) {
  size_t best = 0;
  size_t best_trusted = options.size();  // none yet
  for (size_t idx = 0; idx < options.size(); ++idx) {
    if (idx > 0 && Better(options[idx], options[best])) best = idx;
    if (options[idx].trusted &&
        (best_trusted == options.size() || Better(options[idx], options[best_trusted]))) {
      best_trusted = idx;
    }
  }
  if (best_trusted != options.size() && options[best].f1 < options[best_trusted].f1 + margin) {
    return best_trusted;
  }
  return best;
}

}  // namespace osprey::engine

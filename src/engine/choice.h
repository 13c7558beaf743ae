// The classifier's choice among its candidates and their ensembles, as a pure function of
// their validation scores (no LibTorch), so that the rule is testable on its own.
#pragma once

#include <cstddef>
#include <vector>

namespace osprey::engine {

struct OptionScore {
  double f1 = 0;         // validation macro-F1
  double loss = 0;       // validation negative log-likelihood
  bool trusted = false;  // made only of families whose validation tracks test (conv head, scratch)
};

// Returns the index of the option to keep (REQUIRES: options not empty; cheaper options first).
// The best option has the highest f1; equal f1s go to the lower loss, then to the earlier
// option. The best trusted option is kept unless the best overall beats its f1 by `margin` or
// more (docs/design/engine.md, "Models").
size_t ChooseOption(const std::vector<OptionScore>& options, double margin);

}  // namespace osprey::engine

// Structured logging set-up for the CLI: one logfmt line per event on stderr
// ("ts=... level=info api request_id=... op=..."), so logs can be grepped and parsed.
#pragma once

#include <string>

namespace osprey::cli {

void SetUpLogging(const std::string& level);

}  // namespace osprey::cli

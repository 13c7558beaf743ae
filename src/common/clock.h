// Clock: the source of wall-clock time, injectable so tests can pin it (SigV4 skew, ARNs).
// Implementations must be thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace osprey {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
  int64_t NowSeconds() const { return NowMillis() / 1000; }
  // The process-wide real clock.
  static const Clock& Real();
};

// A clock that returns a settable time; thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t millis) : millis_(millis) {}
  int64_t NowMillis() const override { return millis_.load(); }
  void Set(int64_t millis) { millis_.store(millis); }
  void Advance(int64_t millis) { millis_.fetch_add(millis); }

 private:
  std::atomic<int64_t> millis_;
};

}  // namespace osprey

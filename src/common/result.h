// Result<T>: either a value or a non-OK Status (an expected-style type for C++20).
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "common/status.h"

namespace osprey {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "Result built from an OK status without a value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace osprey

#define OSPREY_CONCAT_INNER_(a, b) a##b
#define OSPREY_CONCAT_(a, b) OSPREY_CONCAT_INNER_(a, b)
#define OSPREY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
// OSPREY_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s status from the caller on error.
#define OSPREY_ASSIGN_OR_RETURN(lhs, expr) \
  OSPREY_ASSIGN_OR_RETURN_IMPL_(OSPREY_CONCAT_(osprey_result_, __LINE__), lhs, expr)

// Status: the outcome of an operation in the Osprey core, modelled on leveldb's Status.
// A Status is either OK or carries a closed domain code plus a human-readable message.
// Cheap to copy; thread-compatible (const methods are safe to call concurrently).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace osprey {

// Every AWS error the API layer can produce is chosen from this code alone (see api/aws_errors.cc).
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kInUse,
  kNotReady,
  kLimitExceeded,
  kQuotaExceeded,
  kThrottled,
  kAccessDenied,
  kUnauthenticated,
  kInvalidImage,
  kImageTooLarge,
  kInvalidS3Object,
  kInvalidPaginationToken,
  kMalformedPolicy,
  kInvalidPolicyRevision,
  kCancelled,  // stopped on request before it finished (e.g. the server is shutting down)
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status InUse(std::string m) { return {StatusCode::kInUse, std::move(m)}; }
  static Status NotReady(std::string m) { return {StatusCode::kNotReady, std::move(m)}; }
  static Status LimitExceeded(std::string m) { return {StatusCode::kLimitExceeded, std::move(m)}; }
  static Status QuotaExceeded(std::string m) { return {StatusCode::kQuotaExceeded, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: project p1 does not exist" (or "OK").
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace osprey

#define OSPREY_RETURN_IF_ERROR(expr)             \
  do {                                           \
    ::osprey::Status osprey_status_ = (expr);    \
    if (!osprey_status_.ok()) return osprey_status_; \
  } while (0)

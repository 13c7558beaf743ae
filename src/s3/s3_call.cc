// S3Call helpers shared by the operations: responses, errors, small bodies, time formats.
#include <ctime>
#include <variant>

#include "s3/operations.h"
#include "s3/payload.h"

namespace osprey::s3 {

http::HttpResponse S3Call::Error(const S3Error& error) const {
  return ErrorResponse(error, http.path, request_id);
}

http::HttpResponse S3Call::Error(std::string_view code, std::string message) const {
  return Error(MakeError(code, std::move(message)));
}

http::HttpResponse S3Call::StoreError(const Status& status, Missing missing) const {
  return Error(FromStatus(status, missing));
}

http::HttpResponse S3Call::Xml(std::string body) const {
  http::HttpResponse response = Empty(200);
  response.content_type = "application/xml";
  response.body = std::move(body);
  return response;
}

http::HttpResponse S3Call::Empty(int status) const {
  http::HttpResponse response;
  response.status = status;
  response.SetHeader("x-amz-request-id", request_id);
  return response;
}

Result<std::string> S3Call::ReadSmallBody(S3Error* error) {
  // No length and no chunking: there is no body (the HTTP layer would wait for a close).
  if (http.read_body && http.Header("content-length") == nullptr &&
      http.Header("transfer-encoding") == nullptr) {
    return std::string();
  }
  auto created = PayloadReader::Create(http, auth, declared_hash, options.max_xml_body_bytes);
  if (auto* failure = std::get_if<S3Error>(&created)) {
    *error = *failure;
    return Status::InvalidArgument(failure->message);
  }
  auto& reader = std::get<std::unique_ptr<PayloadReader>>(created);
  Result<std::string> body = reader->ReadAll(http);
  if (!body.ok()) {
    *error =
        reader->error() ? *reader->error() : MakeError("IncompleteBody", body.status().message());
  }
  return body;
}

namespace {
std::string FormatTime(int64_t millis, const char* format, bool with_millis) {
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof(buffer), format, &tm);
  std::string out(buffer);
  if (with_millis) {
    char ms[8];
    std::snprintf(ms, sizeof(ms), ".%03dZ", static_cast<int>(millis % 1000));
    out += ms;
  }
  return out;
}
}  // namespace

std::string IsoTime(int64_t millis) { return FormatTime(millis, "%Y-%m-%dT%H:%M:%S", true); }
std::string HttpTime(int64_t millis) {
  return FormatTime(millis, "%a, %d %b %Y %H:%M:%S GMT", false);
}

}  // namespace osprey::s3

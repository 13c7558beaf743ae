#include "api/api_handler.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "api/aws_errors.h"
#include "api/aws_json/dispatcher.h"
#include "auth/crypto.h"
#include "common/ids.h"

namespace osprey::api {
namespace {

constexpr std::string_view kTargetPrefix = "RekognitionService.";
constexpr char kContentType[] = "application/x-amz-json-1.1";

http::HttpResponse JsonResponse(int status, std::string body, const std::string& request_id) {
  http::HttpResponse response;
  response.status = status;
  response.content_type = kContentType;
  response.body = std::move(body);
  response.SetHeader("x-amzn-RequestId", request_id);
  return response;
}

http::HttpResponse ErrorResponse(const AwsError& error, std::string_view message,
                                 const std::string& request_id) {
  http::HttpResponse response =
      JsonResponse(error.http_status, AwsErrorBody(error, message, request_id), request_id);
  response.SetHeader("x-amzn-ErrorType", std::string(error.type));
  return response;
}

AwsError AuthErrorToAws(auth::AuthError error) {
  switch (error) {
    case auth::AuthError::kMissing: return kMissingAuthentication;
    case auth::AuthError::kMalformed: return kIncompleteSignature;
    case auth::AuthError::kUnknownKey: return kUnrecognizedClient;
    default: return kInvalidSignature;
  }
}

}  // namespace

ApiHandler::ApiHandler(service::RekognitionService& service,
                       const auth::CredentialStore& credentials, const Clock& clock,
                       ApiOptions options)
    : service_(service), credentials_(credentials), clock_(clock), options_(options) {}

http::HttpResponse ApiHandler::Handle(const http::HttpRequest& request) {
  auto started = std::chrono::steady_clock::now();
  service::RequestContext ctx;
  ctx.request_id = NewUuid();
  const std::string* target = request.Header("x-amz-target");
  std::string operation =
      target != nullptr && target->rfind(kTargetPrefix, 0) == 0 ? target->substr(kTargetPrefix.size())
                                                                : "";
  auto finish = [&](http::HttpResponse response, std::string_view error_type = "") {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started).count();
    spdlog::info("api request_id={} op={} status={} error={} latency_ms={:.3f} remote={}",
                 ctx.request_id, operation.empty() ? "-" : operation, response.status,
                 error_type.empty() ? "-" : error_type, micros / 1000.0, request.remote_addr);
    return response;
  };
  auto fail = [&](const AwsError& error, std::string_view message) {
    return finish(ErrorResponse(error, message, ctx.request_id), error.type);
  };

  // Authenticate first: nothing about an unauthenticated request is interpreted.
  auth::SignableRequest signable{request.method, request.target, request.headers,
                                 auth::Sha256Hex(request.body)};
  auth::VerifierOptions verify_options;
  verify_options.service = "rekognition";
  verify_options.max_skew_seconds = options_.max_skew_seconds;
  auth::AuthOutcome auth = auth::Verify(signable, credentials_, clock_, verify_options);
  if (!auth.ok()) return fail(AuthErrorToAws(auth.error), auth.message);
  ctx.region = auth.region;
  ctx.access_key_id = auth.access_key_id;

  if (request.method != "POST" || request.path != "/") {
    return fail(kUnknownOperation, "Operations are invoked with POST /.");
  }
  OperationFn fn = operation.empty() ? nullptr : FindOperation(operation);
  if (fn == nullptr) {
    return fail(kUnknownOperation,
                "The operation " + (target ? *target : std::string("(none)")) + " is not supported.");
  }
  if (request.body_too_large) {
    return fail(AwsErrorFor(StatusCode::kInvalidArgument), "The request body is too large.");
  }
  if (JsonTooDeep(request.body, options_.max_json_depth)) {
    return fail(kSerializationError, "The request body nests too deeply.");
  }
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return fail(kSerializationError, "The request body is not a valid JSON object.");
  }
  Result<nlohmann::json> result = fn(body, ctx, service_);
  if (!result.ok()) {
    const Status& status = result.status();
    if (status.code() == StatusCode::kInternal) {
      spdlog::error("api request_id={} op={} internal_error=\"{}\"", ctx.request_id, operation,
                    status.message());
      return fail(AwsErrorFor(status.code()), "Internal server error (request " + ctx.request_id + ").");
    }
    return fail(AwsErrorFor(status.code()), status.message());
  }
  return finish(JsonResponse(200, result->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                             ctx.request_id));
}

}  // namespace osprey::api

// ApiHandler: the AWS JSON 1.1 surface (POST / with X-Amz-Target: RekognitionService.<Op>).
// Order per request: SigV4 check (before anything else is looked at) -> target lookup -> JSON
// parse -> operation -> JSON response or AWS error body. Logs one structured line per request.
// Thread-safe: Handle() is called concurrently.
#pragma once

#include "auth/sigv4.h"
#include "common/clock.h"
#include "common/text.h"  // JsonTooDeep
#include "http/http_server.h"
#include "service/rekognition_service.h"

namespace osprey::api {

struct ApiOptions {
  int64_t max_skew_seconds = 300;  // Rekognition allows 5 minutes (SECURITY §1.1 step 5)
  size_t max_json_depth = 64;      // deeper bodies are refused before parsing
};

class ApiHandler {
 public:
  // All references must outlive the handler.
  ApiHandler(service::RekognitionService& service, const auth::CredentialStore& credentials,
             const Clock& clock, ApiOptions options);

  http::HttpResponse Handle(const http::HttpRequest& request);

 private:
  service::RekognitionService& service_;
  const auth::CredentialStore& credentials_;
  const Clock& clock_;
  ApiOptions options_;
};


}  // namespace osprey::api

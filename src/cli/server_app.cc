#include "cli/server_app.h"

#include "api/api_handler.h"
#include "auth/sigv4.h"
#include "http/http_server.h"
#include "jobs/job_runner.h"
#include "metadata/sqlite_metadata_store.h"
#include "metadata/sqlite_version_store.h"
#include "s3/s3_handler.h"
#include "service/model_service.h"
#include "service/rekognition_service.h"
#include "storage/local_object_store.h"

namespace osprey::cli {

struct ServerApp::Impl {
  std::unique_ptr<metadata::SqliteMetadataStore> metadata;
  std::unique_ptr<storage::LocalObjectStore> objects;
  std::unique_ptr<auth::StaticCredentialStore> credentials;
  std::unique_ptr<metadata::SqliteVersionStore> versions;
  std::unique_ptr<service::RekognitionService> service;
  std::unique_ptr<service::ModelService> models;
  // After the service and stores: destroyed first, so running jobs finish while they exist.
  std::unique_ptr<jobs::JobRunner> jobs;
  std::unique_ptr<api::ApiHandler> api;
  std::unique_ptr<s3::S3Handler> s3;
  std::unique_ptr<http::HttpServer> http;
};

namespace {

http::HttpResponse Health() {
  http::HttpResponse response;
  response.content_type = "application/json";
  response.body = R"({"status":"ok"})";
  return response;
}

}  // namespace

ServerApp::ServerApp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerApp::~ServerApp() = default;

Result<std::unique_ptr<ServerApp>> ServerApp::Start(const ServerConfig& config,
                                                    const Clock& clock) {
  auto impl = std::make_unique<Impl>();
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Status::Internal("cannot create data directory " + config.data_dir.string() + ": " +
                            ec.message());
  }
  OSPREY_ASSIGN_OR_RETURN(impl->metadata, metadata::SqliteMetadataStore::Open(
                                              (config.data_dir / "osprey.db").string()));
  OSPREY_ASSIGN_OR_RETURN(impl->objects,
                          storage::LocalObjectStore::Open(config.data_dir / "buckets", clock));
  impl->credentials = std::make_unique<auth::StaticCredentialStore>(
      std::map<std::string, std::string>{{config.access_key_id, config.secret_access_key}});
  impl->service = std::make_unique<service::RekognitionService>(
      *impl->metadata, *impl->objects, clock, service::ServiceOptions{});
  OSPREY_ASSIGN_OR_RETURN(impl->versions, metadata::SqliteVersionStore::Open(
                                              (config.data_dir / "osprey.db").string()));
  service::ModelServiceOptions model_options;
  model_options.models_dir = std::filesystem::absolute(config.data_dir) / "models";
  model_options.max_concurrent_trainings = config.max_concurrent_trainings;
  model_options.training_time_budget_seconds = config.training_time_budget_seconds;
  model_options.inference_threads = config.inference_threads;
  impl->models = std::make_unique<service::ModelService>(
      *impl->metadata, *impl->versions, *impl->objects, clock, model_options);
  OSPREY_RETURN_IF_ERROR(impl->models->Recover());
  impl->service->set_models(impl->models.get());
  // Background dataset jobs; first fail whatever a previous process left running (§6.2).
  impl->jobs = std::make_unique<jobs::JobRunner>(*impl->metadata, clock);
  OSPREY_RETURN_IF_ERROR(
      impl->jobs->RecoverInterrupted("Interrupted because the server stopped.").status());
  OSPREY_RETURN_IF_ERROR(impl->service->RecoverInterruptedDatasetOperations());
  impl->service->set_jobs(impl->jobs.get());
  impl->api = std::make_unique<api::ApiHandler>(*impl->service, *impl->credentials, clock,
                                                api::ApiOptions{});
  http::HttpServerOptions http_options;
  http_options.host = config.host;
  http_options.port = config.port;
  http_options.worker_threads = config.worker_threads;
  impl->http = http::HttpServer::Create(http_options);
  impl->s3 = std::make_unique<s3::S3Handler>(*impl->objects, *impl->credentials, clock,
                                             s3::S3Options{});
  api::ApiHandler* api = impl->api.get();
  s3::S3Handler* s3 = impl->s3.get();
  impl->http->SetStreamPredicate(&s3::S3Handler::WantsStreamedBody);
  impl->http->SetHandler([api, s3](http::HttpRequest& request) {
    if (request.Header("x-amz-target") != nullptr) return api->Handle(request);
    if ((request.method == "GET" || request.method == "HEAD") && request.path == "/health") {
      return Health();
    }
    return s3->Handle(request);  // everything else is the S3 REST surface
  });
  OSPREY_RETURN_IF_ERROR(impl->http->Bind());
  return std::unique_ptr<ServerApp>(new ServerApp(std::move(impl)));
}

int ServerApp::port() const { return impl_->http->port(); }
storage::ObjectStore& ServerApp::objects() { return *impl_->objects; }
Status ServerApp::Run() { return impl_->http->Listen(); }
void ServerApp::Stop() { impl_->http->Stop(); }

}  // namespace osprey::cli

// cpp-httplib adapter. Why cpp-httplib: Debian-packaged, small, threaded, supports streamed
// request bodies (ContentReader) and streamed responses (content providers); see
// docs/design/dependencies.md.
#include <httplib.h>

#include <exception>

#include "common/ids.h"
#include "http/http_server.h"

namespace osprey::http {

const std::string* HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

HttpRequest Convert(const httplib::Request& req) {
  // httplib parses Range itself and would cut every response (even error bodies) to it; the
  // handlers answer ranges themselves, so the parsed ranges are dropped here.
  const_cast<httplib::Request&>(req).ranges.clear();
  HttpRequest out;
  out.method = req.method;
  out.target = req.target;
  size_t q = req.target.find('?');
  out.path = req.target.substr(0, q);
  out.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  for (const auto& [name, value] : req.headers) {
    // httplib adds these itself; they are not from the client.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
        name == "LOCAL_PORT") {
      continue;
    }
    out.headers.emplace_back(Lower(name), value);
  }
  out.remote_addr = req.remote_addr;
  return out;
}

void Emit(const HttpResponse& in, httplib::Response& res) {
  res.status = in.status;
  for (const auto& [name, value] : in.headers) res.set_header(name, value);
  if (in.stream) {
    auto stream = in.stream;
    res.set_content_provider(
        static_cast<size_t>(in.stream_length), in.content_type,
        [stream](size_t offset, size_t length, httplib::DataSink& sink) {
          return stream(offset, length, [&sink](const char* data, size_t size) {
            return sink.write(data, size);
          });
        });
    return;
  }
  res.set_content(in.body, in.content_type.c_str());
}

HttpResponse LastResort(const char* what) {
  // Reaching this is a bug: handlers return errors as responses, never by throwing.
  HttpResponse r;
  r.status = 500;
  r.content_type = "text/plain";
  r.body = std::string("internal error: ") + what;
  return r;
}

class HttplibServer : public HttpServer {
 public:
  explicit HttplibServer(const HttpServerOptions& options) : options_(options) {
    server_.set_read_timeout(options.read_timeout_seconds, 0);
    server_.set_write_timeout(options.write_timeout_seconds, 0);
    // Small responses on keep-alive connections otherwise wait for the peer's delayed ACK
    // (Nagle): ~40 ms per request.
    server_.set_tcp_nodelay(true);
    // We enforce our own caps: buffered bodies below, streamed bodies in the handlers.
    server_.set_payload_max_length(std::numeric_limits<size_t>::max());
    int threads = options.worker_threads;
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    auto no_body = [this](const httplib::Request& req, httplib::Response& res) {
      HttpRequest request = Convert(req);
      Dispatch(request, res);
    };
    auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) {
      HandleWithBody(req, res, reader);
    };
    server_.Get(".*", no_body);  // httplib routes HEAD to GET handlers
    server_.Delete(".*", with_body);
    server_.Put(".*", with_body);
    server_.Post(".*", with_body);
    server_.Options(".*", no_body);
  }

  void SetHandler(Handler handler) override { handler_ = std::move(handler); }
  void SetStreamPredicate(StreamPredicate predicate) override {
    stream_predicate_ = std::move(predicate);
  }

  Status Bind() override {
    if (options_.port == 0) {
      port_ = server_.bind_to_any_port(options_.host);
    } else if (server_.bind_to_port(options_.host, options_.port)) {
      port_ = options_.port;
    }
    if (port_ <= 0) {
      return Status::Internal("cannot bind " + options_.host + ":" + std::to_string(options_.port));
    }
    return Status::Ok();
  }
  int port() const override { return port_; }
  Status Listen() override {
    if (!server_.listen_after_bind()) {
      return Status::Internal("HTTP server stopped with an error");
    }
    return Status::Ok();
  }
  void Stop() override { server_.stop(); }

 private:
  void HandleWithBody(const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& reader) {
    HttpRequest request = Convert(req);
    if (stream_predicate_ && stream_predicate_(request)) {
      request.read_body = [&reader](const BodySink& sink) {
        return reader([&sink](const char* data, size_t size) { return sink(data, size); });
      };
      Dispatch(request, res);
      return;
    }
    // Over the cap: the body is not read; the handler answers with its protocol's error.
    const std::string* length = request.Header("content-length");
    if (length != nullptr &&
        std::strtoull(length->c_str(), nullptr, 10) > options_.max_buffered_body_bytes) {
      request.body_too_large = true;
    } else {
      reader([&](const char* data, size_t size) {
        if (request.body.size() + size > options_.max_buffered_body_bytes) {
          request.body_too_large = true;
          return false;
        }
        request.body.append(data, size);
        return true;
      });
    }
    if (request.body_too_large) {
      request.body.clear();
      res.set_header("Connection", "close");
    }
    Dispatch(request, res);
  }

  void Dispatch(HttpRequest& request, httplib::Response& res) {
    try {
      Emit(handler_(request), res);
    } catch (const std::exception& e) {
      Emit(LastResort(e.what()), res);
    } catch (...) {
      Emit(LastResort("unknown exception"), res);
    }
  }

  HttpServerOptions options_;
  httplib::Server server_;
  Handler handler_;
  StreamPredicate stream_predicate_;
  int port_ = -1;
};

}  // namespace

std::unique_ptr<HttpServer> HttpServer::Create(const HttpServerOptions& options) {
  return std::make_unique<HttplibServer>(options);
}

}  // namespace osprey::http

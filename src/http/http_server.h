// A minimal HTTP server interface with plain request/response structs, so that no layer above
// knows which HTTP library is used (cpp-httplib lives only in httplib_server.cc, behind a pimpl).
// Thread-safety: the handler is called concurrently from the server's worker threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace osprey::http {

// Receives one piece of a streamed body; returns false to abort the transfer.
using BodySink = std::function<bool(const char* data, size_t size)>;

struct HttpRequest {
  std::string method;       // "GET", "HEAD", "PUT", "POST", "DELETE"
  std::string target;       // request-target exactly as sent, undecoded: "/b/k%20x?list-type=2"
  std::string path;         // the part of target before '?', undecoded
  std::string query;        // the part after '?', undecoded ("" if none)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, arrival order
  std::string body;         // the whole body, unless the body is streamed (see read_body)
  std::string remote_addr;
  // True when a buffered body exceeded HttpServerOptions::max_buffered_body_bytes; `body` is then
  // empty and the handler must answer with its protocol's "too large" error.
  bool body_too_large = false;
  // Set only for streamed requests (see HttpServer::SetStreamPredicate): pulls the body through
  // `sink` piece by piece. Returns false if the client went away or the sink aborted.
  std::function<bool(const BodySink& sink)> read_body;

  // First value of a header (name in lower case), or nullptr.
  const std::string* Header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;
  // Optional streamed body of `stream_length` bytes: `stream` writes bytes [offset, offset+length)
  // into the sink. When set, `body` is ignored.
  int64_t stream_length = -1;
  std::function<bool(size_t offset, size_t length, const BodySink& sink)> stream;

  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

using Handler = std::function<HttpResponse(HttpRequest& request)>;
// Decides, from the method/target/headers alone, whether a request's body should be streamed
// to the handler (read_body) instead of buffered into `body`.
using StreamPredicate = std::function<bool(const HttpRequest& request)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8085;                            // 0 = pick a free port
  size_t max_buffered_body_bytes = 8u << 20;  // larger buffered bodies get 413 before reading
  int read_timeout_seconds = 30;              // per read; defends against slowloris
  int write_timeout_seconds = 30;
  int worker_threads = 16;
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  static std::unique_ptr<HttpServer> Create(const HttpServerOptions& options);

  // REQUIRES: called before Listen().
  virtual void SetHandler(Handler handler) = 0;
  virtual void SetStreamPredicate(StreamPredicate predicate) = 0;
  // Binds the socket. Returns kInternal if the address is unavailable.
  virtual Status Bind() = 0;
  // The bound port. REQUIRES: Bind() succeeded.
  virtual int port() const = 0;
  // Serves until Stop() is called. REQUIRES: Bind() succeeded.
  virtual Status Listen() = 0;
  // Thread-safe; makes Listen() return after in-flight requests finish.
  virtual void Stop() = 0;
};

}  // namespace osprey::http

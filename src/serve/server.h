// HttpServer: HTTP/1.1 over TCP on Boost.Beast (asio): a few I/O threads, every connection
// asynchronous, so thousands of idle keep-alive connections cost only memory.
//
// It parses requests within ServerLimits (answering 400, 413, 414 or 431 and closing when one is
// broken or too big), calls the handler on an I/O thread, and writes the response with the
// fields every response carries (Date, Content-Length, security headers: Content-Security-Policy,
// X-Content-Type-Options, Referrer-Policy, X-Frame-Options). HEAD gets the GET headers and no
// body. The handler must be thread-safe and should not block for long.
//
// stop() may be called from any thread (once serving or before): the server stops accepting,
// closes idle connections, lets responses being written finish within stop_grace, then run()
// returns. Bodies are written from the memory the Response keeps alive; nothing is copied.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "serve/http.h"
#include "serve/limits.h"
#include "serve/metrics.h"

namespace covid::serve {

class HttpServer {
 public:
  using Handler = std::function<void(Request&, Response&)>;

  HttpServer(Handler handler, ServerMetrics& metrics, ServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Resolves host and binds and listens on host:port (port 0: a free port). A usage error when
  // the address cannot be resolved or bound (in use, not ours, no permission).
  Status listen(const std::string& host, uint16_t port);
  // The bound address as "HOST:PORT" (IPv6 in brackets), after listen().
  std::string local_address() const;

  // Serves on limits.threads threads (this one included) until stop(); then returns.
  void run();
  void stop();

 private:
  class Impl;
  friend class Session;  // one connection (server.cc)
  std::unique_ptr<Impl> impl_;
};

}  // namespace covid::serve

// ServerLimits: every bound the HTTP server enforces, in one place. The defaults are what
// `covid-etl serve` uses; tests and other embedders (the daemon) may pass their own.
//
// What each limit answers when it is hit:
// - a request line longer than max_target_bytes (plus method and version): 414, then close;
// - a request header (request line and fields) over max_header_bytes: 431, then close;
// - a body over max_body_bytes: 413, then close;
// - no first byte of a next request within idle_timeout on a kept-alive connection: close;
// - a request not complete within read_timeout of its first byte (a slow client): close;
// - a response not taken by the client within write_timeout: close;
// - more than max_connections open at once: new connections are closed at once.
// Plain value.
#pragma once

#include <chrono>
#include <cstddef>

namespace covid::serve {

struct ServerLimits {
  size_t max_header_bytes = 8 * 1024;
  size_t max_target_bytes = 2 * 1024;
  size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{30'000};
  size_t max_connections = 10'000;
  // I/O threads: a few are enough for any number of connections (everything is asynchronous).
  unsigned threads = 2;
  // After stop(): how long requests in flight get to finish before the rest are cut.
  std::chrono::milliseconds stop_grace{5'000};
};

}  // namespace covid::serve

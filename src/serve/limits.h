// ServerLimits: every bound the HTTP server enforces, in one place. The defaults are what
// `covid-etl serve` uses; tests and other embedders (the daemon) may pass their own.
//
// What each limit answers when it is hit:
// - a request line longer than max_target_bytes (plus method and version): 414, then close;
// - a request header (request line and fields) over max_header_bytes: 431, then close;
// - a body over max_body_bytes: 413, then close;
// - a new connection whose first request header is not complete within header_timeout of its
//   accept (a client that says nothing, or only part of a header): close;
// - no first byte of a next request within idle_timeout on a kept-alive connection: close; that
//   request's header must then be complete within header_timeout of its first byte;
// - a request not complete within read_timeout of its first byte (a slow client): close;
// - a response not taken by the client within write_timeout: close;
// - more than max_connections_per_client open from one client address (an IPv4 address, or the
//   /64 prefix of an IPv6 one; 0: no such limit): the new connection is closed at once;
// - max_connections open at once: a new connection closes the least recently active idle
//   kept-alive connection (one that has had its answer and waits for another request) to make
//   room; when there is none (every connection is busy or has not sent a whole request yet), the
//   new connection is closed at once.
// Plain value.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace covid::serve {

struct ServerLimits {
  size_t max_header_bytes = 8 * 1024;
  size_t max_target_bytes = 2 * 1024;
  size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{30'000};
  size_t max_connections = 10'000;
  size_t max_connections_per_client = 64;
  // I/O threads: a few are enough for any number of connections (everything is asynchronous).
  unsigned threads = 2;
  // After stop(): how long requests in flight get to finish before the rest are cut.
  std::chrono::milliseconds stop_grace{5'000};
  // Not a bound but a policy sent with every response: the origins that may frame the page
  // ([serve] frame_ancestors, each checked by config's frame_origin_ok()). Empty: framing denied
  // (CSP frame-ancestors 'none' and X-Frame-Options: DENY); otherwise CSP frame-ancestors lists
  // them (and 'self') and X-Frame-Options is left out (it cannot name origins).
  std::vector<std::string> frame_ancestors;
};

}  // namespace covid::serve

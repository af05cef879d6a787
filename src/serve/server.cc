// The only translation unit that includes Boost.Beast: it is slow to compile and stays here.
#include "serve/server.h"

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "serve/assets.h"

namespace covid::serve {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Sent with every response. The dashboard needs nothing from elsewhere and no inline script:
// scripts, styles, data and images come from this origin only, and the only inline styles allowed
// are the page's own stylesheets, by their hashes (assets.h page_style_sources()). Framing: see
// security_headers().
constexpr std::string_view kSecurityHeadersStart =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'";
constexpr std::string_view kSecurityHeadersMiddle =
    "; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors ";
constexpr std::string_view kSecurityHeadersEnd =
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n";

// The security fields: framing denied when no origin may frame the page, else allowed to those
// origins only (CSP frame-ancestors; X-Frame-Options cannot name origins, so it is left out).
std::string security_headers(const std::vector<std::string>& frame_ancestors) {
  std::string out(kSecurityHeadersStart);
  if (!page_style_sources().empty()) out += " " + page_style_sources();
  out += kSecurityHeadersMiddle;
  if (frame_ancestors.empty()) {
    out += "'none'\r\nX-Frame-Options: DENY\r\n";
  } else {
    out += "'self'";
    for (const std::string& o : frame_ancestors) out += " " + o;
    out += "\r\n";
  }
  out += kSecurityHeadersEnd;
  return out;
}

Method to_method(http::verb v) {
  switch (v) {
    case http::verb::get:
      return Method::kGet;
    case http::verb::head:
      return Method::kHead;
    case http::verb::post:
      return Method::kPost;
    case http::verb::put:
      return Method::kPut;
    case http::verb::delete_:
      return Method::kDelete;
    case http::verb::patch:
      return Method::kPatch;
    case http::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

std::string_view sv(beast::string_view s) { return std::string_view(s.data(), s.size()); }

// "Date: Tue, 15 Nov 1994 08:12:31 GMT\r\n", formatted at most once a second per thread.
std::string_view date_field() {
  thread_local std::time_t cached_at = 0;
  thread_local char buf[64];
  thread_local size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    cached_at = now;
  }
  return std::string_view(buf, len);
}

void append_number(std::string& out, size_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%zu", v);
  out.append(buf, size_t(n));
}

// Who a connection comes from, for the limit per client: an IPv4 address (also when it comes
// mapped into IPv6), or the /64 prefix of an IPv6 address (one host, or one home's network,
// holds a whole /64: counting its addresses one by one would limit nothing).
std::string client_key(const net::ip::address& a) {
  if (a.is_v4()) return a.to_v4().to_string();
  net::ip::address_v6 v6 = a.to_v6();
  if (v6.is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, v6).to_string();
  net::ip::address_v6::bytes_type bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return net::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace

class Session;

class HttpServer::Impl {
 public:
  Impl(Handler handler, ServerMetrics& metrics, ServerLimits limits)
      : handler_(std::move(handler)),
        metrics_(metrics),
        limits_(limits),
        security_headers_(security_headers(limits.frame_ancestors)),
        iocs_(make_contexts(limits.threads == 0 ? 1 : limits.threads)),
        acceptor_(*iocs_[0]),
        retry_timer_(*iocs_[0]) {
    for (auto& ioc : iocs_) {
      guards_.emplace_back(ioc->get_executor());
      idle_.push_back(std::make_unique<IdleList>());
    }
  }

  // One io_context per thread, each run by its own thread: a connection lives on one of them,
  // so its handlers never run concurrently (no strands), and the threads share no queue.
  static std::vector<std::unique_ptr<net::io_context>> make_contexts(unsigned n) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  Status listen(const std::string& host, uint16_t port);
  void run();
  void stop();
  void do_accept();

  void add(const std::shared_ptr<Session>& s);
  void remove(Session* s);
  void release(const std::string& client);  // a connection's place in the counts, once
  // Whether `client` has fewer connections open than its limit.
  bool client_may_connect(const std::string& client);
  // Makes room for a new connection when the table is full: closes the least recently active
  // idle kept-alive connection. False when there is none to close.
  bool evict_idle();

  // The idle kept-alive connections of one I/O thread, least recently active first.
  struct IdleList {
    std::mutex mu;
    std::list<Session*> sessions;  // each removes itself (under mu) before it is destroyed
  };

  // Declared before the io_context, so destroyed after it: destroying the io_context destroys
  // the handlers still pending (after a stop past its grace period), and with them sessions,
  // whose destructors use these.
  Handler handler_;
  ServerMetrics& metrics_;
  const ServerLimits limits_;
  const std::string security_headers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  unsigned finished_threads_ = 0;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::unordered_map<std::string, size_t> clients_;  // connections open per client_key()
  std::vector<std::unique_ptr<IdleList>> idle_;      // one per io_context, same index
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};

  std::vector<std::unique_ptr<net::io_context>> iocs_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;  // until stop()
  size_t next_ioc_ = 0;     // round robin for new connections (touched by the accept loop only)
  tcp::acceptor acceptor_;  // on iocs_[0]
  net::steady_timer retry_timer_;
  tcp::endpoint local_;
};

// One connection: read a request, answer it, repeat while the connection is kept alive.
// Every step runs on the thread of the connection's io_context, one at a time.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server, std::string client,
          HttpServer::Impl::IdleList& idle)
      : stream_(std::move(socket)),
        server_(server),
        buffer_(server.limits_.max_header_bytes + 16 * 1024),
        client_(std::move(client)),
        idle_(idle),
        accepted_at_(Clock::now()) {}

  ~Session() {
    (void)leave_idle();
    release_place();
    server_.remove(this);
  }

  const std::string& client() const { return client_; }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_request(); });
  }

  // From stop(): close now unless a response is being written (that one is finished first).
  void on_stop() {
    if (state_ != State::kWriting) {
      state_ = State::kClosed;
      stream_.close();
    }
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

  void close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    release_place();
    stream_.close();
  }

 private:
  friend class HttpServer::Impl;  // evict_idle() takes connections off the idle lists
  enum class State { kIdle, kReading, kWriting, kClosed };

  const ServerLimits& limits() const { return server_.limits_; }

  // Waits for the first byte of the next request, unless one is buffered: on a new connection
  // within the header timeout (counted from the accept), on a kept-alive one within the idle
  // timeout, on the idle list meanwhile (where a full table may close it to make room).
  void wait_request() {
    if (server_.stopping_.load()) return close();
    if (buffer_.size() > 0) return read_request();
    state_ = State::kIdle;
    bool kept_alive = served_ > 0;
    if (kept_alive) {
      stream_.expires_after(limits().idle_timeout);
      enter_idle();
    } else {
      stream_.expires_at(accepted_at_ + limits().header_timeout);
    }
    size_t room = buffer_.max_size() - buffer_.size();
    stream_.async_read_some(
        buffer_.prepare(std::min<size_t>(room, 4096)),
        [self = shared_from_this(), kept_alive](beast::error_code ec, size_t n) {
          if (kept_alive && !self->leave_idle()) return self->close();  // made room
          if (ec) return self->close();
          self->buffer_.commit(n);
          self->read_request();
        });
  }

  // Gives up this connection's place in the table (the total and the client's count) once, when
  // it is closed or has written its last answer, before the peer can see it go: a client that
  // connects again at once finds the place free, not held by handlers still winding down.
  void release_place() {
    if (place_released_) return;
    place_released_ = true;
    server_.release(client_);
  }

  void enter_idle() {
    std::lock_guard lock(idle_.mu);
    idle_since_ = Clock::now();
    idle_pos_ = idle_.sessions.insert(idle_.sessions.end(), this);
    idle_listed_ = true;
  }

  // Off the idle list; false when the server closes this connection to make room for another
  // (evict_idle() took it off), and it must do nothing more.
  bool leave_idle() {
    std::lock_guard lock(idle_.mu);
    if (idle_listed_) {
      idle_.sessions.erase(idle_pos_);
      idle_listed_ = false;
    }
    return !evicted_;
  }

  // Reads one whole request; all of it must arrive within the read timeout of its first byte,
  // and its header within the header timeout (of the accept, for a connection's first request;
  // of the first byte, for the next ones). The header is collected here up to its blank line, so
  // that its size limit counts every byte of it (Beast's own limit counts only what is buffered
  // at once), and then parsed in one go; a body, if any, is read by the parser within the body
  // limit.
  void read_request() {
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(uint32_t(buffer_.max_size()));  // the exact limit is enforced here
    parser_->body_limit(limits().max_body_bytes);
    Clock::time_point now = Clock::now();
    request_started_ = now;
    Clock::time_point header_by = (served_ == 0 ? accepted_at_ : now) + limits().header_timeout;
    stream_.expires_at(std::min(header_by, now + limits().read_timeout));
    scanned_ = 0;
    read_header();
  }

  // Also refuses here, with 400, what Beast would not: a line ending in a bare LF (Beast looks for
  // CRLF CRLF only, so such a request would wait for the read deadline unanswered) and obsolete
  // line folding (a field line that begins with a space or a tab, which Beast would join to the
  // one before; RFC 9112 5.2 lets a server refuse it instead).
  void read_header() {
    auto data = buffer_.data();
    std::string_view text(static_cast<const char*>(data.data()), data.size());
    size_t end = text.find("\r\n\r\n", scanned_ > 3 ? scanned_ - 3 : 0);
    size_t stop = end == std::string_view::npos ? text.size() : std::min(end + 4, text.size());
    for (size_t i = scanned_; i < stop; ++i) {
      if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
        return reject_malformed("a line ends in LF without CR");
      }
    }
    if (end != std::string_view::npos) {
      if (end + 4 > limits().max_header_bytes) return reject_header();
      std::string_view lines = text.substr(0, end + 2);
      if (lines.find("\r\n ") != std::string_view::npos ||
          lines.find("\r\n\t") != std::string_view::npos) {
        return reject_malformed("a header line begins with white space (obsolete line folding)");
      }
      return parse_header();
    }
    scanned_ = text.size();
    if (text.size() >= limits().max_header_bytes) return reject_header();
    size_t room = std::min<size_t>(4096, buffer_.max_size() - buffer_.size());
    stream_.async_read_some(
        buffer_.prepare(room), [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) return self->close();  // gone, timed out or stopped: nothing to answer
          self->buffer_.commit(n);
          self->read_header();
        });
  }

  void reject_header() {
    started_ = Clock::now();
    reject(request_line_too_long() ? 414 : 431, "the request header is too large");
  }

  void reject_malformed(std::string_view why) {
    started_ = Clock::now();
    reject(400, "malformed request: " + std::string(why));
  }

  void parse_header() {
    beast::error_code ec;
    size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) ec = {};
    if (ec || parser_->is_done()) return on_read(ec);
    stream_.expires_at(request_started_ +
                       limits().read_timeout);  // the header is in: the body's turn
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    started_ = Clock::now();
    if (ec) {
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        return reject(request_line_too_long() ? 414 : 431, "the request header is too large");
      }
      if (ec == http::error::body_limit) return reject(413, "the request body is too large");
      // A client gone, a timeout or stop(): nothing to answer. Parse errors: 400.
      bool parse_error = ec.category() == http::make_error_code(http::error::bad_method).category();
      if (!parse_error || ec == http::error::end_of_stream || ec == http::error::partial_message) {
        return close();
      }
      return reject(400, "malformed request: " + ec.message());
    }
    auto& msg = parser_->get();
    if (msg.target().size() > limits().max_target_bytes)
      return reject(414, "the request target is too long");
    if (msg.count(http::field::content_length) > 0 &&
        msg.count(http::field::transfer_encoding) > 0) {
      return reject(400, "a request must not have both Content-Length and Transfer-Encoding");
    }
    // A Transfer-Encoding that does not end in chunked leaves the body's length unknown: Beast
    // would take it as no body and the body as the next request (smuggling). RFC 9112 6.3: 400.
    if (msg.count(http::field::transfer_encoding) > 0 && !parser_->chunked()) {
      return reject(400, "a request's Transfer-Encoding must end in chunked");
    }

    req_.method = to_method(msg.method());
    req_.method_text = sv(msg.method_string());
    req_.target = sv(msg.target());
    split_target(req_.target, &req_.path, &req_.query);
    req_.headers.clear();
    for (const auto& f : msg) req_.headers.emplace_back(sv(f.name_string()), sv(f.value()));
    req_.body = msg.body();
    req_.client = client_;
    req_.path_params.clear();

    resp_ = Response();
    try {
      server_.handler_(req_, resp_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "covid-etl serve: internal error on %.*s: %s\n", int(req_.path.size()),
                   req_.path.data(), e.what());
      resp_ = Response();
      error_response_500();
    }
    bool keep_alive = msg.keep_alive() && !server_.stopping_.load();
    write(keep_alive, req_.method == Method::kHead, msg.version() == 10);
  }

  void error_response_500() {
    resp_.status = 500;
    resp_.set_body("{\"status\":500,\"error\":\"internal_error\",\"message\":\"internal error\"}\n",
                   "application/json");
    resp_.cache_control = "no-store";
  }

  // After a header over the limit: whether it is the request line (at the start of the buffer)
  // that is too long.
  bool request_line_too_long() const {
    auto data = buffer_.data();
    std::string_view text(static_cast<const char*>(data.data()), data.size());
    size_t eol = text.find("\r\n");
    size_t line = eol == std::string_view::npos ? text.size() : eol;
    return line > limits().max_target_bytes + 32;  // method, spaces and version
  }

  void reject(int status, const std::string& message) {
    resp_ = Response();
    resp_.status = status;
    std::string body = "{\"status\":" + std::to_string(status) + ",\"error\":\"" +
                       (status == 400   ? "bad_request"
                        : status == 413 ? "content_too_large"
                        : status == 414 ? "uri_too_long"
                                        : "header_fields_too_large") +
                       "\",\"message\":\"" + message + "\"}\n";
    // The message may quote a parser error: keep it JSON-safe.
    for (char& c : body) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\n') c = ' ';
    }
    resp_.set_body(std::move(body), "application/json");
    resp_.cache_control = "no-store";
    resp_.route = ServerMetrics::kUnmatched;
    write(false, false, false);
  }

  void write(bool keep_alive, bool head, bool http10) {
    keep_alive_ = keep_alive;
    const Response& r = resp_;
    bool no_body = r.status == 304 || r.status == 204;
    head_.clear();
    head_ += "HTTP/1.1 ";
    append_number(head_, size_t(r.status));
    head_ += ' ';
    head_ += reason_phrase(r.status);
    head_ += "\r\n";
    head_ += date_field();
    if (!no_body) {
      if (!r.content_type.empty()) {
        head_ += "Content-Type: ";
        head_ += r.content_type;
        head_ += "\r\n";
      }
      head_ += "Content-Length: ";
      append_number(head_, r.body.size());
      head_ += "\r\n";
    }
    if (!r.content_encoding.empty() && !no_body) {
      head_ += "Content-Encoding: ";
      head_ += r.content_encoding;
      head_ += "\r\n";
    }
    if (r.vary_accept_encoding) head_ += "Vary: Accept-Encoding\r\n";
    if (!r.etag.empty()) {
      head_ += "ETag: ";
      head_ += r.etag;
      head_ += "\r\n";
    }
    if (!r.cache_control.empty()) {
      head_ += "Cache-Control: ";
      head_ += r.cache_control;
      head_ += "\r\n";
    }
    for (const auto& [name, value] : r.headers) {
      head_ += name;
      head_ += ": ";
      head_ += value;
      head_ += "\r\n";
    }
    head_ += server_.security_headers_;
    if (!keep_alive)
      head_ += "Connection: close\r\n";
    else if (http10)
      head_ += "Connection: keep-alive\r\n";
    head_ += "\r\n";

    state_ = State::kWriting;
    stream_.expires_after(limits().write_timeout);
    std::array<net::const_buffer, 2> bufs = {
        net::const_buffer(head_.data(), head_.size()),
        (head || no_body) ? net::const_buffer() : net::const_buffer(r.body.data(), r.body.size())};
    net::async_write(stream_, bufs, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    server_.metrics_.record(resp_.route, resp_.status, Clock::now() - started_);
    resp_ = Response();  // lets go of the body now
    parser_.reset();
    ++served_;
    if (ec || server_.stopping_.load()) return close();
    if (!keep_alive_) return linger_close();
    wait_request();
  }

  // After a last response: end our side, then read and drop what the client still sends for a
  // moment, so that closing with unread data (a reset) does not destroy the response in flight.
  void linger_close() {
    state_ = State::kClosed;
    release_place();  // the answer is whole: a new client may have this place now
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return stream_.close();
    stream_.expires_after(std::chrono::seconds(2));
    drain(64 * 1024);
  }

  void drain(size_t budget) {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this(), budget](beast::error_code ec, size_t n) {
                              if (ec || n >= budget || self->server_.stopping_.load())
                                return self->stream_.close();
                              self->drain(budget - n);
                            });
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::kIdle;
  size_t scanned_ = 0;  // bytes of the buffer searched for the end of the header
  bool keep_alive_ = false;
  Clock::time_point started_;
  Request req_;
  Response resp_;
  std::string head_;
  std::array<char, 4096> scratch_;
  const std::string client_;          // client_key() of the peer
  HttpServer::Impl::IdleList& idle_;  // of this connection's I/O thread
  const Clock::time_point accepted_at_;
  Clock::time_point request_started_;  // the first byte of the request being read
  uint64_t served_ = 0;                // responses written
  // Under idle_.mu: whether on the idle list (and where), since when, and whether taken off it
  // by evict_idle().
  std::list<Session*>::iterator idle_pos_;
  bool idle_listed_ = false;
  bool evicted_ = false;
  Clock::time_point idle_since_;
  bool place_released_ = false;  // by release_place(), on this connection's executor or at the end
};

void HttpServer::Impl::add(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(mu_);
  sessions_.emplace(s.get(), s);
  ++clients_[s->client()];
}

void HttpServer::Impl::release(const std::string& client) {
  metrics_.connection_closed();
  open_.fetch_sub(1);
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  if (it != clients_.end() && --it->second == 0) clients_.erase(it);
}

void HttpServer::Impl::remove(Session* s) {
  std::lock_guard lock(mu_);
  sessions_.erase(s);
}

bool HttpServer::Impl::client_may_connect(const std::string& client) {
  if (limits_.max_connections_per_client == 0) return true;
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  return it == clients_.end() || it->second < limits_.max_connections_per_client;
}

bool HttpServer::Impl::evict_idle() {
  for (;;) {
    // The list whose first connection has been idle longest (each list is in order already).
    IdleList* oldest = nullptr;
    Clock::time_point since;
    for (auto& list : idle_) {
      std::lock_guard lock(list->mu);
      if (list->sessions.empty()) continue;
      Clock::time_point t = list->sessions.front()->idle_since_;
      if (oldest == nullptr || t < since) {
        oldest = list.get();
        since = t;
      }
    }
    if (oldest == nullptr) return false;
    std::shared_ptr<Session> victim;
    {
      std::lock_guard lock(oldest->mu);
      if (oldest->sessions.empty()) continue;  // they all woke up meanwhile: look again
      Session* s = oldest->sessions.front();
      oldest->sessions.pop_front();
      s->idle_listed_ = false;
      s->evicted_ = true;  // its read handler, if it runs first, closes it too
      victim = s->weak_from_this().lock();
    }
    metrics_.connection_evicted();
    // Null: already on its way out (its destructor waits for the list's lock), leaving room.
    if (victim) net::post(victim->executor(), [victim] { victim->close(); });
    return true;
  }
}

Status HttpServer::Impl::listen(const std::string& host, uint16_t port) {
  // Many idle connections need many descriptors: raise the soft limit to the hard one.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  beast::error_code ec;
  tcp::resolver resolver(*iocs_[0]);
  auto results = resolver.resolve(host, std::to_string(port),
                                  tcp::resolver::numeric_service | tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return Status::Usage("cannot resolve listen address '" + host + "': " + ec.message());
  }
  tcp::endpoint ep = results.begin()->endpoint();
  std::string where = host + ":" + std::to_string(port);
  acceptor_.open(ep.protocol(), ec);
  if (ec) return Status::Usage("cannot listen on " + where + ": " + ec.message());
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  acceptor_.bind(ep, ec);
  if (ec) return Status::Usage("cannot listen on " + where + ": " + ec.message());
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Status::Usage("cannot listen on " + where + ": " + ec.message());
  local_ = acceptor_.local_endpoint(ec);
  return Status::Ok();
}

void HttpServer::Impl::do_accept() {
  size_t index = next_ioc_++ % iocs_.size();
  acceptor_.async_accept(*iocs_[index], [this, index](beast::error_code ec, tcp::socket socket) {
    if (stopping_.load() || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors or a similar passing failure: try again shortly, without spinning.
      retry_timer_.expires_after(std::chrono::milliseconds(50));
      retry_timer_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) do_accept();
      });
      return;
    }
    beast::error_code ignored;
    beast::error_code peer_ec;
    tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    std::string client = peer_ec ? std::string() : client_key(peer.address());
    if (client.empty()) {
      socket.close(ignored);  // gone already
    } else if (!client_may_connect(client)) {
      metrics_.connection_refused(ServerMetrics::Refusal::kPerClient);
      socket.close(ignored);
    } else if (open_.load() >= limits_.max_connections && !evict_idle()) {
      metrics_.connection_refused(ServerMetrics::Refusal::kTotal);
      socket.close(ignored);
    } else {
      socket.set_option(tcp::no_delay(true), ignored);
      open_.fetch_add(1);
      metrics_.connection_opened();
      auto session =
          std::make_shared<Session>(std::move(socket), *this, std::move(client), *idle_[index]);
      add(session);
      session->start();
    }
    do_accept();
  });
}

void HttpServer::Impl::run() {
  net::dispatch(acceptor_.get_executor(), [this] { do_accept(); });
  unsigned n = unsigned(iocs_.size());
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    threads.emplace_back([this, i] {
      iocs_[i]->run();
      std::lock_guard lock(mu_);
      ++finished_threads_;
      cv_.notify_all();
    });
  }
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_requested_ || finished_threads_ == n; });
    if (!cv_.wait_for(lock, limits_.stop_grace, [&] { return finished_threads_ == n; })) {
      for (auto& ioc : iocs_) ioc->stop();  // responses still being written are cut
    }
  }
  for (std::thread& t : threads) t.join();
}

void HttpServer::Impl::stop() {
  if (stopping_.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) {
    net::post(s->executor(), [s] { s->on_stop(); });
  }
  live.clear();
  for (auto& guard : guards_) guard.reset();  // each thread returns once its connections are done
  std::lock_guard lock(mu_);
  stop_requested_ = true;
  cv_.notify_all();
}

HttpServer::HttpServer(Handler handler, ServerMetrics& metrics, ServerLimits limits)
    : impl_(std::make_unique<Impl>(std::move(handler), metrics, limits)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::listen(const std::string& host, uint16_t port) {
  return impl_->listen(host, port);
}

std::string HttpServer::local_address() const {
  const tcp::endpoint& ep = impl_->local_;
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

void HttpServer::run() { impl_->run(); }
void HttpServer::stop() { impl_->stop(); }

}  // namespace covid::serve

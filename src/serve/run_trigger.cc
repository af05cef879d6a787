#include "serve/run_trigger.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "serve/run_json.h"

namespace covid::serve {
namespace {

bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

void json_response(Response& resp, int status, const nlohmann::json& body) {
  resp.status = status;
  resp.set_body(body.dump(), "application/json");
  resp.cache_control = "no-store";
}

// The token of an "Authorization: Bearer TOKEN" header, or "" for any other. The scheme's name is
// case-insensitive and may be followed by more than one space (RFC 9110, section 11.4).
std::string_view bearer_token(std::string_view authorization) {
  size_t space = authorization.find(' ');
  if (space != 6) return {};
  constexpr std::string_view kScheme = "bearer";
  for (size_t i = 0; i < space; ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  std::string_view token = authorization.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

// The trigger's token check, with a limit on wrong tokens per client address (Request::client:
// an IPv4 address or an IPv6 /64): after kMaxFailures wrong tokens from one client within a
// minute, that client gets 429, whatever token it sends, until the oldest of them is a minute old.
// Other clients are not affected (a stranger cannot lock the owner out). The table is bounded:
// at kMaxClients clients, those with no wrong token in the last minute are dropped, then those
// whose last wrong token is the oldest. Thread-safe.
class TokenGate {
 public:
  explicit TokenGate(std::string token) : token_(std::move(token)) {}
  bool enabled() const { return !token_.empty(); }
  // 0: allowed; otherwise the status to answer (401 or 429).
  int check(std::string_view client, std::string_view authorization) {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    auto it = failures_.find(client);
    if (it != failures_.end()) {
      auto& times = it->second;
      while (!times.empty() && now - times.front() > kWindow) times.pop_front();
      if (times.empty()) {
        failures_.erase(it);
        it = failures_.end();
      } else if (times.size() >= kMaxFailures) {
        return 429;
      }
    }
    if (equal_constant_time(bearer_token(authorization), token_)) return 0;
    if (it == failures_.end()) {
      make_room(now);
      it = failures_
               .emplace(std::string(client), std::deque<std::chrono::steady_clock::time_point>())
               .first;
    }
    it->second.push_back(now);
    return 401;
  }

 private:
  static constexpr size_t kMaxFailures = 5;
  static constexpr size_t kMaxClients = 10'000;
  static constexpr std::chrono::minutes kWindow{1};

  void make_room(std::chrono::steady_clock::time_point now) {
    if (failures_.size() < kMaxClients) return;
    std::erase_if(failures_,
                  [&](const auto& entry) { return now - entry.second.back() > kWindow; });
    while (failures_.size() >= kMaxClients) {
      auto oldest = failures_.begin();
      for (auto i = failures_.begin(); i != failures_.end(); ++i) {
        if (i->second.back() < oldest->second.back()) oldest = i;
      }
      failures_.erase(oldest);
    }
  }

  std::string token_;
  std::mutex mu_;
  // Per client: the times of its wrong tokens in the last minute, oldest first (never empty).
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>, std::less<>> failures_;
};

std::optional<int64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

void add_run_routes(Router& router, SnapshotCache& cache, RunTrigger& trigger, std::string token) {
  auto gate = std::make_shared<TokenGate>(std::move(token));
  RunTrigger* runs = &trigger;
  SnapshotCache* c = &cache;
  router.add("/api/v1/runs", method_bit(Method::kPost),
             [gate, runs](const Request& req, Response& resp) {
               if (!gate->enabled()) return error_response(resp, 404, "no such path");
               int denied = gate->check(req.client, req.header("Authorization"));
               if (denied == 429) {
                 error_response(resp, 429,
                                "too many wrong tokens from this address; try again in a minute");
                 resp.headers.emplace_back("Retry-After", "60");
                 return;
               }
               if (denied == 401) {
                 error_response(resp, 401, "a valid bearer token is required");
                 resp.headers.emplace_back("WWW-Authenticate", "Bearer");
                 return;
               }
               RunTrigger::Started s = runs->start();
               if (!s.started) {
                 return json_response(resp, 409,
                                      {{"status", 409},
                                       {"error", "conflict"},
                                       {"message", "a run is in progress"},
                                       {"id", s.id}});
               }
               if (s.id == 0) {
                 return json_response(
                     resp, 503,
                     {{"status", 503},
                      {"error", "unavailable"},
                      {"message", s.error.empty() ? "the run has not started" : s.error}});
               }
               json_response(resp, 202, {{"id", s.id}});
               resp.headers.emplace_back("Location", "/api/v1/runs/" + std::to_string(s.id));
             });
  router.add("/api/v1/runs/{id}", kGetHead, [c, runs](const Request& req, Response& resp) {
    auto id = parse_id(req.path_params.empty() ? std::string_view() : req.path_params[0].second);
    if (!id) return error_response(resp, 400, "a run id is a number");
    if (auto s = runs->status(*id)) return json_response(resp, 200, *s);
    // One read by the run's key, through the server's own connection.
    auto found = c->run(*id);
    if (!found.ok()) {
      error_response(resp, 503, "the database cannot be read: " + found.status().message());
      resp.headers.emplace_back("Retry-After", "1");
      return;
    }
    if (*found) return json_response(resp, 200, run_result_json(**found));
    error_response(resp, 404, "no run " + std::to_string(*id));
  });
}

}  // namespace covid::serve

#include "config/config.h"

#include "schedule/cron.h"

#include <cstdlib>
#include <filesystem>
#include <set>
#include <utility>

// toml++ 3.3 asserts, inside its parser, things that malformed input can break: a table header
// such as "[+a]" fails one in parse_key (found by tests/fuzz/config_fuzz.cc), which aborts; and
// with NDEBUG the assertions become __builtin_assume, undefined behaviour. The parser reports
// such input as a parse error right after the assertion, so compile the assertions out, and
// never as assumptions: a bad file is then a usage error naming its line and column.
#undef NDEBUG
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

namespace covid {
namespace {

std::string where(const std::string& path, const toml::source_region& r) {
  return path + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

class Checker {
 public:
  explicit Checker(std::string path) : path_(std::move(path)) {}

  // Reports keys of `table` not in `known`.
  void known(const toml::table& table, const std::string& prefix, std::set<std::string> keys) {
    for (const auto& [k, v] : table) {
      if (keys.count(std::string(k.str())) == 0) {
        fail(k.source(), "unknown key '" + prefix + std::string(k.str()) + "'");
      }
    }
  }
  void string(const toml::table& t, const char* key, const std::string& name, std::string* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    if (auto v = n->value<std::string>()) {
      std::string expanded;
      if (v->empty()) fail(n->source(), "'" + name + "' must not be empty");
      else if (expand_environment(*v, &expanded, n->source(), name)) *out = expanded;
    } else {
      fail(n->source(), "'" + name + "' must be a string");
    }
  }
  void integer(const toml::table& t, const char* key, const std::string& name, int64_t min,
               int64_t max, int64_t* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    auto v = n->value_exact<int64_t>();
    if (!v) return fail(n->source(), "'" + name + "' must be an integer");
    if (*v < min || *v > max) {
      return fail(n->source(), "'" + name + "' must be between " + std::to_string(min) + " and " +
                                   std::to_string(max));
    }
    *out = *v;
  }
  // Replaces each ${NAME} by the environment variable NAME (for values a deployment passes in,
  // such as a topic ARN). Secrets belong in the variables a channel names (password_env, header
  // ${...}, read at delivery), not here: expanded values end up in the configuration.
  bool expand_environment(const std::string& in, std::string* out, const toml::source_region& r,
                          const std::string& name) {
    out->clear();
    size_t i = 0;
    for (size_t open; (open = in.find("${", i)) != std::string::npos;) {
      size_t close = in.find('}', open);
      if (close == std::string::npos) break;
      std::string var = in.substr(open + 2, close - open - 2);
      const char* value = std::getenv(var.c_str());
      if (value == nullptr) {
        fail(r, "'" + name + "' names the environment variable " + var + ", which is not set");
        return false;
      }
      out->append(in, i, open - i).append(value);
      i = close + 1;
    }
    out->append(in, i);
    return true;
  }
  const toml::table* table(const toml::table& t, const char* key) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) {
      fail(n->source(), std::string("'") + key + "' must be a table");
      return nullptr;
    }
    return n->as_table();
  }
  void fail(const toml::source_region& r, const std::string& message) {
    if (status_.ok()) status_ = Status::Usage(where(path_, r) + ": " + message);
  }
  Status status() const { return status_; }

 private:
  std::string path_;
  Status status_;
};

int64_t ms(std::chrono::milliseconds d) { return d.count(); }

// One [[notify]] entry: the keys every type has, then its type's own.
void read_channel(Checker& check, const toml::table& t, ChannelConfig* c) {
  check.string(t, "type", "notify.type", &c->type);
  static const std::set<std::string> kTypes = {"log", "webhook", "email", "sns"};
  if (kTypes.count(c->type) == 0) {
    return check.fail(t.source(), c->type.empty() ? "a [[notify]] entry needs a type"
                                                  : "unknown notify type '" + c->type +
                                                        "' (log, webhook, email or sns)");
  }
  std::set<std::string> keys = {"type", "name", "on", "timeout_ms"};
  if (c->type == "webhook") keys.insert({"url", "headers", "ca_file"});
  if (c->type == "email") {
    keys.insert({"url", "from", "to", "username_env", "password_env", "tls", "ca_file"});
  }
  if (c->type == "sns") keys.insert({"topic_arn", "region", "endpoint"});
  check.known(t, "notify.", keys);

  c->name = c->type;
  check.string(t, "name", "notify.name", &c->name);
  if (const toml::node* on = t.get("on")) {
    const toml::array* events = on->as_array();
    if (events == nullptr) return check.fail(on->source(), "'notify.on' must be a list");
    c->on.clear();
    for (const toml::node& e : *events) {
      auto v = e.value<std::string>();
      if (!v || (*v != "success" && *v != "unchanged" && *v != "failure")) {
        return check.fail(e.source(), "'notify.on' takes \"success\", \"unchanged\" and \"failure\"");
      }
      c->on.push_back(*v);
    }
  }
  int64_t timeout = c->timeout.count();
  check.integer(t, "timeout_ms", "notify.timeout_ms", 1, 600'000, &timeout);
  c->timeout = std::chrono::milliseconds(timeout);
  check.string(t, "url", "notify.url", &c->url);
  check.string(t, "ca_file", "notify.ca_file", &c->ca_file);
  check.string(t, "from", "notify.from", &c->from);
  check.string(t, "username_env", "notify.username_env", &c->username_env);
  check.string(t, "password_env", "notify.password_env", &c->password_env);
  check.string(t, "topic_arn", "notify.topic_arn", &c->topic_arn);
  check.string(t, "region", "notify.region", &c->region);
  check.string(t, "endpoint", "notify.endpoint", &c->endpoint);
  if (const toml::node* to = t.get("to")) {
    const toml::array* list = to->as_array();
    if (list == nullptr) return check.fail(to->source(), "'notify.to' must be a list of addresses");
    for (const toml::node& a : *list) {
      auto v = a.value<std::string>();
      if (!v || v->empty()) return check.fail(a.source(), "'notify.to' must be a list of addresses");
      c->to.push_back(*v);
    }
  }
  if (const toml::node* h = t.get("headers")) {
    const toml::table* headers = h->as_table();
    if (headers == nullptr) return check.fail(h->source(), "'notify.headers' must be a table");
    for (const auto& [k, v] : *headers) {
      auto value = v.value<std::string>();
      if (!value) return check.fail(v.source(), "a header value must be a string");
      c->headers.emplace_back(std::string(k.str()), *value);
    }
  }
  if (const toml::node* tls = t.get("tls")) {
    auto v = tls->value<std::string>();
    if (!v || (*v != "required" && *v != "none")) {
      return check.fail(tls->source(), "'notify.tls' must be \"required\" or \"none\"");
    }
    c->require_tls = *v == "required";
  }
  auto need = [&](bool present, const char* key) {
    if (!present) check.fail(t.source(), "a " + c->type + " [[notify]] entry needs '" + key + "'");
  };
  if (c->type == "webhook") {
    need(!c->url.empty(), "url");
    if (!c->url.empty() && !c->url.starts_with("http://") && !c->url.starts_with("https://")) {
      check.fail(t.get("url")->source(), "'notify.url' of a webhook must be http:// or https://");
    }
  }
  if (c->type == "email") {
    need(!c->url.empty(), "url");
    need(!c->from.empty(), "from");
    need(!c->to.empty(), "to");
    if (!c->url.empty() && !c->url.starts_with("smtp://") && !c->url.starts_with("smtps://")) {
      check.fail(t.get("url")->source(), "'notify.url' of an email entry must be smtp:// or smtps://");
    }
  }
  if (c->type == "sns") {
    need(!c->topic_arn.empty(), "topic_arn");
    need(!c->region.empty(), "region");
  }
}

}  // namespace

bool parse_listen(std::string_view text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.front() == '[') {  // an IPv6 literal
    if (h.size() < 3 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return false;
  }
  if (p.empty() || p.size() > 5) return false;
  uint32_t v = 0;
  for (char ch : p) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + uint32_t(ch - '0');
  }
  if (v > 65535) return false;
  for (char ch : h) {
    if (ch <= ' ' || ch == '/' || ch == '[' || ch == ']' || static_cast<unsigned char>(ch) >= 0x7f) return false;
  }
  *host = std::string(h);
  *port = uint16_t(v);
  return true;
}

std::vector<std::string> states_urls(const Config& c) {
  if (c.states == false) return {};
  if (!c.states_urls.empty()) return c.states_urls;
  if (c.states == true || c.nyt_url == kDefaultNytUrl) return {kDefaultStatesUrl};
  return {};
}

std::vector<std::string> counties_urls(const Config& c) {
  if (c.counties == false) return {};
  if (!c.counties_urls.empty()) return c.counties_urls;
  if (c.counties == true) return {kDefaultCountiesUrl};
  return {};
}

Result<Config> load_config_file(const std::string& path, Config c) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) {
      return Status::Usage(path + ": " + std::string(e.description()));
    }
    return Status::Usage(where(path, e.source()) + ": " + std::string(e.description()));
  }
  Checker check(path);
  check.known(root, "", {"db", "sources", "datasets", "transform", "extract", "load", "notify", "notifications", "schedule",
                     "serve"});
  check.string(root, "db", "db", &c.db);

  if (const toml::table* t = check.table(root, "sources")) {
    check.known(*t, "sources.", {"nyt", "jhu", "states", "counties"});
    check.string(*t, "nyt", "sources.nyt", &c.nyt_url);
    check.string(*t, "jhu", "sources.jhu", &c.jhu_url);
    for (auto [key, out] : {std::pair{"states", &c.states_urls}, std::pair{"counties", &c.counties_urls}}) {
      const toml::node* n = t->get(key);
      if (n == nullptr) continue;
      std::string name = std::string("sources.") + key;
      if (const toml::array* list = n->as_array()) {
        std::vector<std::string> urls;
        for (const toml::node& e : *list) {
          auto v = e.value<std::string>();
          if (!v || v->empty()) {
            check.fail(e.source(), "'" + name + "' must be a URL or a list of URLs");
          } else {
            urls.push_back(*v);
          }
        }
        if (list->empty()) check.fail(n->source(), "'" + name + "' must not be an empty list");
        *out = std::move(urls);
      } else {
        std::string url;
        check.string(*t, key, name, &url);
        if (!url.empty()) *out = {url};
      }
    }
  }
  if (const toml::table* t = check.table(root, "datasets")) {
    check.known(*t, "datasets.", {"national", "states", "counties"});
    for (const char* key : {"national", "states", "counties"}) {
      const toml::node* n = t->get(key);
      if (n == nullptr) continue;
      auto v = n->value_exact<bool>();
      std::string name = std::string("datasets.") + key;
      if (!v) {
        check.fail(n->source(), "'" + name + "' must be true or false");
      } else if (std::string_view(key) == "national") {
        c.national = *v;
      } else if (std::string_view(key) == "states") {
        c.states = *v;
      } else {
        c.counties = *v;
      }
    }
  }
  if (const toml::table* t = check.table(root, "transform")) {
    check.known(*t, "transform.", {"join"});
    std::string join = c.join == JoinKind::kInner ? "inner" : "left";
    check.string(*t, "join", "transform.join", &join);
    if (join == "left") c.join = JoinKind::kLeft;
    else if (join == "inner") c.join = JoinKind::kInner;
    else check.fail(t->get("join")->source(), "'transform.join' must be \"left\" or \"inner\"");
  }
  if (const toml::table* t = check.table(root, "extract")) {
    check.known(*t, "extract.", {"connect_timeout_ms", "timeout_ms", "retries", "backoff_ms",
                                 "backoff_max_ms", "max_bytes"});
    int64_t connect = ms(c.fetch.connect_timeout), total = ms(c.fetch.timeout),
            retries = c.fetch.retries, backoff = ms(c.fetch.backoff_base),
            backoff_max = ms(c.fetch.backoff_max), max_bytes = int64_t(c.fetch.max_bytes);
    check.integer(*t, "connect_timeout_ms", "extract.connect_timeout_ms", 1, 3'600'000, &connect);
    check.integer(*t, "timeout_ms", "extract.timeout_ms", 1, 86'400'000, &total);
    check.integer(*t, "retries", "extract.retries", 0, 20, &retries);
    check.integer(*t, "backoff_ms", "extract.backoff_ms", 0, 3'600'000, &backoff);
    check.integer(*t, "backoff_max_ms", "extract.backoff_max_ms", 0, 3'600'000, &backoff_max);
    check.integer(*t, "max_bytes", "extract.max_bytes", 1, int64_t{1} << 40, &max_bytes);
    c.fetch.connect_timeout = std::chrono::milliseconds(connect);
    c.fetch.timeout = std::chrono::milliseconds(total);
    c.fetch.retries = int(retries);
    c.fetch.backoff_base = std::chrono::milliseconds(backoff);
    c.fetch.backoff_max = std::chrono::milliseconds(backoff_max);
    c.fetch.max_bytes = uint64_t(max_bytes);
  }
  if (const toml::table* t = check.table(root, "load")) {
    check.known(*t, "load.", {"lock_timeout_ms"});
    int64_t lock = ms(c.lock_timeout);
    check.integer(*t, "lock_timeout_ms", "load.lock_timeout_ms", 0, 86'400'000, &lock);
    c.lock_timeout = std::chrono::milliseconds(lock);
  }
  if (const toml::table* t = check.table(root, "serve")) {
    check.known(*t, "serve.", {"listen"});
    check.string(*t, "listen", "serve.listen", &c.listen);
    std::string host;
    uint16_t port = 0;
    if (!parse_listen(c.listen, &host, &port)) {
      check.fail(t->get("listen")->source(), "'serve.listen' must be HOST:PORT, e.g. \"127.0.0.1:8080\"");
    }
  }
  if (const toml::table* t = check.table(root, "schedule")) {
    check.known(*t, "schedule.", {"cron", "time_zone", "stop_timeout_ms"});
    check.string(*t, "cron", "schedule.cron", &c.schedule);
    check.string(*t, "time_zone", "schedule.time_zone", &c.time_zone);
    if (auto cron = CronSchedule::parse(c.schedule); !cron.ok() && t->get("cron") != nullptr) {
      check.fail(t->get("cron")->source(), cron.status().message());
    }
    if (t->get("time_zone") != nullptr && c.time_zone != "UTC" &&
        !std::filesystem::exists("/usr/share/zoneinfo/" + c.time_zone)) {
      check.fail(t->get("time_zone")->source(), "unknown time zone '" + c.time_zone + "'");
    }
    int64_t stop = c.stop_timeout.count();
    check.integer(*t, "stop_timeout_ms", "schedule.stop_timeout_ms", 0, 3'600'000, &stop);
    c.stop_timeout = std::chrono::milliseconds(stop);
  }
  if (const toml::table* t = check.table(root, "notifications")) {
    check.known(*t, "notifications.", {"retries", "backoff_ms", "max_attempts", "dashboard_url"});
    int64_t retries = c.dispatch.retries, backoff = c.dispatch.backoff.count(),
            max_attempts = c.dispatch.max_attempts;
    check.integer(*t, "retries", "notifications.retries", 0, 20, &retries);
    check.integer(*t, "backoff_ms", "notifications.backoff_ms", 0, 600'000, &backoff);
    check.integer(*t, "max_attempts", "notifications.max_attempts", 1, 100'000, &max_attempts);
    check.string(*t, "dashboard_url", "notifications.dashboard_url", &c.dashboard_url);
    c.dispatch.retries = int(retries);
    c.dispatch.backoff = std::chrono::milliseconds(backoff);
    c.dispatch.max_attempts = int(max_attempts);
  }
  if (const toml::node* n = root.get("notify")) {
    if (const toml::array* entries = n->as_array(); entries != nullptr && entries->is_array_of_tables()) {
      for (const toml::node& entry : *entries) {
        ChannelConfig channel;
        read_channel(check, *entry.as_table(), &channel);
        for (const ChannelConfig& other : c.channels) {
          if (other.name == channel.name) {
            check.fail(entry.source(), "two [[notify]] entries are named '" + channel.name +
                                           "': give one a different name");
          }
        }
        c.channels.push_back(std::move(channel));
      }
    } else {
      check.fail(n->source(), "'notify' must be an array of tables: write [[notify]] entries");
    }
  }
  COVID_RETURN_IF_ERROR(check.status());
  return c;
}

void apply_environment(Config& c, const std::function<const char*(const char*)>& getenv_fn) {
  auto get = [&](const char* name) -> const char* {
    return getenv_fn ? getenv_fn(name) : std::getenv(name);
  };
  auto set = [&](const char* name, std::string* out) {
    const char* v = get(name);
    if (v != nullptr && *v != '\0') *out = v;
  };
  set("COVID_ETL_DB", &c.db);
  set("COVID_ETL_NYT_URL", &c.nyt_url);
  set("COVID_ETL_JHU_URL", &c.jhu_url);
  if (const char* v = get("COVID_ETL_STATES_URL"); v != nullptr && *v != '\0') {
    c.states_urls = {v};
    c.states = true;  // setting a source turns its dataset on
  }
  if (const char* v = get("COVID_ETL_COUNTIES_URL"); v != nullptr && *v != '\0') {
    c.counties_urls = {v};
    c.counties = true;
  }
  set("COVID_ETL_LISTEN", &c.listen);
}

}  // namespace covid

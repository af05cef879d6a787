#include "config/config.h"

#include <cstdlib>
#include <set>

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
      if (v->empty()) fail(n->source(), "'" + name + "' must not be empty");
      else *out = *v;
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

}  // namespace

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
  check.known(root, "", {"db", "sources", "transform", "extract", "load"});
  check.string(root, "db", "db", &c.db);

  if (const toml::table* t = check.table(root, "sources")) {
    check.known(*t, "sources.", {"nyt", "jhu"});
    check.string(*t, "nyt", "sources.nyt", &c.nyt_url);
    check.string(*t, "jhu", "sources.jhu", &c.jhu_url);
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
}

}  // namespace covid

#include "load/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "load/migrations.h"
#include "load/store_rules.h"
#include "transform/annotation.h"

namespace covid {
namespace {

// A prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : rc_(sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr)) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), int(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Text that stays where it is, unchanged, until the statement is stepped and reset: not copied.
  Stmt& bind_static(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), int(s.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // A count: NULL when unknown.
  Stmt& bind_count(int i, int64_t v) {
    if (v == kUnknown)
      sqlite3_bind_null(stmt_, i);
    else
      sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind_text_or_null(int i, const std::string& s) {
    if (s.empty())
      sqlite3_bind_null(stmt_, i);
    else
      bind(i, s);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  // Ready to step again with the same bindings (for a statement whose every parameter is bound
  // again before the next step).
  void rewind() { sqlite3_reset(stmt_); }
  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  int64_t count(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL ? kUnknown
                                                          : sqlite3_column_int64(stmt_, col);
  }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(t),
                                      size_t(sqlite3_column_bytes(stmt_, col)));
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

}  // namespace

int SqliteStore::schema_version() { return sql_schema_version(); }

SqliteStore::SqliteStore(sqlite3* db, std::string path, StoreOptions options)
    : db_(db), path_(std::move(path)), options_(options) {}

SqliteStore::~SqliteStore() {
  sqlite3_close_v2(db_);
  if (live_fd_ >= 0) ::close(live_fd_);  // drops the live runs' locks
}

Status SqliteStore::error(const std::string& what) const {
  int code = sqlite3_extended_errcode(db_);
  if ((code & 0xff) == SQLITE_BUSY)
    return Status::Load(lock_timeout_message(path_, options_.lock_timeout));
  return Status::Load(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Status SqliteStore::exec(const char* sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string text = msg != nullptr ? msg : sqlite3_errstr(rc);
  sqlite3_free(msg);
  if ((rc & 0xff) == SQLITE_BUSY)
    return Status::Load(lock_timeout_message(path_, options_.lock_timeout));
  return Status::Load(path_ + ": " + text);
}

Result<std::unique_ptr<Store>> SqliteStore::open(const std::string& path,
                                                 const StoreOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string file = path;
  if (options.read_only) {
    if (!fs::exists(path, ec)) {
      if (!options.missing_ok)
        return Status::Load("no database at " + path + " (run `covid-etl run` first)");
      file = ":memory:";  // reads as an empty database; nothing is created
    }
  } else {
    fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::exists(parent, ec)) {
      fs::create_directories(parent, ec);
      if (ec)
        return Status::Load("cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  sqlite3* db = nullptr;
  int flags =
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, options));
  if (rc != SQLITE_OK) {
    return Status::Load("cannot open database " + path + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  // The file SQLite has just opened, to notice when the path names another (data_version).
  if (struct stat st{}; file == path && ::stat(path.c_str(), &st) == 0) {
    store->has_file_id_ = true;
    store->file_dev_ = uint64_t(st.st_dev);
    store->file_ino_ = uint64_t(st.st_ino);
  }
  sqlite3_busy_timeout(db, int(options.lock_timeout.count()));
  sqlite3_extended_result_codes(db, 1);
  if (!options.read_only) {
    COVID_RETURN_IF_ERROR(store->use_wal());
    COVID_RETURN_IF_ERROR(store->exec("PRAGMA synchronous = FULL"));
  }
  COVID_RETURN_IF_ERROR(store->exec("PRAGMA foreign_keys = ON"));
  if (options.read_only) {
    Stmt v(db, "PRAGMA user_version");
    if (!v.ok() || v.step() != SQLITE_ROW) return store->error("reading the schema version");
    int version = int(v.int64(0));
    COVID_RETURN_IF_ERROR(check_schema_version(version, schema_version(), path));
    store->has_schema_ = version > 0;
  } else {
    COVID_RETURN_IF_ERROR(store->migrate());
  }
  return std::unique_ptr<Store>(std::move(store));
}

bool SqliteStore::schema_ready() {
  // A read-only store opened before the first run has no schema; a run in another process may
  // create it at any time, so look again (one cheap pragma) until it is there.
  if (has_schema_) return true;
  Stmt v(db_, "PRAGMA user_version");
  has_schema_ = v.ok() && v.step() == SQLITE_ROW && v.int64(0) > 0;
  return has_schema_;
}

Status SqliteStore::use_wal() {
  // WAL mode is stored in the file: once set, there is nothing to do. Switching needs a moment
  // alone with the file, and SQLite answers SQLITE_BUSY at once, without its busy handler, when
  // another connection (another run creating the same new file) is in the way: so retry here,
  // within the same lock timeout.
  auto deadline = std::chrono::steady_clock::now() + options_.lock_timeout;
  for (;;) {
    {
      Stmt mode(db_, "PRAGMA journal_mode");  // finalized before the switch below
      if (mode.ok() && mode.step() == SQLITE_ROW && mode.text(0) == "wal") return Status::Ok();
    }
    int rc = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return Status::Ok();
    if ((rc & 0xff) != SQLITE_BUSY) return error("switching to WAL mode");
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Load(lock_timeout_message(path_, options_.lock_timeout));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status SqliteStore::migrate() {
  // A step may rebuild a table that others reference (SQLite's way of changing a constraint):
  // foreign keys are off while the steps run (the pragma only works outside a transaction), and
  // checked before the commit.
  COVID_RETURN_IF_ERROR(exec("PRAGMA foreign_keys = OFF"));
  Status s = migrate_steps();
  Status on = exec("PRAGMA foreign_keys = ON");
  return s.ok() ? on : s;
}

Status SqliteStore::migrate_steps() {
  COVID_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  int version = 0;
  {  // finalized before the steps: a step that drops a table fails while a statement is open
    Stmt v(db_, "PRAGMA user_version");
    if (!v.ok() || v.step() != SQLITE_ROW) {
      Status s = error("reading the schema version");
      (void)exec("ROLLBACK");
      return s;
    }
    version = int(v.int64(0));
  }
  if (Status newer = check_schema_version(version, schema_version(), path_); !newer.ok()) {
    (void)exec("ROLLBACK");
    return newer;
  }
  for (int i = version; i < schema_version(); ++i) {
    Status s = exec(migration_sql(i, SqlDialect::kSqlite));
    if (!s.ok()) {
      (void)exec("ROLLBACK");
      return Status::Load("migrating " + path_ + " to schema version " + std::to_string(i + 1) +
                          " failed: " + s.message());
    }
  }
  if (version < schema_version()) {
    Status e = Status::Ok();
    {
      Stmt fk(db_, "PRAGMA foreign_key_check");
      int rc = fk.ok() ? fk.step() : SQLITE_ERROR;
      if (rc == SQLITE_ROW) {
        e = Status::Load("migrating " + path_ + ": a foreign key no longer holds (table " +
                         fk.text(0) + "); nothing was changed");
      } else if (rc != SQLITE_DONE) {
        e = error("checking foreign keys");
      }
    }
    if (!e.ok()) {
      (void)exec("ROLLBACK");
      return e;
    }
  }
  std::string set = "PRAGMA user_version = " + std::to_string(schema_version());
  COVID_RETURN_IF_ERROR(exec(set.c_str()));
  COVID_RETURN_IF_ERROR(exec("COMMIT"));
  migrated_ = version < schema_version();
  return Status::Ok();
}

namespace {

// A run is live while its process holds a write lock on one byte of DATABASE-live, a file beside
// the database (empty; the byte is the run's id): an open file description lock (F_OFD_SETLK),
// which the kernel drops when the process ends, however it ends, and which another descriptor sees
// even in the same process. Not a byte of the database file itself: closing a descriptor of that
// file would drop every POSIX lock SQLite holds on it in this process.
struct flock live_run_byte(int64_t id, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = off_t(id);
  fl.l_len = 1;
  return fl;
}

}  // namespace

Result<int64_t> SqliteStore::begin_run(const std::string& started_at,
                                       const InterruptedOutbox& tell) {
  if (live_fd_ < 0) {
    std::string live = path_ + "-live";
    live_fd_ = ::open(live.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (live_fd_ < 0)
      return Status::Load(live + ": opening it to mark the run live: " + std::strerror(errno));
  }
  // The record and its mark in one transaction: no other run sees the one without the other.
  COVID_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  auto fail = [this](Status s) {
    (void)exec("ROLLBACK");
    return s;
  };
  Stmt s(db_, "INSERT INTO runs (started_at, status) VALUES (?, 'running')");
  if (!s.ok()) return fail(error("recording the run"));
  s.bind(1, started_at);
  if (s.step() != SQLITE_DONE) return fail(error("recording the run"));
  int64_t id = int64_t(sqlite3_last_insert_rowid(db_));
  struct flock fl = live_run_byte(id, F_WRLCK);
  if (fcntl(live_fd_, F_OFD_SETLK, &fl) != 0) {
    return fail(Status::Load(path_ + ": marking run " + std::to_string(id) +
                             " live: " + std::strerror(errno)));
  }
  Status closed = close_interrupted_runs(id, tell);
  if (!closed.ok()) return fail(closed);
  Status committed = exec("COMMIT");
  if (!committed.ok()) return fail(committed);
  return id;
}

Status SqliteStore::close_interrupted_runs(int64_t own_id, const InterruptedOutbox& tell) {
  std::vector<InterruptedRun> gone;
  {
    Stmt s(db_, "SELECT id, started_at FROM runs WHERE status = 'running' AND id <> ?");
    if (!s.ok()) return error("reading runs");
    s.bind(1, own_id);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      int64_t id = s.int64(0);
      struct flock fl = live_run_byte(id, F_WRLCK);
      if (fcntl(live_fd_, F_OFD_GETLK, &fl) != 0) {
        return Status::Load(path_ + ": asking whether run " + std::to_string(id) +
                            " is live: " + std::strerror(errno));
      }
      if (fl.l_type != F_UNLCK) continue;
      gone.push_back(InterruptedRun{id, s.text(1)});
    }
    if (rc != SQLITE_DONE) return error("reading runs");
  }
  if (gone.empty()) return Status::Ok();
  Stmt u(db_, "UPDATE runs SET status = 'failed', error = ? WHERE id = ? AND status = 'running'");
  if (!u.ok()) return error("closing interrupted runs");
  return covid::close_interrupted_runs(
      gone, own_id, tell, [&](const RunRecord& r, const std::vector<OutboxMessage>& outbox) {
        u.bind(1, r.error).bind(2, r.id);
        if (u.step() != SQLITE_DONE) return error("closing interrupted runs");
        u.reset();
        return insert_outbox(outbox);
      });
}

namespace {

Status write_run(sqlite3* db, const RunRecord& r, const std::function<Status(const char*)>& fail) {
  Stmt s(db, R"sql(
UPDATE runs SET finished_at = ?, status = ?, stage = ?, rows_read = ?, inserted = ?, updated = ?,
  unchanged = ?, missing = ?, warnings = ?, errors = ?, first_date = ?, last_date = ?, error = ?,
  sources = ?, duration_ms = ?, quality = ?
WHERE id = ?)sql");
  if (!s.ok()) return fail("recording the run");
  s.bind(1, r.finished_at).bind(2, to_string(r.status)).bind_text_or_null(3, r.stage);
  s.bind(4, int64_t(r.counts.rows_read)).bind(5, int64_t(r.counts.inserted));
  s.bind(6, int64_t(r.counts.updated)).bind(7, int64_t(r.counts.unchanged));
  s.bind(8, int64_t(r.counts.missing)).bind(9, int64_t(r.counts.warnings));
  s.bind(10, int64_t(r.counts.errors)).bind_text_or_null(11, r.first_date);
  s.bind_text_or_null(12, r.last_date).bind_text_or_null(13, r.error);
  s.bind_text_or_null(14, r.sources_json).bind(15, r.duration_ms);
  s.bind_text_or_null(16, r.quality_json).bind(17, r.id);
  if (s.step() != SQLITE_DONE) return fail("recording the run");
  return Status::Ok();
}

}  // namespace

Status SqliteStore::write_run_and_outbox(const RunRecord& run,
                                         const std::vector<OutboxMessage>& outbox) {
  COVID_RETURN_IF_ERROR(write_run(db_, run, [this](const char* what) { return error(what); }));
  return insert_outbox(outbox);
}

Status SqliteStore::insert_outbox(const std::vector<OutboxMessage>& outbox) {
  if (outbox.empty()) return Status::Ok();
  Stmt s(db_,
         "INSERT INTO outbox (run_id, channel, event, subject, body, payload, created_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!s.ok()) return error("preparing the outbox");
  for (const OutboxMessage& m : outbox) {
    if (m.run_id != 0) s.bind(1, m.run_id);
    s.bind(2, m.channel).bind(3, m.event).bind(4, m.subject).bind(5, m.body).bind(6, m.payload);
    s.bind(7, m.created_at);
    if (s.step() != SQLITE_DONE) return error("writing the outbox");
    s.reset();
  }
  return Status::Ok();
}

Status SqliteStore::finish_run(const RunRecord& run, const std::vector<OutboxMessage>& outbox) {
  // A run that gave up waiting for another run's load must still complete its record (or it
  // would stay `running` for ever): this one write waits longer for the lock, up to a minute.
  auto patience = std::max(options_.lock_timeout, std::chrono::milliseconds(60'000));
  sqlite3_busy_timeout(db_, int(patience.count()));
  Status s = exec("BEGIN IMMEDIATE");
  sqlite3_busy_timeout(db_, int(options_.lock_timeout.count()));
  if (!s.ok()) return s;
  s = write_run_and_outbox(run, outbox);
  if (s.ok()) s = exec("COMMIT");
  if (!s.ok()) (void)exec("ROLLBACK");
  return s;
}

namespace {

OutboxMessage read_outbox_row(const Stmt& s) {
  OutboxMessage m;
  m.id = s.int64(0);
  m.run_id = s.int64(1);
  m.channel = s.text(2);
  m.event = s.text(3);
  m.subject = s.text(4);
  m.body = s.text(5);
  m.payload = s.text(6);
  m.status = stored_outbox_status(s.text(7));
  m.attempts = int(s.int64(8));
  m.last_error = s.text(9);
  m.created_at = s.text(10);
  m.delivered_at = s.text(11);
  return m;
}

constexpr const char* kOutboxColumns =
    "id, run_id, channel, event, subject, body, payload, status, attempts, last_error, "
    "created_at, delivered_at";

}  // namespace

Result<std::vector<OutboxMessage>> SqliteStore::claim_outbox(size_t limit, const std::string& now,
                                                             const std::string& lease_until) {
  std::vector<OutboxMessage> out;
  COVID_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  std::string sql =
      std::string("SELECT ") + kOutboxColumns +
      " FROM outbox WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < ?)"
      " ORDER BY id LIMIT ?";
  {
    Stmt sel(db_, sql.c_str());
    Stmt lease(db_, "UPDATE outbox SET lease_until = ? WHERE id = ?");
    if (!sel.ok() || !lease.ok()) {
      (void)exec("ROLLBACK");
      return error("reading the outbox");
    }
    sel.bind(1, now).bind(2, int64_t(limit));
    int rc;
    while ((rc = sel.step()) == SQLITE_ROW) out.push_back(read_outbox_row(sel));
    if (rc != SQLITE_DONE) {
      Status e = error("reading the outbox");
      (void)exec("ROLLBACK");
      return e;
    }
    for (const OutboxMessage& m : out) {
      lease.bind(1, lease_until).bind(2, m.id);
      if (lease.step() != SQLITE_DONE) {
        Status e = error("leasing the outbox");
        (void)exec("ROLLBACK");
        return e;
      }
      lease.reset();
    }
  }
  COVID_RETURN_IF_ERROR(exec("COMMIT"));
  return out;
}

Status SqliteStore::record_delivery(const DeliveryUpdate& u) {
  Stmt s(db_,
         "UPDATE outbox SET status = ?, attempts = attempts + ?, last_error = ?, "
         "lease_until = NULL, delivered_at = ? WHERE id = ?");
  if (!s.ok()) return error("updating the outbox");
  s.bind(1, to_string(u.status)).bind(2, int64_t(u.attempts_added)).bind_text_or_null(3, u.error);
  if (u.status == OutboxStatus::kDelivered) s.bind(4, u.at);
  s.bind(5, u.id);
  if (s.step() != SQLITE_DONE) return error("updating the outbox");
  return Status::Ok();
}

Result<std::vector<OutboxMessage>> SqliteStore::list_outbox(bool all, size_t limit) {
  std::vector<OutboxMessage> out;
  if (!schema_ready()) return out;
  std::string sql = std::string("SELECT ") + kOutboxColumns + " FROM outbox" +
                    (all ? "" : " WHERE status <> 'delivered'") + " ORDER BY id DESC LIMIT ?";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return error("reading the outbox");
  s.bind(1, int64_t(limit));
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_outbox_row(s));
  if (rc != SQLITE_DONE) return error("reading the outbox");
  return out;
}

// The load transaction: BEGIN IMMEDIATE on construction, ROLLBACK unless committed.
class SqliteLoad final : public LoadTransaction {
 public:
  explicit SqliteLoad(SqliteStore& store) : store_(store) {}
  ~SqliteLoad() override {
    if (open_) (void)store_.exec("ROLLBACK");
    (void)store_.exec("PRAGMA foreign_keys = ON");
  }

  // Foreign keys are not checked within a load: checking them costs two lookups a row (a third
  // of a county load's time), and the load itself guarantees them: every location is saved by
  // save_locations() in the same transaction before its rows, and every row carries this run's
  // id. Other connections (and the schema) keep them on. The pragma only works outside a
  // transaction, hence here and in the destructor.
  Status begin() {
    COVID_RETURN_IF_ERROR(store_.exec("PRAGMA foreign_keys = OFF"));
    COVID_RETURN_IF_ERROR(store_.exec("BEGIN IMMEDIATE"));
    open_ = true;
    return Status::Ok();
  }

  Result<std::vector<Observation>> existing(std::string_view location) override {
    return store_.read_series(location, std::nullopt, std::nullopt);
  }

  // Many locations (counties): one pass over the table in key order, which is (location, date)
  // in BINARY collation, the order of std::string; rows of other locations are skipped.
  Result<std::vector<Observation>> existing_many(
      const std::vector<std::string>& locations) override {
    if (locations.size() <= 64) return LoadTransaction::existing_many(locations);
    std::vector<Observation> out;
    if (!store_.schema_ready()) return out;
    Stmt s(store_.db_,
           "SELECT location, date, cases, deaths, recovered FROM observations ORDER BY location, "
           "date");
    if (!s.ok()) return store_.error("reading observations");
    int rc;
    std::string last;
    bool wanted = false;
    while ((rc = s.step()) == SQLITE_ROW) {
      std::string location = s.text(0);
      if (location != last) {
        wanted = std::binary_search(locations.begin(), locations.end(), location);
        last = location;
      }
      if (!wanted) continue;
      Observation o;
      o.location = std::move(location);
      if (parse_date(s.text(1), &o.date) != DateError::kNone) {
        return Status::Load(store_.path_ + ": bad date '" + s.text(1) + "' in observations");
      }
      o.cases = s.count(2);
      o.deaths = s.count(3);
      o.recovered = s.count(4);
      out.push_back(std::move(o));
    }
    if (rc != SQLITE_DONE) return store_.error("reading observations");
    return out;
  }

  Status write(int64_t run_id, const ChangeSet& changes) override {
    sqlite3* db = store_.db_;
    auto fail = [&](const char* what) { return store_.error(what); };
    char date[10];
    if (!changes.inserted.empty()) {
      Stmt ins(db,
               "INSERT INTO observations (location, date, cases, deaths, recovered, run_id) "
               "VALUES (?, ?, ?, ?, ?, ?)");
      if (!ins.ok()) return fail("preparing the insert");
      for (const Observation& o : changes.inserted) {
        format_date(o.date, date);
        ins.bind(1, o.location).bind(2, std::string_view(date, 10)).bind_count(3, o.cases);
        ins.bind_count(4, o.deaths).bind_count(5, o.recovered).bind(6, run_id);
        if (ins.step() != SQLITE_DONE) return fail("inserting observations");
        ins.reset();
      }
    }
    if (!changes.updated.empty()) {
      Stmt upd(db,
               "UPDATE observations SET cases = ?, deaths = ?, recovered = ?, run_id = ? "
               "WHERE location = ? AND date = ?");
      Stmt rev(db,
               "INSERT INTO revisions (run_id, location, date, old_cases, old_deaths, "
               "old_recovered, new_cases, new_deaths, new_recovered) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      if (!upd.ok() || !rev.ok()) return fail("preparing the update");
      for (const Revision& r : changes.updated) {
        format_date(r.after.date, date);
        std::string_view d(date, 10);
        upd.bind_count(1, r.after.cases)
            .bind_count(2, r.after.deaths)
            .bind_count(3, r.after.recovered);
        upd.bind(4, run_id).bind(5, r.after.location).bind(6, d);
        if (upd.step() != SQLITE_DONE) return fail("updating observations");
        upd.reset();
        rev.bind(1, run_id).bind(2, r.after.location).bind(3, d);
        rev.bind_count(4, r.before.cases)
            .bind_count(5, r.before.deaths)
            .bind_count(6, r.before.recovered);
        rev.bind_count(7, r.after.cases)
            .bind_count(8, r.after.deaths)
            .bind_count(9, r.after.recovered);
        if (rev.step() != SQLITE_DONE) return fail("recording revisions");
        rev.reset();
      }
    }
    return Status::Ok();
  }

  Result<std::vector<Observation>> existing_on(Date date,
                                               const std::vector<std::string>& locations) override {
    std::vector<Observation> out;
    if (!store_.schema_ready()) return out;
    Stmt s(store_.db_,
           "SELECT cases, deaths, recovered FROM observations WHERE location = ? AND date = ?");
    if (!s.ok()) return store_.error("reading observations");
    char d[10];
    format_date(date, d);
    for (const std::string& location : locations) {
      s.bind(1, location).bind(2, std::string_view(d, 10));
      int rc = s.step();
      if (rc == SQLITE_ROW) {
        Observation o;
        o.location = location;
        o.date = date;
        o.cases = s.count(0);
        o.deaths = s.count(1);
        o.recovered = s.count(2);
        out.push_back(std::move(o));
      } else if (rc != SQLITE_DONE) {
        return store_.error("reading observations");
      }
      s.reset();
    }
    return out;
  }

  Result<std::vector<Observation>> existing_on_date(std::string_view level, Date date) override {
    std::vector<Observation> out;
    // No index leads by date: this reads the table, which only a date that lost rows needs.
    Stmt s(store_.db_,
           "SELECT o.location, o.cases, o.deaths, o.recovered FROM observations o "
           "JOIN locations l ON l.id = o.location WHERE o.date = ? AND l.type = ? ORDER BY "
           "o.location");
    if (!s.ok()) return store_.error("reading observations");
    char d[10];
    format_date(date, d);
    s.bind(1, std::string_view(d, 10)).bind(2, level);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      Observation o;
      o.location = s.text(0);
      o.date = date;
      o.cases = s.count(1);
      o.deaths = s.count(2);
      o.recovered = s.count(3);
      out.push_back(std::move(o));
    }
    if (rc != SQLITE_DONE) return store_.error("reading observations");
    return out;
  }

  // Many rows a statement: SQLite spends less per row on a statement of many VALUES, and rows
  // in key order are appended to the table's B-tree instead of inserted into it. The rows of a
  // statement are kept in `pending` until it is stepped, so their text is bound without a copy.
  Status insert_sorted(int64_t run_id, RowCursor& rows) override {
    constexpr int kPerStatement = 256;
    std::string sql =
        "INSERT INTO observations (location, date, cases, deaths, recovered, run_id) VALUES ";
    for (int i = 0; i < kPerStatement; ++i)
      sql += i == 0 ? "(?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?)";
    Stmt many(store_.db_, sql.c_str());
    Stmt one(store_.db_,
             "INSERT INTO observations (location, date, cases, deaths, recovered, run_id) "
             "VALUES (?, ?, ?, ?, ?, ?)");
    if (!many.ok() || !one.ok()) return store_.error("preparing the insert");
    struct Pending {
      Observation row;
      char date[10];
    };
    std::vector<Pending> pending(kPerStatement);
    size_t n = 0;
    auto bind = [&](Stmt& s, int at, Pending& p) {
      const Observation& o = p.row;
      format_date(o.date, p.date);
      s.bind_static(at + 1, o.location).bind_static(at + 2, std::string_view(p.date, 10));
      s.bind_count(at + 3, o.cases).bind_count(at + 4, o.deaths).bind_count(at + 5, o.recovered);
      s.bind(at + 6, run_id);
    };
    for (;;) {
      auto row = rows.next();
      if (!row.ok()) return row.status();
      if (*row == nullptr) break;
      Observation& o = pending[n].row;
      o.location = (*row)->location;  // into the buffer it has: no allocation once warm
      o.date = (*row)->date;
      o.cases = (*row)->cases;
      o.deaths = (*row)->deaths;
      o.recovered = (*row)->recovered;
      bind(many, 6 * int(n), pending[n]);
      if (++n == kPerStatement) {
        if (many.step() != SQLITE_DONE) return store_.error("inserting observations");
        many.rewind();
        n = 0;
      }
    }
    many.reset();
    for (size_t i = 0; i < n; ++i) {  // the last rows, fewer than a statement's
      bind(one, 0, pending[i]);
      if (one.step() != SQLITE_DONE) return store_.error("inserting observations");
      one.rewind();
    }
    return Status::Ok();
  }

  Result<uint64_t> delete_level(std::string_view level) override {
    uint64_t deleted = 0;
    const char* steps[] = {
        "DELETE FROM observations WHERE location IN (SELECT id FROM locations WHERE type = ?)",
        "DELETE FROM date_digests WHERE level = ?",
        "DELETE FROM locations WHERE type = ?",
    };
    for (const char* sql : steps) {
      Stmt s(store_.db_, sql);
      if (!s.ok()) return store_.error("deleting the " + std::string(level) + " rows");
      s.bind(1, level);
      if (s.step() != SQLITE_DONE)
        return store_.error("deleting the " + std::string(level) + " rows");
      if (deleted == 0 && sql == steps[0]) deleted = uint64_t(sqlite3_changes64(store_.db_));
    }
    return deleted;
  }

  Status save_cadence(std::string_view dataset, int days) override {
    Stmt s(store_.db_,
           "INSERT INTO dataset_cadence (dataset, days) VALUES (?, ?) "
           "ON CONFLICT (dataset) DO UPDATE SET days = excluded.days");
    if (!s.ok()) return store_.error("saving the cadence");
    s.bind(1, dataset).bind(2, int64_t(days));
    if (s.step() != SQLITE_DONE) return store_.error("saving the cadence");
    return Status::Ok();
  }

  Status save_date_digests(std::string_view level,
                           const std::map<Date, StoredDigest>& digests) override {
    Stmt s(store_.db_, R"sql(
INSERT INTO date_digests (level, date, rows, hash, stored_rows, bytes_hash) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (level, date) DO UPDATE SET rows = excluded.rows, hash = excluded.hash,
  stored_rows = excluded.stored_rows, bytes_hash = excluded.bytes_hash)sql");
    if (!s.ok()) return store_.error("preparing the date digests");
    char d[10];
    for (const auto& [date, digest] : digests) {
      format_date(date, d);
      s.bind(1, level).bind(2, std::string_view(d, 10)).bind(3, int64_t(digest.source.rows));
      s.bind(4, digest.source.hash_hex()).bind(5, int64_t(digest.stored_rows));
      s.bind_text_or_null(6, digest.bytes ? digest.bytes->hex() : std::string());
      if (s.step() != SQLITE_DONE) return store_.error("saving the date digests");
      s.reset();
    }
    return Status::Ok();
  }

  Result<std::vector<Annotation>> existing_annotations() override {
    return store_.read_annotations("", std::nullopt, std::nullopt);
  }

  Status save_annotations(int64_t run_id, const std::vector<Annotation>& annotations) override {
    Stmt s(store_.db_, R"sql(
INSERT INTO annotations (location, from_date, type, kind, to_date, omit_from_average,
  omit_on_subgeographies, adjusted_count, text, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (location, from_date, type, kind) DO UPDATE SET to_date = excluded.to_date,
  omit_from_average = excluded.omit_from_average,
  omit_on_subgeographies = excluded.omit_on_subgeographies,
  adjusted_count = excluded.adjusted_count, text = excluded.text, run_id = excluded.run_id)sql");
    if (!s.ok()) return store_.error("preparing the annotations");
    for (const Annotation& a : annotations) {
      s.bind(1, a.location).bind(2, format_date(a.from)).bind(3, a.type);
      s.bind(4, std::string_view(annotation_kind(a)));
      s.bind_text_or_null(5, a.to ? format_date(*a.to) : std::string());
      s.bind(6, int64_t(a.omit_from_average)).bind(7, int64_t(a.omit_on_subgeographies));
      s.bind(8, a.adjusted_count).bind(9, a.text).bind(10, run_id);
      if (s.step() != SQLITE_DONE) return store_.error("saving the annotations");
      s.reset();
    }
    return Status::Ok();
  }

  Status save_locations(const std::vector<Location>& locations) override {
    Stmt s(store_.db_, R"sql(
INSERT INTO locations (id, type, name, state, fips) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET type = excluded.type, name = excluded.name, state = excluded.state,
  fips = excluded.fips
WHERE (type, name, state, fips) IS NOT (excluded.type, excluded.name, excluded.state, excluded.fips))sql");
    if (!s.ok()) return store_.error("preparing the locations");
    for (const Location& l : locations) {
      s.bind(1, l.id).bind(2, l.type).bind(3, l.name).bind_text_or_null(4, l.state);
      s.bind_text_or_null(5, l.fips);
      if (s.step() != SQLITE_DONE) return store_.error("saving the locations");
      s.reset();
    }
    return Status::Ok();
  }

  Result<std::vector<Population>> populations() override { return store_.populations(); }

  Status save_populations(int64_t run_id, const std::vector<Population>& populations) override {
    Stmt s(store_.db_, R"sql(
INSERT INTO populations (location, population, source, year, run_id) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (location) DO UPDATE SET population = excluded.population, source = excluded.source,
  year = excluded.year, run_id = excluded.run_id)sql");
    if (!s.ok()) return store_.error("preparing the populations");
    for (const Population& p : populations) {
      s.bind(1, p.location).bind(2, p.population).bind(3, p.source);
      if (p.year != 0) s.bind(4, int64_t(p.year));  // else NULL: not known
      s.bind(5, run_id);
      if (s.step() != SQLITE_DONE) return store_.error("saving the populations");
      s.reset();
    }
    return Status::Ok();
  }

  Status save_source(int64_t run_id, const SourceState& st) override {
    Stmt s(store_.db_, R"sql(
INSERT INTO source_state (url, etag, last_modified, content_hash, bytes, run_id, name, dataset,
  header, changed_at, stale_told_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
  content_hash = excluded.content_hash, bytes = excluded.bytes, run_id = excluded.run_id,
  name = excluded.name, dataset = excluded.dataset, header = excluded.header,
  changed_at = excluded.changed_at, stale_told_at = excluded.stale_told_at)sql");
    if (!s.ok()) return store_.error("saving the source state");
    s.bind(1, st.url).bind_text_or_null(2, st.validators.etag);
    s.bind_text_or_null(3, st.validators.last_modified).bind_text_or_null(4, st.content_hash);
    s.bind(5, int64_t(st.bytes)).bind(6, run_id);
    s.bind_text_or_null(7, st.name).bind_text_or_null(8, st.dataset);
    s.bind_text_or_null(9, st.header).bind_text_or_null(10, st.changed_at);
    s.bind_text_or_null(11, st.stale_told_at);
    if (s.step() != SQLITE_DONE) return store_.error("saving the source state");
    return Status::Ok();
  }

  // The key holds a secret: secure_delete overwrites the row's bytes instead of leaving them in a
  // free page of the file.
  Status forget_source(const std::string& url) override {
    COVID_RETURN_IF_ERROR(store_.exec("PRAGMA secure_delete = ON"));
    Stmt s(store_.db_, "DELETE FROM source_state WHERE url = ?");
    if (!s.ok()) return store_.error("removing an old source state");
    s.bind(1, url);
    bool done = s.step() == SQLITE_DONE;
    COVID_RETURN_IF_ERROR(store_.exec("PRAGMA secure_delete = OFF"));
    if (!done) return store_.error("removing an old source state");
    return Status::Ok();
  }

  Status finish_run(const RunRecord& run, const std::vector<OutboxMessage>& outbox) override {
    return store_.write_run_and_outbox(run, outbox);
  }

  Status commit() override {
    COVID_RETURN_IF_ERROR(store_.exec("COMMIT"));
    open_ = false;
    return store_.exec("PRAGMA foreign_keys = ON");
  }

 private:
  SqliteStore& store_;
  bool open_ = false;
};

Result<std::unique_ptr<LoadTransaction>> SqliteStore::begin_load() {
  auto load = std::make_unique<SqliteLoad>(*this);
  COVID_RETURN_IF_ERROR(load->begin());
  return std::unique_ptr<LoadTransaction>(std::move(load));
}

Result<std::vector<Observation>> SqliteStore::read_series(std::string_view location,
                                                          std::optional<Date> from,
                                                          std::optional<Date> to) {
  std::vector<Observation> out;
  if (!schema_ready()) return out;
  Stmt s(db_,
         "SELECT date, cases, deaths, recovered FROM observations "
         "WHERE location = ? AND date >= ? AND date <= ? ORDER BY date");
  if (!s.ok()) return error("reading observations");
  s.bind(1, location);
  s.bind(2, from ? format_date(*from) : std::string("0000-00-00"));
  s.bind(3, to ? format_date(*to) : std::string("9999-99-99"));
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    Observation o;
    o.location = std::string(location);
    if (parse_date(s.text(0), &o.date) != DateError::kNone) {
      return Status::Load(path_ + ": bad date '" + s.text(0) + "' in observations");
    }
    o.cases = s.count(1);
    o.deaths = s.count(2);
    o.recovered = s.count(3);
    out.push_back(std::move(o));
  }
  if (rc != SQLITE_DONE) return error("reading observations");
  return out;
}

Result<std::vector<Annotation>> SqliteStore::read_annotations(std::string_view location,
                                                              std::optional<Date> from,
                                                              std::optional<Date> to) {
  std::vector<Annotation> out;
  if (!schema_ready()) return out;
  Stmt s(db_, R"sql(
SELECT location, from_date, to_date, type, omit_from_average, omit_on_subgeographies,
  adjusted_count, text FROM annotations
WHERE (?1 = '' OR location = ?1) AND from_date <= ?2 AND coalesce(to_date, from_date) >= ?3)sql");
  if (!s.ok()) {
    auto has = has_table("annotations");  // none before step 7
    if (has.ok() && !*has) return out;
    return error("reading annotations");
  }
  s.bind(1, location);
  s.bind(2, to ? format_date(*to) : std::string("9999-99-99"));
  s.bind(3, from ? format_date(*from) : std::string("0000-00-00"));
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    Annotation a;
    a.location = s.text(0);
    Date d;
    if (parse_date(s.text(1), &a.from) != DateError::kNone ||
        (!s.text(2).empty() && parse_date(s.text(2), &d) != DateError::kNone)) {
      return Status::Load(path_ + ": a bad date in annotations (" + s.text(1) + ")");
    }
    if (!s.text(2).empty()) a.to = d;
    a.type = s.text(3);
    a.omit_from_average = s.int64(4) != 0;
    a.omit_on_subgeographies = s.int64(5) != 0;
    a.adjusted_count = s.int64(6);
    a.text = s.text(7);
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return error("reading annotations");
  std::sort(out.begin(), out.end(), annotation_key_less);
  return out;
}

namespace {

constexpr const char* kRunColumns =
    "id, started_at, finished_at, status, stage, rows_read, inserted, updated, unchanged, missing, "
    "warnings, errors, first_date, last_date, error, sources, duration_ms";

// A row of SqliteStore::run_columns(): kRunColumns and the quality.
RunRecord read_run(Stmt& s) {
  RunRecord r;
  r.id = s.int64(0);
  r.started_at = s.text(1);
  r.finished_at = s.text(2);
  r.status = stored_run_status(s.text(3));
  r.stage = s.text(4);
  r.counts = RunCounts{uint64_t(s.int64(5)), uint64_t(s.int64(6)), uint64_t(s.int64(7)),
                       uint64_t(s.int64(8)), uint64_t(s.int64(9)), uint64_t(s.int64(10)),
                       uint64_t(s.int64(11))};
  r.first_date = s.text(12);
  r.last_date = s.text(13);
  r.error = s.text(14);
  r.sources_json = s.text(15);
  r.duration_ms = s.int64(16);
  r.quality_json = s.text(17);
  return r;
}

}  // namespace

Result<bool> SqliteStore::has_table(const char* table) {
  Stmt s(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  if (!s.ok()) return error("reading the schema");
  s.bind(1, std::string_view(table));
  int rc = s.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("reading the schema");
  return rc == SQLITE_ROW;
}

Result<bool> SqliteStore::has_column(const char* table, const char* column) {
  Stmt s(db_, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
  if (!s.ok()) return error("reading the schema");
  s.bind(1, std::string_view(table)).bind(2, std::string_view(column));
  int rc = s.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("reading the schema");
  return rc == SQLITE_ROW;
}

Result<std::string> SqliteStore::run_columns() {
  auto quality = has_column("runs", "quality");
  if (!quality.ok()) return quality.status();
  return std::string(kRunColumns) + (*quality ? ", quality" : ", ''");
}

Result<std::vector<RunRecord>> SqliteStore::list_runs(size_t limit) {
  std::vector<RunRecord> out;
  if (!schema_ready()) return out;
  auto columns = run_columns();
  if (!columns.ok()) return columns.status();
  std::string sql = "SELECT " + *columns + " FROM runs ORDER BY id DESC LIMIT ?";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return error("reading runs");
  s.bind(1, int64_t(limit));
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_run(s));
  if (rc != SQLITE_DONE) return error("reading runs");
  return out;
}

Result<std::optional<RunRecord>> SqliteStore::get_run(int64_t id) {
  if (!schema_ready()) return std::optional<RunRecord>();
  auto columns = run_columns();
  if (!columns.ok()) return columns.status();
  std::string sql = "SELECT " + *columns + " FROM runs WHERE id = ?";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return error("reading a run");
  s.bind(1, id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<RunRecord>();
  if (rc != SQLITE_ROW) return error("reading a run");
  return std::optional<RunRecord>(read_run(s));
}

Result<std::vector<Location>> SqliteStore::list_locations() {
  std::vector<Location> out;
  if (!schema_ready()) {
    out.push_back(Location{kNation, "nation", "United States", "", ""});
    return out;
  }
  // ORDER BY id: BINARY collation, the byte order of std::string.
  Stmt s(db_, "SELECT id, type, name, state, fips FROM locations ORDER BY id");
  if (!s.ok()) return error("reading locations");
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    out.push_back(Location{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  }
  if (rc != SQLITE_DONE) return error("reading locations");
  return out;
}

Result<std::vector<Population>> SqliteStore::populations() {
  std::vector<Population> out;
  if (!schema_ready()) return out;
  Stmt s(db_, "SELECT location, population, source, year FROM populations ORDER BY location");
  if (!s.ok()) {
    auto has = has_table("populations");  // none before step 6
    if (has.ok() && !*has) return out;
    return error("reading the populations");
  }
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    out.push_back(Population{s.text(0), s.int64(1), s.text(2), int(s.int64(3))});  // NULL: 0
  }
  if (rc != SQLITE_DONE) return error("reading the populations");
  return out;
}

Result<std::optional<std::map<Date, StoredDigest>>> SqliteStore::date_digests(
    std::string_view level) {
  std::map<Date, StoredDigest> out;
  if (!schema_ready()) return std::optional(std::move(out));
  Stmt s(db_, "SELECT date, rows, hash, stored_rows, bytes_hash FROM date_digests WHERE level = ?");
  if (!s.ok()) return error("reading the date digests");
  s.bind(1, level);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    Date date;
    StoredDigest d;
    if (parse_date(s.text(0), &date) != DateError::kNone || !d.source.set_hash_hex(s.text(2))) {
      return Status::Load(path_ + ": a bad row in date_digests (" + s.text(0) + ")");
    }
    d.source.rows = uint64_t(s.int64(1));
    d.stored_rows = uint64_t(s.int64(3));
    if (std::string bytes = s.text(4); !bytes.empty()) {
      d.bytes.emplace();
      if (!d.bytes->set_hex(bytes))
        return Status::Load(path_ + ": a bad row in date_digests (" + s.text(0) + ")");
    }
    out.emplace(date, d);
  }
  if (rc != SQLITE_DONE) return error("reading the date digests");
  return date_digests_answer(std::move(out), [&]() -> Result<bool> {
    Stmt any(db_, "SELECT EXISTS (SELECT 1 FROM locations WHERE type = ?)");
    if (!any.ok()) return error("reading locations");
    any.bind(1, level);
    if (any.step() != SQLITE_ROW) return error("reading locations");
    return any.int64(0) != 0;
  });
}

Result<std::optional<int>> SqliteStore::dataset_cadence(std::string_view dataset) {
  if (!schema_ready()) return std::optional<int>();
  auto has = has_table("dataset_cadence");  // none before step 8 (a dry run): nothing kept
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<int>();
  Stmt s(db_, "SELECT days FROM dataset_cadence WHERE dataset = ?");
  if (!s.ok()) return error("reading the cadence");
  s.bind(1, dataset);
  int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<int>(int(s.int64(0)));
  if (rc != SQLITE_DONE) return error("reading the cadence");
  return std::optional<int>();
}

Result<std::map<std::string, SourceState>> SqliteStore::source_states() {
  std::map<std::string, SourceState> out;
  if (!schema_ready()) return out;
  auto has = has_column("source_state", "changed_at");  // step 5's columns read as empty before it
  if (!has.ok()) return has.status();
  bool old_schema = !*has;
  Stmt s(db_, old_schema ? "SELECT url, etag, last_modified, content_hash, bytes, '', '', '', '', "
                           "'', run_id FROM source_state"
                         : "SELECT url, etag, last_modified, content_hash, bytes, name, dataset, "
                           "header, changed_at, stale_told_at, run_id FROM source_state");
  if (!s.ok()) return error("reading source state");
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    SourceState st;
    st.url = s.text(0);
    st.validators = SourceValidators{s.text(1), s.text(2)};
    st.content_hash = s.text(3);
    st.bytes = uint64_t(s.int64(4));
    st.name = s.text(5);
    st.dataset = s.text(6);
    st.header = s.text(7);
    st.changed_at = s.text(8);
    st.stale_told_at = s.text(9);
    st.run_id = s.int64(10);
    out.emplace(st.url, std::move(st));
  }
  if (rc != SQLITE_DONE) return error("reading source state");
  return out;
}

Result<uint64_t> SqliteStore::data_version() {
  if (has_file_id_) {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      return Status::Load("the database file " + path_ + " is gone (" + std::strerror(errno) + ")");
    }
    if (uint64_t(st.st_dev) != file_dev_ || uint64_t(st.st_ino) != file_ino_) {
      return Status::Load("the database file " + path_ + " was replaced by another file");
    }
  }
  Stmt s(db_, "PRAGMA data_version");
  if (!s.ok() || s.step() != SQLITE_ROW) return error("reading the data version");
  return (uint64_t(s.int64(0)) << 32) ^ uint64_t(sqlite3_total_changes64(db_));
}

}  // namespace covid

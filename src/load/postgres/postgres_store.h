// PostgresStore: the Store on a PostgreSQL server, through plain libpq (loaded on first use, see
// libpq.h). One connection per store; not thread-safe.
//
// Where: every table lives in one schema of the database the URL names (default covid_etl,
// `?schema=NAME` to choose; see pg_url.h), created (unless it exists: then the role needs no
// CREATE privilege on the database) and migrated when a writable store is opened.
// The tables mirror the SQLite store's (locations, runs, observations keyed by (location, date),
// revisions, source_state, outbox) with PostgreSQL types: date for dates, bigint for counts
// (NULL: unknown), timestamptz for times (read back as RFC 3339 UTC with milliseconds), json for
// the recorded sources and notification payloads. The schema version is the one row of
// schema_version; the migrations are the PostgreSQL texts of the steps of load/migrations.h, the
// list the SQLite store's follow too.
//
// Locking: one run at a time per schema. A load transaction, and a migration, first takes the
// transaction-level advisory lock (kLockClass, lock_key(schema)), waiting at most
// StoreOptions::lock_timeout (PostgreSQL's lock_timeout), then fails with "locked by another
// run". The lock goes with the transaction: commit, rollback or a lost connection release it.
// The daemons' schedule (claim_schedule) is another advisory lock, (kScheduleClass,
// lock_key(schema)), session-level: held by one daemon's connection for as long as it lasts.
//
// Keys: observations' location and run_id are checked once per statement by triggers (schema
// step 10, load/migrations.cc), not by per-row foreign keys; the rules are the same.
//
// A load: the ChangeSet's inserted and updated rows (classified above the store, see
// classify.h) go by binary COPY into a temporary staging table, then one INSERT ... ON CONFLICT
// DO UPDATE ... WHERE (...) IS DISTINCT FROM (...) writes them; what it RETURNS must be exactly
// the ChangeSet's inserted and updated rows, or the load fails and is rolled back (the stored
// data was not what the ChangeSet was classified from). The revisions come from the same staging
// rows; the source states, the run record and its outbox messages follow; all in one
// transaction.
//
// Failures: every error is a kLoad Status naming the server as the URL shows it with the
// password replaced by *** (and any password scrubbed from server messages); a bad schema name
// is a usage error. Connection parameters come from the URL, the PG* environment and
// ~/.pgpass as libpq reads them; connect_timeout defaults to 10 s unless the URL or
// PGCONNECT_TIMEOUT sets it. A read-only store sets default_transaction_read_only and fails
// when the schema does not exist yet.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "load/postgres/pg_url.h"
#include "load/store.h"

struct pg_conn;
struct pg_result;

namespace covid {

struct LibPq;

class PostgresStore final : public Store {
 public:
  // `url` is one that is_postgres_url() accepts.
  static Result<std::unique_ptr<Store>> open(const std::string& url, const StoreOptions& options);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  Result<int64_t> begin_run(const std::string& started_at,
                            const InterruptedOutbox& tell = {}) override;
  Status finish_run(const RunRecord& run, const std::vector<OutboxMessage>& outbox) override;
  Result<std::unique_ptr<LoadTransaction>> begin_load() override;
  Result<std::vector<OutboxMessage>> claim_outbox(size_t limit, const std::string& now,
                                                  const std::string& lease_until) override;
  Status record_delivery(const DeliveryUpdate& update) override;
  Result<std::vector<OutboxMessage>> list_outbox(bool all, size_t limit) override;
  Result<std::vector<Observation>> read_series(std::string_view location, std::optional<Date> from,
                                               std::optional<Date> to) override;
  Result<std::vector<Annotation>> read_annotations(std::string_view location,
                                                   std::optional<Date> from,
                                                   std::optional<Date> to) override;
  Result<std::vector<RunRecord>> list_runs(size_t limit) override;
  Result<std::optional<RunRecord>> get_run(int64_t id) override;
  Result<std::vector<Location>> list_locations() override;
  Result<std::map<std::string, SourceState>> source_states() override;
  Result<std::optional<std::map<Date, StoredDigest>>> date_digests(std::string_view level) override;
  Result<std::vector<Population>> populations() override;
  Result<std::optional<int>> dataset_cadence(std::string_view dataset) override;
  // One query (the newest runs' ids, statuses and ends), for serve's check between requests; a
  // store opened before the schema existed answers whether it exists now.
  Result<uint64_t> data_version() override;
  // pg_try_advisory_lock(kScheduleClass, lock_key(schema)), session-level, taken once.
  Result<std::optional<std::string>> claim_schedule() override;
  std::string describe() const override;
  bool migrated_on_open() const override { return migrated_; }

  // The schema version this build writes.
  static int schema_version();
  // The advisory lock a run holds: pg_advisory_xact_lock(kLockClass, lock_key(schema)).
  static constexpr int32_t kLockClass = 0x636f7669;  // "covi"
  static int32_t lock_key(std::string_view schema);  // 32-bit FNV-1a of the schema name
  // The schedule's (claim_schedule): pg_advisory_lock(kScheduleClass, lock_key(schema)), held by
  // the daemon that starts the scheduled runs for as long as its connection lasts.
  static constexpr int32_t kScheduleClass = 0x636f7673;  // "covs"

 private:
  friend class PostgresLoad;

  PostgresStore(const LibPq* pq, pg_conn* conn, PgTarget target, StoreOptions options);
  std::string sql(std::string_view tmpl) const;  // {s} -> the quoted schema
  // Runs one statement; text parameters (nullopt: NULL); a binary or text result.
  Result<std::shared_ptr<pg_result>> query(
      const char* what, const std::string& statement,
      const std::vector<std::optional<std::string>>& params = {}, bool binary = false);
  Status exec(const char* what, const std::string& statements);  // simple query, no parameters
  Status error(const char* what, const pg_result* result) const;
  Result<int> read_version();
  // Whether the schema has `table` (a column of it): a schema of an older version opened
  // read-only is not migrated, and reads what a later step adds as empty.
  Result<bool> has_table(const char* table);
  Result<bool> has_column(const char* table, const char* column);
  // The columns of runs that read_run() reads, the quality (step 9) as '' when absent.
  Result<std::string> run_columns();
  Status migrate();
  Status lock(const char* what);  // inside a transaction
  Status write_run_and_outbox(const RunRecord& run, const std::vector<OutboxMessage>& outbox);
  Status insert_outbox(const std::vector<OutboxMessage>& outbox);  // inside a transaction
  Status rollback();
  Status bad_observations() const;  // a result whose columns are not those of observations

  const LibPq* pq_;
  pg_conn* conn_;
  PgTarget target_;
  StoreOptions options_;
  bool empty_ =
      false;  // read-only with missing_ok on a database without our schema: reads as empty
  bool committing_ = false;  // a lost connection now leaves the load's fate unknown
  bool migrated_ = false;    // migrate() ran schema steps
  // A session-level advisory lock was taken (the schedule, a run's liveness): given back before
  // the connection closes, since the server drops it only when the backend has exited, after
  // PQfinish has returned (another daemon claiming the schedule then could still find it held).
  bool session_locks_ = false;
};

}  // namespace covid

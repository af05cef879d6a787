// SqliteStore: the Store in one SQLite file (Debian's libsqlite3), in WAL mode so readers never
// wait for a load. The schema is versioned with PRAGMA user_version and migrated on open by the
// SQLite text of each step of load/migrations.h (the list PostgreSQL's schema follows too).
// A load is one BEGIN IMMEDIATE transaction: SQLite's write lock is the run lock, and the
// connection's busy timeout bounds how long a second run waits for it. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "load/store.h"

struct sqlite3;

namespace covid {

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> open(const std::string& path, const StoreOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

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
  Result<std::optional<int>> dataset_cadence(std::string_view dataset) override;
  Result<std::optional<RunRecord>> get_run(int64_t id) override;
  Result<std::vector<Location>> list_locations() override;
  Result<std::map<std::string, SourceState>> source_states() override;
  Result<std::optional<std::map<Date, StoredDigest>>> date_digests(std::string_view level) override;
  Result<std::vector<Population>> populations() override;
  // PRAGMA data_version (commits by other connections) plus this connection's own changes. An
  // error when the path no longer names the file this store has open: deleted, or replaced by
  // another (`mv new.db covid.db`); a reader then opens the path again (serve/snapshot.h). One
  // stat() per call.
  Result<uint64_t> data_version() override;
  std::string describe() const override { return path_; }
  bool migrated_on_open() const override { return migrated_; }

  // The schema version this build writes.
  static int schema_version();

 private:
  SqliteStore(sqlite3* db, std::string path, StoreOptions options);
  Status migrate();
  Status migrate_steps();
  Status use_wal();
  bool schema_ready();
  // Whether the database has `table` (a column of it): a database of an older schema opened
  // read-only is not migrated, and reads what a later step adds as empty.
  Result<bool> has_table(const char* table);
  Result<bool> has_column(const char* table, const char* column);
  // The columns of runs that read_run() reads, the quality (step 9) as '' when absent.
  Result<std::string> run_columns();
  Status exec(const char* sql);
  Status error(const std::string& what) const;
  // The run record and outbox rows, inside a transaction the caller holds.
  Status write_run_and_outbox(const RunRecord& run, const std::vector<OutboxMessage>& outbox);

  // Closes the records of `running` runs whose process has ended (see begin_run).
  Status close_interrupted_runs(int64_t own_id, const InterruptedOutbox& tell);
  Status insert_outbox(const std::vector<OutboxMessage>& outbox);  // inside a transaction

  sqlite3* db_;
  std::string path_;
  StoreOptions options_;
  int live_fd_ = -1;  // DATABASE-live, the live runs' locks (begin_run)
  // The identity (device, inode) of the file opened, when it is a file.
  bool has_file_id_ = false;
  uint64_t file_dev_ = 0, file_ino_ = 0;
  bool has_schema_ = true;  // false until the schema exists (read-only stores)
  bool migrated_ = false;   // migrate() ran schema steps

  friend class SqliteLoad;
};

}  // namespace covid

// DynamoDbStore: the Store in Amazon DynamoDB (or a DynamoDB-compatible server), through
// DynamoClient (JSON over HTTPS, SigV4 by libcurl; no AWS SDK). One client per store; not
// thread-safe. The URL forms are in dynamo_url.h; credentials come from the environment only.
//
// Tables (created on first use by a writable store, on-demand billing, then waited for until
// ACTIVE; a read-only store never creates anything and fails when they are missing, or with
// StoreOptions::missing_ok reads as empty):
// - TABLE, the data: partition key `location` (S), sort key `date` (S, YYYY-MM-DD); attributes
//   cases, deaths, recovered (N; absent when unknown) and run_id (N). See dynamo_item.h.
// - TABLE-meta, everything else, keyed by `pk` (S) and `sk` (S):
//     pk "run",      sk the run id zero-padded to 20 digits (so a descending Query is newest first)
//     pk "revision", sk "<run id, 20 digits>#<location>#<date>": old_* and new_* counts
//     pk "source",   sk the source URL (a long one shortened, the full URL in `url`)
//     pk "outbox",   sk the message id, 20 digits; lease_until while a process delivers it
//     pk "counter",  sk "run" / "outbox": `value`, the last id given (UpdateItem ADD: atomic)
//     pk "lock",     sk "run": the run lock (owner, holder, lease_until in epoch ms)
//     pk "schema",   sk "version": `version`, the layout version (1: a new table; 2 once date
//                    digests are kept in it, so that a build that does not keep them, and would
//                    change county rows without their digests, refuses the table)
//     pk "digest#<level>", sk the date (YYYY-MM-DD): a level's date digest (load/date_digest.h):
//                    rows, hash (32 hex digits), stored_rows, bytes_hash (absent when unknown)
//     pk "digests",  sk the level: the level's rows are kept with digests (see below)
//     pk "population", sk the location id: a population (transform/reference.h): population,
//                    source, year (absent when not known), run_id; written at commit after the
//                    date digests, before the source states and the run record
//     pk "annotation", sk "<location>#<from date>#<type>#<kind>" (the key, transform/annotation.h):
//                    an annotation: location, from, to (absent for one day), type, omit,
//                    omit_sub (N, 0 or 1), adjusted (N), text (absent when empty), run_id.
//                    All of them are one Query (about 1,700 items: the NYT's whole file); a
//                    location's, a Query with begins_with(sk, "<location>#"). Written at
//                    commit, after the data and before the source states and run record.
//     pk "cadence",  sk the dataset: `days` between its series' dates (Store::dataset_cadence)
// The digests live in TABLE-meta, never in TABLE: the data table's keys stay locations, so
// list_locations(), export and serve never see them.
//
// DynamoDB has no transaction across BatchWriteItem calls, so a load cannot be all or nothing.
// It is ordered instead: the data (and revisions) first, in BatchWriteItem requests of 25;
// then, at commit, the source states that changed and the run's outbox messages; the run
// record last. A run that dies on the way stays `running` in the history, and its source
// states are not saved, so the next run fetches and classifies everything again and writes
// what is still missing or different: loads are idempotent, and that run repairs the data.
// An identical rerun writes no data at all (only its run record).
//
// Date digests (Store::date_digests) follow the same order: a load keeps the digests it is given
// until commit() and writes them after all of its data and before its source states and run
// record, so an interrupted run never leaves a digest that claims rows which are not there. What
// it can leave is rows without a digest, and the next run repairs them:
// - A level's rows loaded by insert_sorted() in a run that works with digests (date_digests()
//   answered the level with some, or none yet) are preceded by the level's `digests` item,
//   written once before the first of them. With it, a date without a digest is
//   one an interrupted run did not finish: the next run takes it as new and writes all its rows
//   again (a PutItem of a row already there replaces it: loads stay idempotent).
// - Without it (rows written before this layout, or by the in-memory path), rows of the level
//   without any digest make date_digests() answer std::nullopt, as the other stores do for a
//   database written before digests: the run compares every row once, then saves the digests.
//   Telling "no rows of the level" from "rows without digests" takes a Scan of the data table's
//   keys that stops at the first row of the level (it reads the whole table only when there is
//   none: a first county load into a table of national and state rows).
// existing_on() reads its keys with BatchGetItem (100 a request, consistent). existing_on_date()
// has no index by date to use: it Scans the whole data table with a filter on the date, which
// reads (and bills) every item, some 2.2 million at county scale; it is only needed for a revised
// date whose source lost rows. insert_sorted() streams its rows into BatchWriteItem requests of
// 25, never holding more than one request's rows.
//
// The run lock: a conditional PutItem of the lock item (it must be absent or its lease over),
// retried until StoreOptions::lock_timeout, then "locked by another run". The lease is 60 s and
// is renewed during a long load; commit checks that the lock is still held (a consistent read)
// before the run record is written, and commit or rollback deletes it (only if still the owner). A
// run that dies holding it blocks others for at most the lease.
//
// The outbox: claim_outbox() reads the pending messages with a Query on pk "outbox" and leases
// each with a conditional UpdateItem (still pending, lease absent or over), so two processes
// never claim the same message. Failures are kLoad Statuses naming the URL; credentials never
// appear in them.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "load/dynamodb/dynamo_client.h"
#include "load/store.h"

namespace covid {

class DynamoDbStore final : public Store {
 public:
  // `url` is one that is_dynamodb_url() accepts.
  static Result<std::unique_ptr<Store>> open(const std::string& url, const StoreOptions& options);
  // With a given client and clock (tests).
  static Result<std::unique_ptr<Store>> open(std::unique_ptr<DynamoClient> client,
                                             const Clock& clock, const StoreOptions& options);
  ~DynamoDbStore() override;
  DynamoDbStore(const DynamoDbStore&) = delete;
  DynamoDbStore& operator=(const DynamoDbStore&) = delete;

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
  // Derived from the data table: a Scan of its `location` keys (the whole table is read; see the
  // README), each location once, typed by the form of its id. DynamoDB keeps no names: the
  // nation is "United States", a county without FIPS ("SS:Name") is named Name, every other
  // location is named by its code.
  Result<std::vector<Location>> list_locations() override;
  bool keeps_location_names() const override { return false; }
  // From the items of pk "digest#<level>" (see the top of this file for std::nullopt).
  Result<std::optional<std::map<Date, StoredDigest>>> date_digests(std::string_view level) override;
  Result<std::optional<int>> dataset_cadence(std::string_view dataset) override;
  Result<std::map<std::string, SourceState>> source_states() override;
  // The items of pk "population", by location (the sort key's byte order).
  Result<std::vector<Population>> populations() override;
  std::string describe() const override;

  static int schema_version();
  static constexpr std::chrono::seconds kLockLease{60};

 private:
  friend class DynamoLoad;

  DynamoDbStore(std::unique_ptr<DynamoClient> client, const Clock& clock, StoreOptions options);
  Status fail(const std::string& what, const Status& cause) const;
  Result<nlohmann::json> call(const std::string& what, std::string_view operation,
                              const nlohmann::json& body, std::string* error_type = nullptr);
  Status ensure_table(const std::string& name, const char* hash_key, const char* range_key);
  Status check_schema();
  Result<int64_t> next_id(const char* counter, int64_t count);
  Status put_run(const RunRecord& run);
  // Outbox items for `messages` (ids reserved now) appended to `puts`.
  Status add_outbox(const std::vector<OutboxMessage>& messages, std::vector<PutRequest>* puts);
  Status write_meta(const std::string& what, const std::vector<PutRequest>& puts);
  // Before the first digest or `digests` item: the layout version raised to 2 (once per store).
  Status raise_layout_for_digests();
  // Whether the data table has a row of `level` (a Scan of its keys, stopped at the first).
  Result<bool> has_rows_of(std::string_view level);

  // The run lock.
  Status acquire_lock();
  Status renew_lock(bool only_if_due);
  Status check_lock();  // before the commit's writes: renewed if due, else read back
  void release_lock();

  std::unique_ptr<DynamoClient> client_;
  const Clock& clock_;
  StoreOptions options_;
  std::map<std::string, SourceState> known_sources_;  // as source_states() last read them
  std::mt19937_64 random_;
  std::string lock_owner_;
  bool missing_tables_ = false;  // read_only and missing_ok, and a table is missing: reads as empty
  bool lock_held_ = false;
  bool layout_has_digests_ = false;  // the layout version is 2 or more
  // The levels date_digests() answered with digests (not std::nullopt), and those whose
  // `digests` item is known to be there.
  std::set<std::string> digest_levels_, marked_levels_;
  std::chrono::system_clock::time_point lock_renewed_at_;
};

}  // namespace covid

// Store: where covid-etl keeps its data, its run records and what it last saw of each source.
//
// Every database (SQLite, PostgreSQL, DynamoDB) implements this interface and
// nothing above it knows which one it talks to. A store is a plain applier: it keeps only what is
// its own (its SQL or API calls, its transaction, its lock); the rules the stores share (how a
// stored status reads back, the lock-timeout message, the refusal of a newer schema, when date
// digests answer "none kept", the closed record of an interrupted run and its notifications) are
// written once in load/store_rules.h, and the SQL stores' migrations in load/migrations.h. What
// a run writes is decided above the stores, by load/plan.h (a LoadPlan), and written through a
// LoadTransaction by apply().
// The contract:
// - Data is keyed by (location, date); a LoadTransaction writes a whole run's ChangeSet, its
//   revisions, the source states and the run's record atomically: after a crash, the store
//   shows the data before or after the run, never a mix. The one exception is DynamoDB, which
//   has no transaction across batches: its load is ordered instead (data first, run record
//   last), so an interrupted run stays `running` and the next run repairs the data (see
//   dynamodb/dynamodb_store.h).
// - begin_load() takes the store's run lock: a second run waits at most the configured lock
//   timeout, then fails with lock_timeout_message() (load/store_rules.h). Loads never interleave.
// - A store whose schema is newer than this build is refused on open, read-only or not
//   (check_schema_version()); an older one is migrated by a writable open.
// - A run is recorded as `running` by begin_run() before anything else, and its record is
//   completed either in the load transaction or, for a run that fails, by finish_run().
// - A run's notifications enter the outbox in the same transaction as its record; delivery
//   happens after the commit, and a message marked delivered is never handed out again.
// - Every failure is a Status of kind kLoad; secrets in connection strings never appear in it.
// A Store is used by one thread at a time.
// The records it keeps (RunRecord, OutboxMessage, DeliveryUpdate, SourceState...) are plain types
// of common/records.h, shared with the layers above and beside it; its outbox is the Outbox that
// notify/ delivers from (common/outbox.h). Both are included here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/outbox.h"
#include "common/records.h"
#include "common/status.h"
#include "load/classify.h"
#include "load/date_digest.h"
#include "transform/location.h"
#include "transform/observation.h"
#include "transform/reference.h"

namespace covid {

// A stream of rows, pulled one at a time, so that a county load's millions of rows are never all
// in memory.
class RowCursor {
 public:
  virtual ~RowCursor() = default;
  // The next row, or nullptr at the end; valid until the next call.
  virtual Result<const Observation*> next() = 0;
};

// The notifications for a run found interrupted (its id, started_at, status and error set).
using InterruptedOutbox = std::function<std::vector<OutboxMessage>(const RunRecord& closed)>;

class LoadTransaction {
 public:
  virtual ~LoadTransaction() = default;  // rolls back unless committed

  // The stored rows of a location, sorted by date.
  virtual Result<std::vector<Observation>> existing(std::string_view location) = 0;
  // The stored rows of several locations (sorted, unique), sorted by (location, date). The
  // default calls existing() per location; SQLite and PostgreSQL read them in one query. A store
  // such as DynamoDbStore may override it with a bulk read when counties make it matter.
  virtual Result<std::vector<Observation>> existing_many(const std::vector<std::string>& locations);
  virtual Status write(int64_t run_id, const ChangeSet& changes) = 0;

  // For a store that keeps date digests (Store::date_digests), a date-ordered level (counties
  // today; any dataset whose file lists dates in order) is planned date by date (load/plan.h):
  // the stored rows among `locations` (sorted, unique) on `date`; and every stored row of a level
  // on `date`.
  virtual Result<std::vector<Observation>> existing_on(Date date,
                                                       const std::vector<std::string>& locations);
  virtual Result<std::vector<Observation>> existing_on_date(std::string_view level, Date date);
  // Inserts rows the store does not have, in (location, date) order: a store can append them
  // faster than it can write them in any order. The default calls write() in chunks.
  virtual Status insert_sorted(int64_t run_id, RowCursor& rows);
  // Sets the digests of a level's dates (see Store::date_digests).
  virtual Status save_date_digests(std::string_view level,
                                   const std::map<Date, StoredDigest>& digests);
  // Adds or renames the locations the run's rows belong to (called before write()). The default
  // does nothing: right for a store without a locations table (DynamoDB); a store whose
  // observations reference a locations table (SQLite, PostgreSQL) must override it.
  virtual Status save_locations(const std::vector<Location>& locations) {
    (void)locations;
    return Status::Ok();
  }
  // Populations (transform/reference.h), read under the run lock: every one the store holds,
  // sorted by location. The default fails: a store that keeps populations overrides both.
  virtual Result<std::vector<Population>> populations() {
    return Status::Load("this store keeps no populations");
  }
  // Adds or replaces populations (by location), each recorded as written by run `run_id`. A
  // population is never removed.
  virtual Status save_populations(int64_t run_id, const std::vector<Population>& populations) {
    (void)run_id;
    (void)populations;
    return Status::Load("this store keeps no populations");
  }
  // Annotations (transform/reference.h), keyed by (location, from, type, kind): kind "adjustment"
  // or "note" (transform/nyt_anomalies.h annotation_kind). Every stored one, sorted by key; and
  // inserts or updates `annotations` (the run `run_id` wrote them). Stored ones not given are
  // left as they are. The defaults fail; SQLite, PostgreSQL and DynamoDB override them.
  virtual Result<std::vector<Annotation>> existing_annotations() {
    return Status::Load("this store keeps no annotations");
  }
  virtual Status save_annotations(int64_t run_id, const std::vector<Annotation>& annotations) {
    (void)run_id;
    (void)annotations;
    return Status::Load("this store keeps no annotations");
  }
  // Deletes every stored row of `level` (its observations, its date digests, and its locations,
  // which save_locations() then adds again for the rows that follow), for a dataset the run
  // replaces (load/plan.h). The level's revisions stay: they are the history of past runs.
  // Returns the number of rows deleted. The default fails; every store overrides it.
  virtual Result<uint64_t> delete_level(std::string_view level) {
    (void)level;
    return Status::Load("this store cannot replace a dataset");
  }
  // Sets the cadence of a dataset's series (Store::dataset_cadence). The default fails.
  virtual Status save_cadence(std::string_view dataset, int days) {
    (void)dataset;
    (void)days;
    return Status::Load("this store cannot keep a dataset's cadence");
  }
  virtual Status save_source(int64_t run_id, const SourceState& state) = 0;
  // Removes the state kept under `url`: one written before states were keyed by the redacted URL,
  // whose key holds a secret. The default fails; every store overrides it.
  virtual Status forget_source(const std::string& url) {
    (void)url;
    return Status::Load("this store cannot remove a source state");
  }
  // Completes the run's record and puts its notifications in the outbox.
  virtual Status finish_run(const RunRecord& run, const std::vector<OutboxMessage>& outbox) = 0;
  virtual Status commit() = 0;
};

class Store : public Outbox {
 public:
  virtual ~Store() = default;

  // Records a run as `running` and returns its id. SQLite and PostgreSQL also mark the run as
  // live for as long as this Store exists (a lock the operating system or the server drops when
  // the process ends, however it ends), and close the record of every other `running` run whose
  // mark is gone, in the same transaction (so a closed run is told of once): the record and the
  // messages are those close_interrupted_runs() (load/store_rules.h) builds: `failed`, with
  // interrupted_run_message(), and `tell(record)`'s messages put in the outbox.
  // DynamoDB cannot tell an interrupted run from a live one: nothing marks a run live there (its
  // run lock is held during the load only, and a lease that ran out says only that the load
  // stopped renewing it), so it leaves `running` records as they are and never calls `tell`
  // (see dynamodb/dynamodb_store.h).
  virtual Result<int64_t> begin_run(const std::string& started_at,
                                    const InterruptedOutbox& tell = {}) = 0;
  // Completes a run's record outside a load (a run that failed or found nothing new) and puts
  // its notifications in the outbox, in one transaction.
  virtual Status finish_run(const RunRecord& run, const std::vector<OutboxMessage>& outbox) = 0;
  virtual Result<std::unique_ptr<LoadTransaction>> begin_load() = 0;

  // The outbox: claim_outbox() and record_delivery() (common/outbox.h), and its listing.
  // Newest first; with all=false only pending and failed messages.
  virtual Result<std::vector<OutboxMessage>> list_outbox(bool all, size_t limit) = 0;

  // Rows of a location within [from, to] (either end open when absent), sorted by date.
  virtual Result<std::vector<Observation>> read_series(std::string_view location,
                                                       std::optional<Date> from,
                                                       std::optional<Date> to) = 0;
  // The annotations of `location` ("": of every location) whose dates [from, to] (to: from for
  // one day) overlap [from, to] (either end open when absent), sorted by key (see
  // LoadTransaction::save_annotations). A store not created yet has none. The default fails.
  virtual Result<std::vector<Annotation>> read_annotations(std::string_view location,
                                                           std::optional<Date> from,
                                                           std::optional<Date> to) {
    (void)location;
    (void)from;
    (void)to;
    return Status::Load("this store keeps no annotations");
  }
  // The digests of a level's dates (load/date_digest.h), which let a run skip the dates whose
  // rows did not change without reading them. std::nullopt: the store does not keep them, or not
  // yet for this level (a database whose rows were written without them); the run then compares
  // every row. An empty map: kept, and the level has no rows yet. A store that keeps them decides
  // between the two with date_digests_answer() (load/store_rules.h). Kept by SQLite,
  // PostgreSQL and DynamoDB; a store without them keeps this default, std::nullopt.
  virtual Result<std::optional<std::map<Date, StoredDigest>>> date_digests(std::string_view level) {
    (void)level;
    return std::optional<std::map<Date, StoredDigest>>();
  }
  // The days between consecutive dates of a dataset's stored series (1: daily, 7: weekly), as
  // the last run that loaded it found them (LoadTransaction::save_cadence); std::nullopt when not
  // kept yet. Kept by SQLite (dataset_cadence table), PostgreSQL (likewise) and DynamoDB (an item
  // in TABLE-meta).
  virtual Result<std::optional<int>> dataset_cadence(std::string_view dataset) {
    (void)dataset;
    return std::optional<int>();
  }
  // The most recent runs first.
  virtual Result<std::vector<RunRecord>> list_runs(size_t limit) = 0;
  // The run with this id, or std::nullopt when there is none: one read by the run's key, however
  // many runs there are and however old this one is.
  virtual Result<std::optional<RunRecord>> get_run(int64_t id) = 0;
  // Every location the store knows, sorted by id (byte order), the nation always among them.
  // SQLite and PostgreSQL read their locations table (id, type, name, state, fips); a store not
  // created yet lists the nation only. DynamoDB keeps no locations table: it derives the list
  // from its data table's keys (see dynamodb/dynamodb_store.h), without names.
  virtual Result<std::vector<Location>> list_locations() = 0;
  // Whether list_locations() gives the names and states save_locations() saved, cheaply (a run
  // compares them with the source's to warn of a rename). DynamoDB keeps none: false.
  virtual bool keeps_location_names() const { return true; }
  // Source URL -> what the last successful run saw of it.
  virtual Result<std::map<std::string, SourceState>> source_states() = 0;
  // Every population the store holds (transform/reference.h), sorted by location; none for a
  // store not created yet. Kept by SQLite and PostgreSQL (table populations, keyed by location,
  // no reference to locations: a population may come before its location's rows) and DynamoDB
  // (items of pk "population" in TABLE-meta). The default, for a store that keeps none: none.
  virtual Result<std::vector<Population>> populations() { return std::vector<Population>(); }
  // A token that changes whenever data or run records have been committed since the previous
  // call, by any process; cheap enough to call on every request (serve uses it to know when to
  // recompute its responses). The default derives it from the newest run records, which every
  // run rewrites in its commit; a store may override it with something cheaper or exact.
  virtual Result<uint64_t> data_version();
  // The schedule of the database (`covid-etl daemon`): one daemon at a time starts the scheduled
  // (and catch-up) runs, however many daemons share the database. Takes it for as long as this
  // Store stays open, unless another process holds it. std::nullopt: this store holds it (now,
  // or since an earlier call); otherwise who holds it, for the log (no secrets). PostgreSQL: a
  // session-level advisory lock, which the server drops when the connection ends, however it
  // ends (then the next claim of any daemon may take it). The default (SQLite, DynamoDB): always
  // held; the run lock alone keeps two loads from interleaving.
  virtual Result<std::optional<std::string>> claim_schedule() {
    return std::optional<std::string>();
  }
  // The store's location for messages, without secrets.
  virtual std::string describe() const = 0;
  // Whether opening it ran schema steps (an older schema migrated, or a new one created): a run
  // then reads its sources even when their bytes are those the last run loaded
  // (pipeline/etl_run.h). SQLite and PostgreSQL say so; the default (DynamoDB, whose layout
  // changes in place) is false.
  virtual bool migrated_on_open() const { return false; }
};

// The error recorded for a run whose process ended before the run did, found by run `noticed_by`.
std::string interrupted_run_message(int64_t noticed_by);

struct StoreOptions {
  bool read_only = false;  // export, history, serve: never create or write
  // With read_only: a database that does not exist yet reads as empty instead of failing (a
  // dry run). A server that cannot be reached still fails.
  bool missing_ok = false;
  std::chrono::milliseconds lock_timeout{30'000};
};

// Opens the store a --db URL names: a plain path or sqlite:PATH; a PostgreSQL URI
// (postgresql://, postgres://) or key=value connection string (see postgres/pg_url.h);
// dynamodb://TABLE?region=REGION[&endpoint=URL] (see dynamodb/dynamo_url.h). A usage error for
// a URL no store understands.
Result<std::unique_ptr<Store>> open_store(const std::string& url, const StoreOptions& options);

// The --db URL as it may be shown (printed at start, logged): a PostgreSQL password replaced by
// ***, as in every message about the store; user:password@ in any other URL likewise.
std::string display_store_url(const std::string& url);

}  // namespace covid

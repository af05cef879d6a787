// The rules every Store follows, written once above the stores (load/store.h). A store keeps only
// what is its own (its SQL or API calls, its transaction, its lock) and asks these functions for
// the rest, so that the stores agree on statuses, wording and decisions:
// - how a status stored as text reads back (an unknown text included);
// - the message of a run that gave up waiting for the run lock;
// - the refusal of a schema newer than this build;
// - when a level's date digests answer "none kept" (std::nullopt) rather than "none yet";
// - the closed record of a run found interrupted, and its notifications.
// Plain functions of their arguments: no I/O of their own (close_interrupted_runs() calls the
// store's callbacks), thread-safe. Every Status they return is of kind kLoad.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "load/date_digest.h"
#include "load/store.h"

namespace covid {

// A status read back from a store. A text no build writes (a hand edit, a newer build's) reads as
// failed for a run, whose record then shows it did not succeed, and as pending for an outbox
// message, which is then delivered rather than lost.
RunStatus stored_run_status(std::string_view text);
OutboxStatus stored_outbox_status(std::string_view text);

// "the database STORE is locked by another run[DETAIL]; gave up after waiting N ms
// (lock_timeout_ms)": the message of a run that waited `waited` (StoreOptions::lock_timeout) for
// the run lock. `store` is Store::describe() (no secrets); `detail`, when not empty, is added
// after "another run" as it is (DynamoDB: " (holder, its lease runs until ...)").
std::string lock_timeout_message(std::string_view store, std::chrono::milliseconds waited,
                                 std::string_view detail = {});

// Ok when a store whose schema is at version `found` can be used by this build, which knows
// versions up to `known`; else "WHERE: NOUN F is newer than this covid-etl knows (K)". `where` is
// how the store's messages name it (a SQLite path, "PostgreSQL " + describe(), ...); `noun` is
// what the store calls its version ("schema version"; DynamoDB: "layout version").
[[nodiscard]] Status check_schema_version(int64_t found, int64_t known, std::string_view where,
                                          std::string_view noun = "schema version");

// What Store::date_digests(level) answers, from the digests the store holds for the level: those
// digests when there are any; when there are none, std::nullopt if the level has rows all the
// same (rows written before digests were kept: until a run writes the digests, every row is
// compared), else the empty map (nothing of the level yet: every date is new).
// `level_has_rows` is asked only when `stored` is empty; its error is returned as it is.
[[nodiscard]] Result<std::optional<std::map<Date, StoredDigest>>> date_digests_answer(
    std::map<Date, StoredDigest> stored, const std::function<Result<bool>()>& level_has_rows);

// A `running` run whose process has ended, as a store found it.
struct InterruptedRun {
  int64_t id = 0;
  std::string started_at;  // RFC 3339 UTC, as the store reads it back
};

// The closed record of `run`, found by run `noticed_by`: failed, with
// interrupted_run_message(noticed_by) as its error.
RunRecord interrupted_run_record(const InterruptedRun& run, int64_t noticed_by);

// Closes interrupted runs (Store::begin_run): for each of `found`, in order, builds its closed
// record (interrupted_run_record) and the messages `tell` gives for it (none without `tell`),
// and hands both to `close`, which writes them in the store's transaction (the record's status
// and error, unless the store's own statement set them already, and the messages into the
// outbox). Stops at the first error `close` returns.
using CloseInterruptedRun =
    std::function<Status(const RunRecord& closed, const std::vector<OutboxMessage>& outbox)>;
[[nodiscard]] Status close_interrupted_runs(const std::vector<InterruptedRun>& found,
                                            int64_t noticed_by, const InterruptedOutbox& tell,
                                            const CloseInterruptedRun& close);

}  // namespace covid

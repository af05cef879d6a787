#include "load/store.h"

#include <iterator>

#include "extract/http_client.h"
#include "load/dynamodb/dynamodb_store.h"
#include "load/postgres/pg_url.h"
#include "load/postgres/postgres_store.h"
#include "load/sqlite/sqlite_store.h"

namespace covid {

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kOk:
      return "ok";
    case RunStatus::kUnchanged:
      return "unchanged";
    case RunStatus::kFailed:
      return "failed";
  }
  return "failed";
}

std::optional<RunStatus> parse_run_status(std::string_view s) {
  for (RunStatus r :
       {RunStatus::kRunning, RunStatus::kOk, RunStatus::kUnchanged, RunStatus::kFailed}) {
    if (s == to_string(r)) return r;
  }
  return std::nullopt;
}

const char* to_string(OutboxStatus s) {
  switch (s) {
    case OutboxStatus::kPending:
      return "pending";
    case OutboxStatus::kDelivered:
      return "delivered";
    case OutboxStatus::kFailed:
      return "failed";
  }
  return "failed";
}

std::optional<OutboxStatus> parse_outbox_status(std::string_view s) {
  for (OutboxStatus o : {OutboxStatus::kPending, OutboxStatus::kDelivered, OutboxStatus::kFailed}) {
    if (s == to_string(o)) return o;
  }
  return std::nullopt;
}

std::string interrupted_run_message(int64_t noticed_by) {
  return "interrupted: the process ended before the run did (killed, out of memory, or the machine "
         "stopped); nothing of it was loaded (found by run " +
         std::to_string(noticed_by) + ")";
}

Result<uint64_t> Store::data_version() {
  auto runs = list_runs(8);
  if (!runs.ok()) return runs.status();
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the newest runs' id, status and end
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  for (const RunRecord& r : *runs) {
    mix(std::to_string(r.id));
    mix(to_string(r.status));
    mix(r.finished_at);
  }
  return h;
}

Result<std::unique_ptr<Store>> open_store(const std::string& url, const StoreOptions& options) {
  std::string_view u = url;
  if (u.empty())
    return Status::Usage("no database given (--db, COVID_ETL_DB or db in the configuration)");
  if (u.starts_with("sqlite://")) {
    u.remove_prefix(9);
  } else if (u.starts_with("sqlite:")) {
    u.remove_prefix(7);
  } else if (is_postgres_url(u)) {
    return PostgresStore::open(url, options);
  } else if (is_dynamodb_url(u)) {
    return DynamoDbStore::open(url, options);
  } else if (u.find("://") != std::string_view::npos) {
    return Status::Usage("unknown database URL scheme in '" +
                         std::string(u.substr(0, u.find(':'))) +
                         "://...'; use a path or sqlite:PATH");
  }
  if (u.empty()) return Status::Usage("empty SQLite path in database URL");
  return SqliteStore::open(std::string(u), options);
}

std::string display_store_url(const std::string& url) {
  if (is_postgres_url(url)) {
    auto target = parse_postgres_url(url);
    return target.ok() ? target->display : "(a PostgreSQL URL that does not parse)";
  }
  return url.find("://") != std::string::npos ? redact_url(url) : url;
}

}  // namespace covid

namespace covid {

Result<std::vector<Observation>> LoadTransaction::existing_many(
    const std::vector<std::string>& locations) {
  std::vector<Observation> all;
  for (const std::string& location : locations) {
    auto rows = existing(location);
    if (!rows.ok()) return rows.status();
    all.insert(all.end(), std::make_move_iterator(rows->begin()),
               std::make_move_iterator(rows->end()));
  }
  return all;
}

Result<std::vector<Observation>> LoadTransaction::existing_on(
    Date date, const std::vector<std::string>& locations) {
  auto all = existing_many(locations);
  if (!all.ok()) return all.status();
  std::vector<Observation> out;
  for (Observation& o : *all) {
    if (o.date == date) out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<Observation>> LoadTransaction::existing_on_date(std::string_view level,
                                                                   Date date) {
  (void)date;
  return Status::Load("this store cannot list the " + std::string(level) + " rows of a date");
}

Status LoadTransaction::insert_sorted(int64_t run_id, RowCursor& rows) {
  constexpr size_t kChunk = 50'000;
  ChangeSet chunk;
  for (;;) {
    auto row = rows.next();
    if (!row.ok()) return row.status();
    if (*row != nullptr) chunk.inserted.push_back(**row);
    if (chunk.inserted.size() == kChunk || (*row == nullptr && !chunk.inserted.empty())) {
      COVID_RETURN_IF_ERROR(write(run_id, chunk));
      chunk.inserted.clear();
    }
    if (*row == nullptr) return Status::Ok();
  }
}

Status LoadTransaction::save_date_digests(std::string_view level,
                                          const std::map<Date, StoredDigest>& digests) {
  (void)level;
  (void)digests;
  return Status::Ok();  // a store without digests has nothing to keep
}

}  // namespace covid

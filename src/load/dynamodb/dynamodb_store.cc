#include "load/dynamodb/dynamodb_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "load/dynamodb/dynamo_item.h"
#include "load/store_rules.h"
#include "transform/annotation.h"

namespace covid {
namespace {

using dynamo::N;
using dynamo::S;
using nlohmann::json;

constexpr int kSchemaVersion = 2;   // the newest layout this build reads and writes
constexpr int kNewTableLayout = 1;  // what a new table starts at
constexpr int kDigestsLayout = 2;   // date digests are kept (see raise_layout_for_digests)
constexpr std::chrono::seconds kLockRenewAfter{20};
constexpr std::chrono::minutes kTableWait{5};
constexpr size_t kMaxSortKey = 1000;  // DynamoDB's limit is 1024 bytes
constexpr const char* kConditionFailed = "ConditionalCheckFailedException";

std::string padded(int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(id));
  return buf;
}

json key(std::string_view pk, std::string_view sk) { return {{"pk", S(pk)}, {"sk", S(sk)}}; }

int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// A source URL as a sort key: itself, or when too long its start and a hash of the whole.
std::string source_key(const std::string& url) {
  if (url.size() <= kMaxSortKey) return url;
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : url) h = (h ^ c) * 1099511628211ull;
  char hex[24];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return url.substr(0, kMaxSortKey - 20) + "#" + hex;
}

std::string random_hex(std::mt19937_64& random) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random()));
  return buf;
}

std::string holder_name() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "unknown-host") + ":" + std::to_string(getpid());
}

json run_item(const RunRecord& r) {
  json item = key("run", padded(r.id));
  dynamo::put_n(item, "id", r.id);
  dynamo::put_s(item, "started_at", r.started_at);
  dynamo::put_s(item, "finished_at", r.finished_at);
  dynamo::put_s(item, "status", to_string(r.status));
  dynamo::put_s(item, "stage", r.stage);
  dynamo::put_n(item, "rows_read", int64_t(r.counts.rows_read));
  dynamo::put_n(item, "inserted", int64_t(r.counts.inserted));
  dynamo::put_n(item, "updated", int64_t(r.counts.updated));
  dynamo::put_n(item, "unchanged", int64_t(r.counts.unchanged));
  dynamo::put_n(item, "missing", int64_t(r.counts.missing));
  dynamo::put_n(item, "warnings", int64_t(r.counts.warnings));
  dynamo::put_n(item, "errors", int64_t(r.counts.errors));
  dynamo::put_s(item, "first_date", r.first_date);
  dynamo::put_s(item, "last_date", r.last_date);
  dynamo::put_s(item, "error", r.error);
  dynamo::put_s(item, "sources", r.sources_json);
  dynamo::put_n(item, "duration_ms", r.duration_ms);
  dynamo::put_s(item, "quality", r.quality_json);
  return item;
}

RunRecord read_run(dynamo::ItemReader& r) {
  RunRecord rec;
  rec.id = r.n("id");
  rec.started_at = r.s("started_at");
  rec.finished_at = r.s("finished_at");
  rec.status = stored_run_status(r.s("status"));
  rec.stage = r.s("stage");
  rec.counts =
      RunCounts{uint64_t(r.n("rows_read")), uint64_t(r.n("inserted")), uint64_t(r.n("updated")),
                uint64_t(r.n("unchanged")), uint64_t(r.n("missing")),  uint64_t(r.n("warnings")),
                uint64_t(r.n("errors"))};
  rec.first_date = r.s("first_date");
  rec.last_date = r.s("last_date");
  rec.error = r.s("error");
  rec.sources_json = r.s("sources");
  rec.duration_ms = r.n("duration_ms");
  rec.quality_json = r.s("quality");  // absent in runs recorded before it was kept
  return rec;
}

json outbox_item(const OutboxMessage& m) {
  json item = key("outbox", padded(m.id));
  dynamo::put_n(item, "id", m.id);
  if (m.run_id != 0) dynamo::put_n(item, "run_id", m.run_id);
  dynamo::put_s(item, "channel", m.channel);
  dynamo::put_s(item, "event", m.event);
  dynamo::put_s(item, "subject", m.subject);
  dynamo::put_s(item, "body", m.body);
  dynamo::put_s(item, "payload", m.payload);
  dynamo::put_s(item, "status", to_string(OutboxStatus::kPending));
  dynamo::put_n(item, "attempts", 0);
  dynamo::put_s(item, "created_at", m.created_at);
  return item;
}

OutboxMessage read_outbox(dynamo::ItemReader& r) {
  OutboxMessage m;
  m.id = r.n("id");
  m.run_id = r.n("run_id");
  m.channel = r.s("channel");
  m.event = r.s("event");
  m.subject = r.s("subject");
  m.body = r.s("body");
  m.payload = r.s("payload");
  m.status = stored_outbox_status(r.s("status"));
  m.attempts = int(r.n("attempts"));
  m.last_error = r.s("last_error");
  m.created_at = r.s("created_at");
  m.delivered_at = r.s("delivered_at");
  return m;
}

json revision_item(int64_t run_id, const Revision& rev) {
  std::string date = format_date(rev.after.date);
  json item = key("revision", padded(run_id) + "#" + rev.after.location + "#" + date);
  dynamo::put_n(item, "run_id", run_id);
  dynamo::put_s(item, "location", rev.after.location);
  dynamo::put_s(item, "date", date);
  dynamo::put_count(item, "old_cases", rev.before.cases);
  dynamo::put_count(item, "old_deaths", rev.before.deaths);
  dynamo::put_count(item, "old_recovered", rev.before.recovered);
  dynamo::put_count(item, "new_cases", rev.after.cases);
  dynamo::put_count(item, "new_deaths", rev.after.deaths);
  dynamo::put_count(item, "new_recovered", rev.after.recovered);
  return item;
}

bool same_source(const SourceState& a, const SourceState& b) {
  return a.url == b.url && a.validators.etag == b.validators.etag &&
         a.validators.last_modified == b.validators.last_modified &&
         a.content_hash == b.content_hash && a.bytes == b.bytes && a.name == b.name &&
         a.dataset == b.dataset && a.header == b.header && a.changed_at == b.changed_at &&
         a.stale_told_at == b.stale_told_at;
}

// Query of one meta partition, with optional filter.
json meta_query(const std::string& table, std::string_view pk, bool forward) {
  return {{"TableName", table},
          {"KeyConditionExpression", "#pk = :pk"},
          {"ExpressionAttributeNames", {{"#pk", "pk"}}},
          {"ExpressionAttributeValues", {{":pk", S(pk)}}},
          {"ScanIndexForward", forward},
          {"ConsistentRead", true}};
}

// The date digests of a level: pk "digest#<level>", sk the date; and the `digests` item that
// says a level's rows are loaded with them (dynamodb_store.h).
std::string digest_pk(std::string_view level) { return "digest#" + std::string(level); }
constexpr const char* kDigestsKept = "digests";
// The populations: pk "population", sk the location id (dynamodb_store.h).
constexpr const char* kPopulationPk = "population";

json digest_item(std::string_view level, Date date, const StoredDigest& d) {
  json item = key(digest_pk(level), format_date(date));
  dynamo::put_n(item, "rows", int64_t(d.source.rows));
  dynamo::put_s(item, "hash", d.source.hash_hex());
  dynamo::put_n(item, "stored_rows", int64_t(d.stored_rows));
  if (d.bytes) dynamo::put_s(item, "bytes_hash", d.bytes->hex());
  return item;
}

// False when the item is not a digest.
bool read_digest(const json& item, Date* date, StoredDigest* d) {
  dynamo::ItemReader r(item);
  int64_t rows = r.n("rows", -1), stored = r.n("stored_rows", -1);
  std::string sk = r.s("sk"), hash = r.s("hash"), bytes = r.s("bytes_hash");
  if (!r.ok() || rows < 0 || stored < 0 || parse_date(sk, date) != DateError::kNone ||
      !d->source.set_hash_hex(hash)) {
    return false;
  }
  d->source.rows = uint64_t(rows);
  d->stored_rows = uint64_t(stored);
  if (!bytes.empty() && !d->bytes.emplace().set_hex(bytes)) return false;
  return true;
}

// Annotations: pk "annotation", sk their key (dynamodb_store.h).
constexpr const char* kAnnotationPk = "annotation";

std::string annotation_sk(const Annotation& a) {
  return a.location + "#" + format_date(a.from) + "#" + a.type + "#" + annotation_kind(a);
}

json annotation_item(const Annotation& a, int64_t run_id) {
  json item = key(kAnnotationPk, annotation_sk(a));
  dynamo::put_s(item, "location", a.location);
  dynamo::put_s(item, "from", format_date(a.from));
  if (a.to) dynamo::put_s(item, "to", format_date(*a.to));
  dynamo::put_s(item, "type", a.type);
  dynamo::put_n(item, "omit", a.omit_from_average ? 1 : 0);
  dynamo::put_n(item, "omit_sub", a.omit_on_subgeographies ? 1 : 0);
  dynamo::put_n(item, "adjusted", a.adjusted_count);
  dynamo::put_s(item, "text", a.text);
  dynamo::put_n(item, "run_id", run_id);
  return item;
}

// False when the item is not an annotation.
bool read_annotation(const json& item, Annotation* a) {
  dynamo::ItemReader r(item);
  a->location = r.s("location");
  std::string from = r.s("from"), to = r.s("to");
  a->type = r.s("type");
  a->omit_from_average = r.n("omit") != 0;
  a->omit_on_subgeographies = r.n("omit_sub") != 0;
  a->adjusted_count = r.n("adjusted");
  a->text = r.s("text");
  if (!r.ok() || a->location.empty() || parse_date(from, &a->from) != DateError::kNone)
    return false;
  if (!to.empty()) {
    Date d;
    if (parse_date(to, &d) != DateError::kNone) return false;
    a->to = d;
  }
  return true;
}

const SystemClock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace

int DynamoDbStore::schema_version() { return kSchemaVersion; }

DynamoDbStore::DynamoDbStore(std::unique_ptr<DynamoClient> client, const Clock& clock,
                             StoreOptions options)
    : client_(std::move(client)),
      clock_(clock),
      options_(options),
      random_(std::random_device{}()) {}

DynamoDbStore::~DynamoDbStore() {
  if (lock_held_) release_lock();
}

std::string DynamoDbStore::describe() const { return client_->target().display; }

Status DynamoDbStore::fail(const std::string& what, const Status& cause) const {
  return Status::Load("DynamoDB " + describe() + ": " + what + ": " +
                      client_->scrub(cause.message()));
}

Result<json> DynamoDbStore::call(const std::string& what, std::string_view operation,
                                 const json& body, std::string* error_type) {
  auto r = client_->call(operation, body, error_type);
  if (!r.ok()) return fail(what, r.status());
  return r;
}

Result<std::unique_ptr<Store>> DynamoDbStore::open(const std::string& url,
                                                   const StoreOptions& options) {
  const char* region = std::getenv("AWS_REGION");
  if (region == nullptr || *region == '\0') region = std::getenv("AWS_DEFAULT_REGION");
  auto target = parse_dynamodb_url(url, region != nullptr ? region : "");
  if (!target.ok()) return target.status();
  auto credentials = aws_credentials_from_env([](const char* name) { return std::getenv(name); });
  if (!credentials.ok())
    return Status::Load(target->display + ": " + credentials.status().message());
  auto client =
      std::make_unique<DynamoClient>(std::move(*target), std::move(*credentials), system_clock());
  return open(std::move(client), system_clock(), options);
}

Result<std::unique_ptr<Store>> DynamoDbStore::open(std::unique_ptr<DynamoClient> client,
                                                   const Clock& clock,
                                                   const StoreOptions& options) {
  std::unique_ptr<DynamoDbStore> store(new DynamoDbStore(std::move(client), clock, options));
  const DynamoTarget& t = store->client_->target();
  COVID_RETURN_IF_ERROR(store->ensure_table(t.table, "location", "date"));
  COVID_RETURN_IF_ERROR(store->ensure_table(t.meta_table, "pk", "sk"));
  if (!store->missing_tables_) COVID_RETURN_IF_ERROR(store->check_schema());
  return std::unique_ptr<Store>(std::move(store));
}

Status DynamoDbStore::ensure_table(const std::string& name, const char* hash_key,
                                   const char* range_key) {
  const std::string what = "table " + name;
  std::string type;
  auto described = client_->call("DescribeTable", {{"TableName", name}}, &type);
  if (!described.ok()) {
    if (type != "ResourceNotFoundException") return fail("describing " + what, described.status());
    if (options_.read_only) {
      if (options_.missing_ok) {  // reads as empty; nothing is created
        missing_tables_ = true;
        return Status::Ok();
      }
      return Status::Load("no covid-etl data in DynamoDB " + describe() + ": there is no table '" +
                          name + "' (run `covid-etl run` first)");
    }
    json create = {
        {"TableName", name},
        {"AttributeDefinitions",
         json::array({json{{"AttributeName", hash_key}, {"AttributeType", "S"}},
                      json{{"AttributeName", range_key}, {"AttributeType", "S"}}})},
        {"KeySchema", json::array({json{{"AttributeName", hash_key}, {"KeyType", "HASH"}},
                                   json{{"AttributeName", range_key}, {"KeyType", "RANGE"}}})},
        {"BillingMode", "PAY_PER_REQUEST"}};
    auto created = client_->call("CreateTable", create, &type);
    // ResourceInUseException: another process created it meanwhile.
    if (!created.ok() && type != "ResourceInUseException")
      return fail("creating " + what, created.status());
    described = Status::Load("not described yet");
  }
  auto deadline = clock_.now() + kTableWait;
  std::chrono::milliseconds wait{50};
  for (;;) {
    if (described.ok()) {
      const json& table = (*described)["Table"];
      std::string status = dynamo::string_field(table, "TableStatus");
      // The key must be ours: another application's table of the same name is never written.
      std::string hash, range;
      size_t parts = 0;
      if (table.is_object() && table.contains("KeySchema") && table["KeySchema"].is_array()) {
        for (const json& k : table["KeySchema"]) {
          ++parts;
          if (!k.is_object()) continue;
          std::string kind = dynamo::string_field(k, "KeyType"),
                      attr = dynamo::string_field(k, "AttributeName");
          (kind == "HASH" ? hash : range) = attr;
        }
      }
      if (parts != 2 || hash != hash_key || range != range_key) {
        return Status::Load("DynamoDB " + describe() + ": " + what +
                            " exists but is not covid-etl's: its key is (" + hash +
                            (range.empty() ? "" : ", " + range) + "), expected (" + hash_key +
                            ", " + range_key + ")");
      }
      if (status == "ACTIVE" || status == "UPDATING") return Status::Ok();
      if (status != "CREATING") {
        return Status::Load("DynamoDB " + describe() + ": " + what + " is " +
                            (status.empty() ? "in no state" : status));
      }
    }
    if (clock_.now() >= deadline) {
      return Status::Load("DynamoDB " + describe() + ": " + what +
                          " did not become ACTIVE within " + std::to_string(kTableWait.count()) +
                          " minutes");
    }
    clock_.sleep_for(wait);
    wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::milliseconds(2000));
    described = client_->call("DescribeTable", {{"TableName", name}}, &type);
    if (!described.ok()) return fail("describing " + what, described.status());
  }
}

Status DynamoDbStore::check_schema() {
  const std::string& meta = client_->target().meta_table;
  auto got =
      call("reading the layout version", "GetItem",
           {{"TableName", meta}, {"Key", key("schema", "version")}, {"ConsistentRead", true}});
  if (!got.ok()) return got.status();
  auto item = got->find("Item");
  if (item != got->end() && item->is_object()) {
    dynamo::ItemReader r(*item);
    int64_t version = r.n("version");
    if (!r.ok())
      return Status::Load("DynamoDB " + describe() + ": the layout version item: " + r.error());
    return check_schema_version(version, kSchemaVersion, "DynamoDB " + describe(),
                                "layout version");
  }
  if (options_.read_only) return Status::Ok();  // tables without a run yet
  json put = key("schema", "version");
  dynamo::put_n(put, "version", kNewTableLayout);
  std::string type;
  auto r = client_->call("PutItem",
                         {{"TableName", meta},
                          {"Item", put},
                          {"ConditionExpression", "attribute_not_exists(#pk)"},
                          {"ExpressionAttributeNames", {{"#pk", "pk"}}}},
                         &type);
  if (!r.ok() && type != kConditionFailed) return fail("writing the layout version", r.status());
  return Status::Ok();
}

Result<int64_t> DynamoDbStore::next_id(const char* counter, int64_t count) {
  auto r = call(std::string("numbering (") + counter + ")", "UpdateItem",
                {{"TableName", client_->target().meta_table},
                 {"Key", key("counter", counter)},
                 {"UpdateExpression", "ADD #v :n"},
                 {"ExpressionAttributeNames", {{"#v", "value"}}},
                 {"ExpressionAttributeValues", {{":n", N(count)}}},
                 {"ReturnValues", "UPDATED_NEW"}});
  if (!r.ok()) return r.status();
  auto attrs = r->find("Attributes");
  if (attrs == r->end() || !attrs->is_object()) {
    return Status::Load("DynamoDB " + describe() + ": numbering: no value returned");
  }
  dynamo::ItemReader reader(*attrs);
  int64_t last = reader.n("value", -1);
  if (!reader.ok() || last < count) {
    return Status::Load("DynamoDB " + describe() + ": numbering: bad counter value");
  }
  return last;
}

// Nothing marks a run live here, so no record is closed and the InterruptedOutbox is never
// called (load/store.h, Store::begin_run).
Result<int64_t> DynamoDbStore::begin_run(const std::string& started_at, const InterruptedOutbox&) {
  auto id = next_id("run", 1);
  if (!id.ok()) return id.status();
  RunRecord r;
  r.id = *id;
  r.started_at = started_at;
  r.status = RunStatus::kRunning;
  auto put = call("recording the run", "PutItem",
                  {{"TableName", client_->target().meta_table}, {"Item", run_item(r)}});
  if (!put.ok()) return put.status();
  return *id;
}

Status DynamoDbStore::put_run(const RunRecord& run) {
  auto put = call("recording the run", "PutItem",
                  {{"TableName", client_->target().meta_table}, {"Item", run_item(run)}});
  return put.ok() ? Status::Ok() : put.status();
}

Status DynamoDbStore::add_outbox(const std::vector<OutboxMessage>& messages,
                                 std::vector<PutRequest>* puts) {
  if (messages.empty()) return Status::Ok();
  auto last = next_id("outbox", int64_t(messages.size()));
  if (!last.ok()) return last.status();
  int64_t id = *last - int64_t(messages.size()) + 1;
  for (const OutboxMessage& m : messages) {
    OutboxMessage numbered = m;
    numbered.id = id++;
    puts->push_back({client_->target().meta_table, outbox_item(numbered)});
  }
  return Status::Ok();
}

Status DynamoDbStore::write_meta(const std::string& what, const std::vector<PutRequest>& puts) {
  Status s = client_->batch_write(puts);
  return s.ok() ? s : fail(what, s);
}

Status DynamoDbStore::raise_layout_for_digests() {
  if (layout_has_digests_) return Status::Ok();
  std::string type;
  auto r = client_->call("UpdateItem",
                         {{"TableName", client_->target().meta_table},
                          {"Key", key("schema", "version")},
                          {"UpdateExpression", "SET #v = :v"},
                          {"ConditionExpression", "attribute_not_exists(#v) OR #v < :v"},
                          {"ExpressionAttributeNames", {{"#v", "version"}}},
                          {"ExpressionAttributeValues", {{":v", N(kDigestsLayout)}}}},
                         &type);
  // ConditionalCheckFailedException: it is 2 already.
  if (!r.ok() && type != kConditionFailed) return fail("raising the layout version", r.status());
  layout_has_digests_ = true;
  return Status::Ok();
}

Result<bool> DynamoDbStore::has_rows_of(std::string_view level) {
  json q = {{"TableName", client_->target().table},
            {"ProjectionExpression", "#l"},
            {"ExpressionAttributeNames", {{"#l", "location"}}},
            {"ConsistentRead", true}};
  bool found = false;
  Status s = client_->query_all("Scan", q, [&](const json& item) {
    found = location_level(dynamo::string_field(item.value("location", json()), "S")) == level;
    return !found;
  });
  if (!s.ok()) return fail("looking for " + std::string(level) + " rows", s);
  return found;
}

Result<std::optional<std::map<Date, StoredDigest>>> DynamoDbStore::date_digests(
    std::string_view level) {
  using Digests = std::map<Date, StoredDigest>;
  Digests out;
  if (missing_tables_) return std::optional(std::move(out));
  const std::string& meta = client_->target().meta_table;
  std::string bad;
  Status s = client_->query_all("Query", meta_query(meta, digest_pk(level), /*forward=*/true),
                                [&](const json& item) {
                                  Date date;
                                  StoredDigest d;
                                  if (!read_digest(item, &date, &d)) {
                                    bad = dynamo::string_field(item.value("sk", json()), "S");
                                    return false;
                                  }
                                  out.emplace(date, d);
                                  return true;
                                });
  if (!s.ok()) return fail("reading the date digests", s);
  if (!bad.empty())
    return Status::Load("DynamoDB " + describe() + ": a bad date digest (" + digest_pk(level) +
                        ", " + bad.substr(0, 40) + ")");
  if (out.empty()) {
    // Rows of the level without digests: written before digests were kept (nullopt: every row
    // is compared once, then digested), or by a run with digests that was interrupted (the
    // level's `digests` item says so: its dates are new again).
    auto kept =
        call("reading the date digests", "GetItem",
             {{"TableName", meta}, {"Key", key(kDigestsKept, level)}, {"ConsistentRead", true}});
    if (!kept.ok()) return kept.status();
    auto item = kept->find("Item");
    if (item == kept->end() || !item->is_object()) {
      auto rows = has_rows_of(level);
      if (!rows.ok()) return rows.status();
      if (*rows) return std::optional<Digests>();
    } else {
      marked_levels_.insert(std::string(level));
    }
  }
  digest_levels_.insert(std::string(level));
  return std::optional(std::move(out));
}

Status DynamoDbStore::finish_run(const RunRecord& run, const std::vector<OutboxMessage>& outbox) {
  std::vector<PutRequest> puts;
  COVID_RETURN_IF_ERROR(add_outbox(outbox, &puts));
  COVID_RETURN_IF_ERROR(write_meta("writing the outbox", puts));
  return put_run(run);  // last
}

// --- the run lock ------------------------------------------------------------------------------

Status DynamoDbStore::acquire_lock() {
  lock_owner_ = random_hex(random_);
  const std::string holder = holder_name();
  const auto started = clock_.now();
  const auto deadline = started + options_.lock_timeout;
  for (;;) {
    auto now = clock_.now();
    json item = key("lock", "run");
    dynamo::put_s(item, "owner", lock_owner_);
    dynamo::put_s(item, "holder", holder);
    dynamo::put_s(item, "acquired_at", format_timestamp(now));
    dynamo::put_n(item, "lease_until", epoch_ms(now + kLockLease));
    std::string type;
    auto put = client_->call("PutItem",
                             {{"TableName", client_->target().meta_table},
                              {"Item", item},
                              {"ConditionExpression", "attribute_not_exists(#pk) OR #lu < :now"},
                              {"ExpressionAttributeNames", {{"#pk", "pk"}, {"#lu", "lease_until"}}},
                              {"ExpressionAttributeValues", {{":now", N(epoch_ms(now))}}}},
                             &type);
    if (put.ok()) {
      lock_held_ = true;
      lock_renewed_at_ = now;
      return Status::Ok();
    }
    if (type != kConditionFailed) return fail("taking the run lock", put.status());
    if (now >= deadline) break;
    auto pause = std::chrono::milliseconds(100 + int64_t(random_() % 150));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                std::chrono::milliseconds(1);
    clock_.sleep_for(std::min(pause, left));
  }
  std::string who;
  auto got = client_->call("GetItem", {{"TableName", client_->target().meta_table},
                                       {"Key", key("lock", "run")},
                                       {"ConsistentRead", true}});
  if (got.ok() && got->contains("Item") && (*got)["Item"].is_object()) {
    dynamo::ItemReader r((*got)["Item"]);
    std::string holder_seen = r.s("holder");
    int64_t until = r.n("lease_until");
    if (r.ok() && !holder_seen.empty()) {
      who = " (" + holder_seen + ", its lease runs until " +
            format_timestamp(
                std::chrono::system_clock::time_point(std::chrono::milliseconds(until))) +
            ")";
    }
  }
  return Status::Load(lock_timeout_message(describe(), options_.lock_timeout, who));
}

Status DynamoDbStore::renew_lock(bool only_if_due) {
  auto now = clock_.now();
  if (!lock_held_) return Status::Load("DynamoDB " + describe() + ": the run lock is not held");
  if (only_if_due && now - lock_renewed_at_ < kLockRenewAfter) return Status::Ok();
  std::string type;
  auto r = client_->call("UpdateItem",
                         {{"TableName", client_->target().meta_table},
                          {"Key", key("lock", "run")},
                          {"UpdateExpression", "SET #lu = :lu"},
                          {"ConditionExpression", "#o = :me"},
                          {"ExpressionAttributeNames", {{"#lu", "lease_until"}, {"#o", "owner"}}},
                          {"ExpressionAttributeValues",
                           {{":lu", N(epoch_ms(now + kLockLease))}, {":me", S(lock_owner_)}}}},
                         &type);
  if (r.ok()) {
    lock_renewed_at_ = now;
    return Status::Ok();
  }
  if (type == kConditionFailed) {
    lock_held_ = false;
    return Status::Load(
        "DynamoDB " + describe() +
        ": lost the run lock (its lease ran out and another run took it); what this run "
        "wrote stays and the next run completes it");
  }
  return fail("renewing the run lock", r.status());
}

Status DynamoDbStore::check_lock() {
  if (!lock_held_) return Status::Load("DynamoDB " + describe() + ": the run lock is not held");
  auto now = clock_.now();
  // A lease renewed long ago is renewed (the update checks the owner); a fresh one is only read,
  // so that a run that changes nothing writes nothing but its record.
  if (now - lock_renewed_at_ >= kLockRenewAfter) return renew_lock(/*only_if_due=*/false);
  auto got = call("checking the run lock", "GetItem",
                  {{"TableName", client_->target().meta_table},
                   {"Key", key("lock", "run")},
                   {"ConsistentRead", true}});
  if (!got.ok()) return got.status();
  auto item = got->find("Item");
  if (item != got->end() && item->is_object()) {
    dynamo::ItemReader r(*item);
    if (r.s("owner") == lock_owner_ && r.n("lease_until") > epoch_ms(now) && r.ok())
      return Status::Ok();
  }
  lock_held_ = false;
  return Status::Load(
      "DynamoDB " + describe() +
      ": lost the run lock (its lease ran out and another run took it); what this run "
      "wrote stays and the next run completes it");
}

void DynamoDbStore::release_lock() {
  lock_held_ = false;
  // Only if still ours; a failure here leaves the lock to expire with its lease.
  (void)client_->call("DeleteItem", {{"TableName", client_->target().meta_table},
                                     {"Key", key("lock", "run")},
                                     {"ConditionExpression", "#o = :me"},
                                     {"ExpressionAttributeNames", {{"#o", "owner"}}},
                                     {"ExpressionAttributeValues", {{":me", S(lock_owner_)}}}});
}

// --- the load ----------------------------------------------------------------------------------

// Holds the run lock from begin() to commit() or destruction. Data goes out in write(); the
// source states, the outbox and the run record wait for commit(), the run record last.
class DynamoLoad final : public LoadTransaction {
 public:
  explicit DynamoLoad(DynamoDbStore& store) : store_(store) {}
  ~DynamoLoad() override {
    if (store_.lock_held_) store_.release_lock();
  }

  Status begin() { return store_.acquire_lock(); }

  Result<std::vector<Observation>> existing(std::string_view location) override {
    return store_.read_series(location, std::nullopt, std::nullopt);
  }

  Status write(int64_t run_id, const ChangeSet& changes) override {
    const DynamoTarget& t = store_.client_->target();
    std::vector<PutRequest> data, revisions;
    data.reserve(changes.inserted.size() + changes.updated.size());
    for (const Observation& o : changes.inserted)
      data.push_back({t.table, dynamo::observation_item(o, run_id)});
    for (const Revision& r : changes.updated) {
      data.push_back({t.table, dynamo::observation_item(r.after, run_id)});
      revisions.push_back({t.meta_table, revision_item(run_id, r)});
    }
    Status lock;
    auto keep_lock = [&] { return lock = store_.renew_lock(/*only_if_due=*/true); };
    Status s = store_.client_->batch_write(data, keep_lock);
    if (!s.ok()) return lock.ok() ? store_.fail("writing observations", s) : lock;
    s = store_.client_->batch_write(revisions, keep_lock);
    if (!s.ok()) return lock.ok() ? store_.fail("recording revisions", s) : lock;
    return Status::Ok();
  }

  // The stored rows among `locations` on `date`: BatchGetItem, 100 keys a request.
  Result<std::vector<Observation>> existing_on(Date date,
                                               const std::vector<std::string>& locations) override {
    std::vector<Observation> out;
    const std::string d = format_date(date);
    std::vector<json> keys;
    keys.reserve(locations.size());
    for (const std::string& l : locations) keys.push_back({{"location", S(l)}, {"date", S(d)}});
    Status bad, lock;
    Status s = store_.client_->batch_get(
        store_.client_->target().table, keys,
        [&](const json& item) {
          if (!bad.ok()) return;
          auto o = dynamo::observation_from_item(item);
          if (o.ok()) {
            out.push_back(std::move(*o));
          } else {
            bad = o.status();
          }
        },
        [&] { return lock = store_.renew_lock(/*only_if_due=*/true); });
    if (!s.ok()) return lock.ok() ? store_.fail("reading observations", s) : lock;
    if (!bad.ok()) return Status::Load("DynamoDB " + store_.describe() + ": " + bad.message());
    std::sort(out.begin(), out.end(), by_location_date);
    return out;
  }

  // Every stored row of a level on `date`: a Scan of the whole data table filtered on the date
  // (no index leads by date; see dynamodb_store.h for its cost).
  Result<std::vector<Observation>> existing_on_date(std::string_view level, Date date) override {
    std::vector<Observation> out;
    json q = {{"TableName", store_.client_->target().table},
              {"FilterExpression", "#d = :d"},
              {"ExpressionAttributeNames", {{"#d", "date"}}},
              {"ExpressionAttributeValues", {{":d", S(format_date(date))}}},
              {"ConsistentRead", true}};
    Status bad;
    Status s = store_.client_->query_all("Scan", q, [&](const json& item) {
      auto o = dynamo::observation_from_item(item);
      if (!o.ok()) {
        bad = Status::Load("DynamoDB " + store_.describe() + ": " + o.status().message());
        return false;
      }
      if (location_level(o->location) == level) out.push_back(std::move(*o));
      bad = store_.renew_lock(/*only_if_due=*/true);  // a long Scan keeps the lock
      return bad.ok();
    });
    if (!s.ok()) return store_.fail("reading the rows of a date", s);
    if (!bad.ok()) return bad;
    std::sort(out.begin(), out.end(), by_location_date);
    return out;
  }

  // Rows the store does not have, streamed into BatchWriteItem requests of 25. Before the first
  // row of a level whose digests the store keeps, that level's `digests` item (dynamodb_store.h).
  Status insert_sorted(int64_t run_id, RowCursor& rows) override {
    const std::string& table = store_.client_->target().table;
    std::vector<PutRequest> batch;
    batch.reserve(DynamoClient::kBatchSize);
    Status lock;
    auto keep_lock = [&] { return lock = store_.renew_lock(/*only_if_due=*/true); };
    for (;;) {
      auto row = rows.next();
      if (!row.ok()) return row.status();
      const Observation* o = *row;
      if (o != nullptr) {
        COVID_RETURN_IF_ERROR(mark_digests_kept(location_level(o->location), run_id));
        batch.push_back({table, dynamo::observation_item(*o, run_id)});
      }
      if (batch.size() == DynamoClient::kBatchSize || (o == nullptr && !batch.empty())) {
        Status s = store_.client_->batch_write(batch, keep_lock);
        if (!s.ok()) return lock.ok() ? store_.fail("inserting observations", s) : lock;
        batch.clear();
      }
      if (o == nullptr) return Status::Ok();
    }
  }

  Result<std::vector<Annotation>> existing_annotations() override {
    return store_.read_annotations("", std::nullopt, std::nullopt);
  }

  // Kept until commit(), which writes them after the data.
  Status save_annotations(int64_t run_id, const std::vector<Annotation>& annotations) override {
    for (const Annotation& a : annotations) annotations_.push_back(annotation_item(a, run_id));
    return Status::Ok();
  }

  // The level's rows: a Scan of the data table's keys, then BatchWriteItem deletes of 25. Not
  // atomic (nothing is here): a run that dies after it has not saved the new cadence, so the next
  // run is refused again until it is given --replace-dataset again, which finishes the job.
  Result<uint64_t> delete_level(std::string_view level) override {
    const std::string& table = store_.client_->target().table;
    json q = {{"TableName", table},
              {"ProjectionExpression", "#l, #d"},
              {"ExpressionAttributeNames", {{"#l", "location"}, {"#d", "date"}}},
              {"ConsistentRead", true}};
    std::vector<PutRequest> deletes;
    Status s = store_.client_->query_all("Scan", q, [&](const json& item) {
      dynamo::ItemReader r(item);
      std::string id = r.s("location");
      if (r.ok() && location_level(id) == level)
        deletes.push_back({table, {{"location", S(id)}, {"date", S(r.s("date"))}}, true});
      return true;
    });
    if (!s.ok()) return store_.fail("reading the " + std::string(level) + " rows", s);
    Status lock;
    auto keep_lock = [&] { return lock = store_.renew_lock(/*only_if_due=*/true); };
    s = store_.client_->batch_write(deletes, keep_lock);
    if (!s.ok())
      return lock.ok() ? store_.fail("deleting the " + std::string(level) + " rows", s) : lock;
    return uint64_t(deletes.size());
  }

  // Kept until commit(), with the run's record.
  Status save_cadence(std::string_view dataset, int days) override {
    cadences_[std::string(dataset)] = days;
    return Status::Ok();
  }

  // Kept until commit(), which writes them after the data they describe.
  Status save_date_digests(std::string_view level,
                           const std::map<Date, StoredDigest>& digests) override {
    std::map<Date, StoredDigest>& kept = digests_[std::string(level)];
    for (const auto& [date, d] : digests) kept[date] = d;
    return Status::Ok();
  }

  Result<std::vector<Population>> populations() override { return store_.populations(); }

  Status save_populations(int64_t run_id, const std::vector<Population>& populations) override {
    for (const Population& p : populations) populations_.emplace_back(run_id, p);
    return Status::Ok();
  }

  Status save_source(int64_t run_id, const SourceState& state) override {
    sources_.emplace_back(run_id, state);
    return Status::Ok();
  }

  Status forget_source(const std::string& url) override {
    forgotten_.push_back(url);
    return Status::Ok();
  }

  Status finish_run(const RunRecord& run, const std::vector<OutboxMessage>& outbox) override {
    run_ = run;
    outbox_ = outbox;
    finished_ = true;
    return Status::Ok();
  }

  Status commit() override {
    COVID_RETURN_IF_ERROR(store_.check_lock());  // still ours, for long enough
    const std::string& meta = store_.client_->target().meta_table;
    // The date digests first: every row they describe is written by now.
    std::vector<PutRequest> puts;
    for (const auto& [level, digests] : digests_) {
      for (const auto& [date, d] : digests) puts.push_back({meta, digest_item(level, date, d)});
    }
    if (!puts.empty()) {
      COVID_RETURN_IF_ERROR(store_.raise_layout_for_digests());
      COVID_RETURN_IF_ERROR(store_.write_meta("saving the date digests", puts));
      puts.clear();
    }
    for (const auto& [run_id, p] : populations_) {
      json item = key(kPopulationPk, p.location);
      dynamo::put_n(item, "population", p.population);
      dynamo::put_s(item, "source", p.source);
      if (p.year != 0) dynamo::put_n(item, "year", p.year);
      dynamo::put_n(item, "run_id", run_id);
      puts.push_back({meta, std::move(item)});
    }
    if (!puts.empty()) {
      COVID_RETURN_IF_ERROR(store_.write_meta("saving the populations", puts));
      puts.clear();
    }
    if (!annotations_.empty()) {
      for (json& item : annotations_) puts.push_back({meta, std::move(item)});
      COVID_RETURN_IF_ERROR(store_.write_meta("saving the annotations", puts));
      puts.clear();
      annotations_.clear();
    }
    for (const auto& [dataset, days] : cadences_) {
      json item = key("cadence", dataset);
      dynamo::put_n(item, "days", int64_t(days));
      puts.push_back({meta, std::move(item)});
    }
    // A source's items are rewritten (all its URLs this run read, with this run's id) when one
    // of them changed, or is not of the newest run among its name's (the URLs it is loaded from
    // now are those of its newest run: pipeline/freshness.h); an unchanged source writes nothing.
    std::set<std::string> rewrite;
    for (const auto& [run_id, st] : sources_) {
      auto known = store_.known_sources_.find(st.url);
      int64_t newest = 0;
      for (const auto& [url, k] : store_.known_sources_)
        if (k.name == st.name) newest = std::max(newest, k.run_id);
      if (known == store_.known_sources_.end() || !same_source(known->second, st) ||
          known->second.run_id < newest)
        rewrite.insert(st.name);
    }
    for (const auto& [run_id, st] : sources_) {
      if (!rewrite.contains(st.name)) continue;
      json item = key("source", source_key(st.url));
      dynamo::put_s(item, "url", st.url);
      dynamo::put_s(item, "etag", st.validators.etag);
      dynamo::put_s(item, "last_modified", st.validators.last_modified);
      dynamo::put_s(item, "content_hash", st.content_hash);
      dynamo::put_n(item, "bytes", int64_t(st.bytes));
      dynamo::put_n(item, "run_id", run_id);
      dynamo::put_s(item, "name", st.name);
      dynamo::put_s(item, "dataset", st.dataset);
      dynamo::put_s(item, "header", st.header);
      dynamo::put_s(item, "changed_at", st.changed_at);
      dynamo::put_s(item, "stale_told_at", st.stale_told_at);
      puts.push_back({meta, std::move(item)});
    }
    for (const std::string& url : forgotten_) {
      auto r = store_.client_->call("DeleteItem",
                                    {{"TableName", meta}, {"Key", key("source", source_key(url))}});
      if (!r.ok()) return store_.fail("removing an old source state", r.status());
      store_.known_sources_.erase(url);
    }
    if (finished_) COVID_RETURN_IF_ERROR(store_.add_outbox(outbox_, &puts));
    COVID_RETURN_IF_ERROR(store_.write_meta("saving the source states and the outbox", puts));
    if (finished_) COVID_RETURN_IF_ERROR(store_.put_run(run_));  // last: the run is complete
    for (const auto& [run_id, st] : sources_) {
      if (!rewrite.contains(st.name)) continue;
      store_.known_sources_[st.url] = st;
      store_.known_sources_[st.url].run_id = run_id;
    }
    store_.release_lock();
    return Status::Ok();
  }

 private:
  // The level's `digests` item, once, if the store answered date_digests() for the level with
  // digests (rows the in-memory path writes leave it out: see dynamodb_store.h).
  Status mark_digests_kept(std::string_view level, int64_t run_id) {
    if (level == last_marked_) return Status::Ok();
    std::string l(level);
    if (store_.digest_levels_.count(l) > 0 && store_.marked_levels_.count(l) == 0) {
      COVID_RETURN_IF_ERROR(store_.raise_layout_for_digests());
      json item = key(kDigestsKept, l);
      dynamo::put_n(item, "run_id", run_id);  // the run that wrote it (for the curious)
      auto put = store_.call("marking the " + l + " rows as kept with digests", "PutItem",
                             {{"TableName", store_.client_->target().meta_table}, {"Item", item}});
      if (!put.ok()) return put.status();
      store_.marked_levels_.insert(l);
    }
    last_marked_ = l;
    return Status::Ok();
  }

  std::map<std::string, int> cadences_;  // dataset -> days, written at commit
  DynamoDbStore& store_;
  std::string last_marked_;
  std::map<std::string, std::map<Date, StoredDigest>> digests_;  // by level
  std::vector<std::pair<int64_t, Population>> populations_;      // to write at commit
  std::vector<json> annotations_;                                // items to put at commit
  std::vector<std::pair<int64_t, SourceState>> sources_;
  std::vector<std::string> forgotten_;
  RunRecord run_;
  std::vector<OutboxMessage> outbox_;
  bool finished_ = false;
};

Result<std::unique_ptr<LoadTransaction>> DynamoDbStore::begin_load() {
  auto load = std::make_unique<DynamoLoad>(*this);
  COVID_RETURN_IF_ERROR(load->begin());
  return std::unique_ptr<LoadTransaction>(std::move(load));
}

// --- reading -----------------------------------------------------------------------------------

Result<std::vector<Annotation>> DynamoDbStore::read_annotations(std::string_view location,
                                                                std::optional<Date> from,
                                                                std::optional<Date> to) {
  std::vector<Annotation> out;
  if (missing_tables_) return out;
  const std::string& meta = client_->target().meta_table;
  json request = meta_query(meta, kAnnotationPk, /*forward=*/true);
  if (!location.empty()) {
    request["KeyConditionExpression"] = "#pk = :pk AND begins_with(#sk, :prefix)";
    request["ExpressionAttributeNames"]["#sk"] = "sk";
    request["ExpressionAttributeValues"][":prefix"] = S(std::string(location) + "#");
  }
  std::string bad;
  Status s = client_->query_all("Query", std::move(request), [&](const json& item) {
    Annotation a;
    if (!read_annotation(item, &a)) {
      bad = dynamo::string_field(item.value("sk", json()), "S");
      return false;
    }
    if ((!from || a.to.value_or(a.from) >= *from) && (!to || a.from <= *to))
      out.push_back(std::move(a));
    return true;
  });
  if (!s.ok()) return fail("reading the annotations", s);
  if (!bad.empty())
    return Status::Load("DynamoDB " + describe() + ": a bad annotation (" + bad.substr(0, 60) +
                        ")");
  std::sort(out.begin(), out.end(), annotation_key_less);
  return out;
}

Result<std::vector<Observation>> DynamoDbStore::read_series(std::string_view location,
                                                            std::optional<Date> from,
                                                            std::optional<Date> to) {
  if (missing_tables_) return std::vector<Observation>();
  json q = {{"TableName", client_->target().table},
            {"KeyConditionExpression", "#l = :l AND #d BETWEEN :from AND :to"},
            {"ExpressionAttributeNames", {{"#l", "location"}, {"#d", "date"}}},
            {"ExpressionAttributeValues",
             {{":l", S(location)},
              {":from", S(from ? format_date(*from) : std::string("0000-00-00"))},
              {":to", S(to ? format_date(*to) : std::string("9999-99-99"))}}},
            {"ConsistentRead", true}};
  std::vector<Observation> out;
  Status bad;
  Status s = client_->query_all("Query", q, [&](const json& item) {
    auto o = dynamo::observation_from_item(item);
    if (!o.ok()) {
      bad = o.status();
      return false;
    }
    out.push_back(std::move(*o));
    return true;
  });
  if (!s.ok()) return fail("reading observations", s);
  if (!bad.ok()) return Status::Load("DynamoDB " + describe() + ": " + bad.message());
  std::sort(out.begin(), out.end(), by_location_date);  // a Query returns them by date already
  return out;
}

Result<std::vector<RunRecord>> DynamoDbStore::list_runs(size_t limit) {
  std::vector<RunRecord> out;
  if (limit == 0 || missing_tables_) return out;
  json q = meta_query(client_->target().meta_table, "run", /*forward=*/false);
  q["Limit"] = std::min<size_t>(limit, 1000);
  std::string bad;
  Status s = client_->query_all("Query", q, [&](const json& item) {
    dynamo::ItemReader r(item);
    RunRecord rec = read_run(r);
    if (!r.ok()) {
      bad = "run " + std::to_string(rec.id) + ": " + r.error();
      return false;
    }
    out.push_back(std::move(rec));
    return out.size() < limit;
  });
  if (!s.ok()) return fail("reading runs", s);
  if (!bad.empty()) return Status::Load("DynamoDB " + describe() + ": " + bad);
  return out;
}

Result<std::optional<RunRecord>> DynamoDbStore::get_run(int64_t id) {
  if (missing_tables_ || id < 0) return std::optional<RunRecord>();
  auto got = call("reading a run", "GetItem",
                  {{"TableName", client_->target().meta_table},
                   {"Key", key("run", padded(id))},
                   {"ConsistentRead", true}});
  if (!got.ok()) return got.status();
  auto item = got->find("Item");
  if (item == got->end() || !item->is_object()) return std::optional<RunRecord>();
  dynamo::ItemReader r(*item);
  RunRecord rec = read_run(r);
  if (!r.ok())
    return Status::Load("DynamoDB " + describe() + ": run " + std::to_string(id) + ": " +
                        r.error());
  return std::optional<RunRecord>(std::move(rec));
}

// pk "cadence", sk the dataset: `days`.
Result<std::optional<int>> DynamoDbStore::dataset_cadence(std::string_view dataset) {
  if (missing_tables_) return std::optional<int>();
  auto got = call("reading the cadence", "GetItem",
                  {{"TableName", client_->target().meta_table},
                   {"Key", key("cadence", std::string(dataset))},
                   {"ConsistentRead", true}});
  if (!got.ok()) return got.status();
  if (!got->contains("Item") || !(*got)["Item"].is_object()) return std::optional<int>();
  dynamo::ItemReader r((*got)["Item"]);
  int64_t days = r.n("days");
  if (!r.ok() || days <= 0)
    return Status::Load("DynamoDB " + describe() + ": a bad cadence item (" +
                        std::string(dataset).substr(0, 40) + ")");
  return std::optional<int>(int(days));
}

Result<std::vector<Location>> DynamoDbStore::list_locations() {
  std::set<std::string> ids = {kNation};
  if (!missing_tables_) {
    // No locations table: the data table's partition keys, with a Scan of the keys alone
    // (DynamoDB still reads, and bills, every item).
    json q = {{"TableName", client_->target().table},
              {"ProjectionExpression", "#l"},
              {"ExpressionAttributeNames", {{"#l", "location"}}},
              {"ConsistentRead", true}};
    std::string bad;
    Status s = client_->query_all("Scan", q, [&](const json& item) {
      dynamo::ItemReader r(item);
      std::string id = r.s("location");
      if (!r.ok() || id.empty()) {
        bad = "an item without a location" + (r.ok() ? std::string() : ": " + r.error());
        return false;
      }
      ids.insert(std::move(id));
      return true;
    });
    if (!s.ok()) return fail("reading locations", s);
    if (!bad.empty()) return Status::Load("DynamoDB " + describe() + ": " + bad);
  }
  std::vector<Location> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    Location l;
    l.id = id;
    l.type = location_level(id);
    size_t colon = id.find(':');
    if (id == kNation) {
      l.name = "United States";
    } else if (colon != std::string::npos) {
      l.name = id.substr(colon + 1);  // "36:New York City"
    } else {
      l.name = id;
      l.fips = id;
    }
    out.push_back(std::move(l));
  }
  return out;
}

Result<std::map<std::string, SourceState>> DynamoDbStore::source_states() {
  std::map<std::string, SourceState> out;
  if (missing_tables_) return out;
  std::string bad;
  Status s = client_->query_all(
      "Query", meta_query(client_->target().meta_table, "source", true), [&](const json& item) {
        dynamo::ItemReader r(item);
        SourceState st;
        st.url = r.s("url");
        st.validators = SourceValidators{r.s("etag"), r.s("last_modified")};
        st.content_hash = r.s("content_hash");
        st.bytes = uint64_t(r.n("bytes"));
        st.name = r.s("name");  // absent in items written before they were kept
        st.dataset = r.s("dataset");
        st.header = r.s("header");
        st.changed_at = r.s("changed_at");
        st.stale_told_at = r.s("stale_told_at");
        st.run_id = r.n("run_id", 0);
        if (!r.ok()) {
          bad = "source " + st.url + ": " + r.error();
          return false;
        }
        out.emplace(st.url, std::move(st));
        return true;
      });
  if (!s.ok()) return fail("reading source state", s);
  if (!bad.empty()) return Status::Load("DynamoDB " + describe() + ": " + bad);
  known_sources_ = out;
  return out;
}

Result<std::vector<Population>> DynamoDbStore::populations() {
  std::vector<Population> out;
  if (missing_tables_) return out;
  std::string bad;
  Status s = client_->query_all(
      "Query", meta_query(client_->target().meta_table, kPopulationPk, true),
      [&](const json& item) {
        dynamo::ItemReader r(item);
        Population p{r.s("sk"), r.n("population", -1), r.s("source"), int(r.n("year"))};
        if (!r.ok() || p.population < 0 || p.location.empty()) {
          bad = "population " + p.location.substr(0, 40) + ": " + r.error();
          return false;
        }
        out.push_back(std::move(p));
        return true;
      });
  if (!s.ok()) return fail("reading the populations", s);
  if (!bad.empty()) return Status::Load("DynamoDB " + describe() + ": " + bad);
  return out;
}

// --- the outbox --------------------------------------------------------------------------------

Result<std::vector<OutboxMessage>> DynamoDbStore::claim_outbox(size_t limit, const std::string& now,
                                                               const std::string& lease_until) {
  std::vector<OutboxMessage> out;
  if (limit == 0) return out;
  const std::string& meta = client_->target().meta_table;
  const std::string claimable = "#st = :pending AND (attribute_not_exists(#lu) OR #lu < :now)";
  json q = meta_query(meta, "outbox", /*forward=*/true);
  q["FilterExpression"] = claimable;
  q["ExpressionAttributeNames"]["#st"] = "status";
  q["ExpressionAttributeNames"]["#lu"] = "lease_until";
  q["ExpressionAttributeValues"][":pending"] = S("pending");
  q["ExpressionAttributeValues"][":now"] = S(now);
  q["ExpressionAttributeNames"]["#sk"] = "sk";
  q["ProjectionExpression"] = "#pk, #sk";
  std::vector<std::string> candidates;
  Status s = client_->query_all("Query", q, [&](const json& item) {
    dynamo::ItemReader r(item);
    std::string sk = r.s("sk");
    if (r.ok() && !sk.empty()) candidates.push_back(sk);
    return candidates.size() < limit;
  });
  if (!s.ok()) return fail("reading the outbox", s);
  for (const std::string& sk : candidates) {
    // Leased only if it is still claimable: of two processes, one wins, the other skips it.
    std::string type;
    auto r =
        client_->call("UpdateItem",
                      {{"TableName", meta},
                       {"Key", key("outbox", sk)},
                       {"UpdateExpression", "SET #lu = :lease"},
                       {"ConditionExpression", claimable},
                       {"ExpressionAttributeNames", {{"#st", "status"}, {"#lu", "lease_until"}}},
                       {"ExpressionAttributeValues",
                        {{":pending", S("pending")}, {":now", S(now)}, {":lease", S(lease_until)}}},
                       {"ReturnValues", "ALL_NEW"}},
                      &type);
    if (!r.ok()) {
      if (type == kConditionFailed) continue;
      return fail("leasing the outbox", r.status());
    }
    auto attrs = r->find("Attributes");
    if (attrs == r->end() || !attrs->is_object()) continue;
    dynamo::ItemReader reader(*attrs);
    OutboxMessage m = read_outbox(reader);
    if (!reader.ok())
      return Status::Load("DynamoDB " + describe() + ": outbox message " + sk + ": " +
                          reader.error());
    out.push_back(std::move(m));
  }
  return out;
}

Status DynamoDbStore::record_delivery(const DeliveryUpdate& u) {
  json names = {{"#st", "status"},     {"#at", "attempts"},     {"#lu", "lease_until"},
                {"#le", "last_error"}, {"#da", "delivered_at"}, {"#pk", "pk"}};
  json values = {{":st", S(to_string(u.status))}, {":n", N(u.attempts_added)}};
  std::string set = "SET #st = :st", remove = " REMOVE #lu";
  if (u.error.empty()) {
    remove += ", #le";
  } else {
    set += ", #le = :le";
    values[":le"] = S(u.error);
  }
  if (u.status == OutboxStatus::kDelivered && !u.at.empty()) {
    set += ", #da = :da";
    values[":da"] = S(u.at);
  } else {
    remove += ", #da";
  }
  std::string type;
  auto r = client_->call("UpdateItem",
                         {{"TableName", client_->target().meta_table},
                          {"Key", key("outbox", padded(u.id))},
                          {"UpdateExpression", set + " ADD #at :n" + remove},
                          {"ConditionExpression", "attribute_exists(#pk)"},
                          {"ExpressionAttributeNames", names},
                          {"ExpressionAttributeValues", values}},
                         &type);
  if (r.ok()) return Status::Ok();
  if (type == kConditionFailed) {
    return Status::Load("DynamoDB " + describe() + ": no outbox message " + std::to_string(u.id));
  }
  return fail("updating the outbox", r.status());
}

Result<std::vector<OutboxMessage>> DynamoDbStore::list_outbox(bool all, size_t limit) {
  std::vector<OutboxMessage> out;
  if (limit == 0 || missing_tables_) return out;
  json q = meta_query(client_->target().meta_table, "outbox", /*forward=*/false);
  if (!all) {
    q["FilterExpression"] = "#st <> :delivered";
    q["ExpressionAttributeNames"]["#st"] = "status";
    q["ExpressionAttributeValues"][":delivered"] = S("delivered");
  }
  std::string bad;
  Status s = client_->query_all("Query", q, [&](const json& item) {
    dynamo::ItemReader r(item);
    OutboxMessage m = read_outbox(r);
    if (!r.ok()) {
      bad = "outbox message " + std::to_string(m.id) + ": " + r.error();
      return false;
    }
    out.push_back(std::move(m));
    return out.size() < limit;
  });
  if (!s.ok()) return fail("reading the outbox", s);
  if (!bad.empty()) return Status::Load("DynamoDB " + describe() + ": " + bad);
  return out;
}

}  // namespace covid

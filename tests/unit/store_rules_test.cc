// The rules the stores share (load/store_rules.h, the statuses of load/store.h and the migration
// list of load/migrations.h), table-driven, without any store. That each store follows them is
// the store contract's part (store_contract_test.cc, dynamodb_test.cc).
#include "load/store_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "load/migrations.h"
#include "load/store.h"

namespace covid {
namespace {

TEST(StoreRules, RunStatusesRoundTripAndAnUnknownOneReadsAsFailed) {
  struct Case {
    const char* text;
    std::optional<RunStatus> parsed;
    RunStatus stored;
  };
  const Case cases[] = {
      {"running", RunStatus::kRunning, RunStatus::kRunning},
      {"ok", RunStatus::kOk, RunStatus::kOk},
      {"unchanged", RunStatus::kUnchanged, RunStatus::kUnchanged},
      {"failed", RunStatus::kFailed, RunStatus::kFailed},
      {"", std::nullopt, RunStatus::kFailed},
      {"OK", std::nullopt, RunStatus::kFailed},
      {"ok ", std::nullopt, RunStatus::kFailed},
      {"cancelled", std::nullopt, RunStatus::kFailed},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(parse_run_status(c.text), c.parsed);
    EXPECT_EQ(stored_run_status(c.text), c.stored);
    if (c.parsed) {
      EXPECT_STREQ(to_string(*c.parsed), c.text);
    }
  }
}

TEST(StoreRules, OutboxStatusesRoundTripAndAnUnknownOneReadsAsPending) {
  struct Case {
    const char* text;
    std::optional<OutboxStatus> parsed;
    OutboxStatus stored;
  };
  const Case cases[] = {
      {"pending", OutboxStatus::kPending, OutboxStatus::kPending},
      {"delivered", OutboxStatus::kDelivered, OutboxStatus::kDelivered},
      {"failed", OutboxStatus::kFailed, OutboxStatus::kFailed},
      {"", std::nullopt, OutboxStatus::kPending},
      {"Delivered", std::nullopt, OutboxStatus::kPending},
      {"delivered\n", std::nullopt, OutboxStatus::kPending},
      {"sent", std::nullopt, OutboxStatus::kPending},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(parse_outbox_status(c.text), c.parsed);
    EXPECT_EQ(stored_outbox_status(c.text), c.stored);
    if (c.parsed) {
      EXPECT_STREQ(to_string(*c.parsed), c.text);
    }
  }
}

TEST(StoreRules, LockTimeoutMessage) {
  using std::chrono::milliseconds;
  struct Case {
    const char* store;
    milliseconds waited;
    const char* detail;
    const char* message;
  };
  const Case cases[] = {
      {"/var/lib/covid.db", milliseconds(30'000), "",
       "the database /var/lib/covid.db is locked by another run; gave up after waiting 30000 ms "
       "(lock_timeout_ms)"},
      {"postgresql://etl:***@db/covid (schema covid_etl)", milliseconds(0), "",
       "the database postgresql://etl:***@db/covid (schema covid_etl) is locked by another run; "
       "gave up after waiting 0 ms (lock_timeout_ms)"},
      {"dynamodb://covid?region=us-east-1", milliseconds(200),
       " (host:42, its lease runs until 2022-06-01T12:01:00.000Z)",
       "the database dynamodb://covid?region=us-east-1 is locked by another run (host:42, its "
       "lease runs until 2022-06-01T12:01:00.000Z); gave up after waiting 200 ms "
       "(lock_timeout_ms)"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(lock_timeout_message(c.store, c.waited, c.detail), c.message);
  }
  EXPECT_EQ(lock_timeout_message("x.db", milliseconds(5)),
            lock_timeout_message("x.db", milliseconds(5), ""));
}

TEST(StoreRules, CheckSchemaVersion) {
  struct Case {
    int64_t found, known;
    const char* where;
    const char* noun;   // nullptr: the default
    const char* error;  // "": Ok
  };
  const Case cases[] = {
      {0, 4, "a.db", nullptr, ""},  // a new database
      {2, 4, "a.db", nullptr, ""},  // an older one: migrated
      {4, 4, "a.db", nullptr, ""},
      {5, 4, "a.db", nullptr, "a.db: schema version 5 is newer than this covid-etl knows (4)"},
      {7, 4, "PostgreSQL db (schema s)", nullptr,
       "PostgreSQL db (schema s): schema version 7 is newer than this covid-etl knows (4)"},
      {9, 1, "DynamoDB dynamodb://t", "layout version",
       "DynamoDB dynamodb://t: layout version 9 is newer than this covid-etl knows (1)"},
      {int64_t(1) << 40, 1, "DynamoDB dynamodb://t", "layout version",
       "DynamoDB dynamodb://t: layout version 1099511627776 is newer than this covid-etl knows "
       "(1)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.found) + " " + c.where);
    Status s = c.noun == nullptr ? check_schema_version(c.found, c.known, c.where)
                                 : check_schema_version(c.found, c.known, c.where, c.noun);
    if (*c.error == '\0') {
      EXPECT_TRUE(s.ok()) << s.message();
    } else {
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.kind(), ErrorKind::kLoad);
      EXPECT_EQ(s.message(), c.error);
    }
  }
}

TEST(StoreRules, DateDigestsAnswer) {
  using Digests = std::map<Date, StoredDigest>;
  const Date day = date_from_ymd(2020, 3, 1);
  const Digests some = {{day, StoredDigest{DateDigest{3, 1, 2}, 3, std::nullopt}}};
  struct Case {
    const char* name;
    Digests stored;
    std::optional<Result<bool>> level_has_rows;  // nullopt: must not be asked
    const char* answer;                          // "nullopt", "empty", "digests" or "error"
  };
  const Case cases[] = {
      {"digests kept: the level's rows are not looked at", some, std::nullopt, "digests"},
      {"none, and no rows of the level: kept, none yet", {}, Result<bool>(false), "empty"},
      {"none, but rows of the level: written without digests", {}, Result<bool>(true), "nullopt"},
      {"none, and the rows cannot be looked at", {}, Result<bool>(Status::Load("gone")), "error"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    int asked = 0;
    auto r = date_digests_answer(c.stored, [&]() -> Result<bool> {
      ++asked;
      return c.level_has_rows ? *c.level_has_rows : Result<bool>(Status::Load("not asked"));
    });
    EXPECT_EQ(asked, c.level_has_rows ? 1 : 0);
    std::string answer = !r.ok()                                      ? "error"
                         : !r->has_value()                            ? "nullopt"
                         : (*r)->empty()                              ? "empty"
                         : (*r)->size() == 1 && (*r)->count(day) == 1 ? "digests"
                                                                      : "other";
    EXPECT_EQ(answer, c.answer);
    if (!r.ok()) {
      EXPECT_EQ(r.status().message(), "gone");
    }
  }
}

TEST(StoreRules, InterruptedRunRecord) {
  RunRecord r = interrupted_run_record(InterruptedRun{7, "2022-06-01T12:00:00.000Z"}, 9);
  EXPECT_EQ(r.id, 7);
  EXPECT_EQ(r.started_at, "2022-06-01T12:00:00.000Z");
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.error, interrupted_run_message(9));
  EXPECT_NE(r.error.find("(found by run 9)"), std::string::npos) << r.error;
  EXPECT_EQ(r.finished_at, "");
  EXPECT_EQ(r.stage, "");
}

TEST(StoreRules, CloseInterruptedRuns) {
  const std::vector<InterruptedRun> found = {{3, "2022-06-01T10:00:00.000Z"},
                                             {5, "2022-06-01T11:00:00.000Z"}};
  auto tell = [](const RunRecord& closed) {
    OutboxMessage m;
    m.run_id = closed.id;
    m.subject = "run " + std::to_string(closed.id) + " interrupted";
    m.body = closed.error;
    return std::vector<OutboxMessage>{m};
  };
  struct Case {
    const char* name;
    bool with_tell;
    int64_t fail_at;  // the run whose close fails; 0: none
    std::vector<std::string> closed;
    bool ok;
  };
  const Case cases[] = {
      {"each run closed, in order, with its messages",
       true,
       0,
       {"3 failed 2022-06-01T10:00:00.000Z [run 3 interrupted]",
        "5 failed 2022-06-01T11:00:00.000Z [run 5 interrupted]"},
       true},
      {"without tell: closed, no messages",
       false,
       0,
       {"3 failed 2022-06-01T10:00:00.000Z []", "5 failed 2022-06-01T11:00:00.000Z []"},
       true},
      {"the first error stops",
       true,
       3,
       {"3 failed 2022-06-01T10:00:00.000Z [run 3 interrupted]"},
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> closed;
    Status s = close_interrupted_runs(
        found, 8, c.with_tell ? InterruptedOutbox(tell) : InterruptedOutbox(),
        [&](const RunRecord& r, const std::vector<OutboxMessage>& outbox) {
          EXPECT_EQ(r.error, interrupted_run_message(8));
          std::string messages;
          for (const OutboxMessage& m : outbox) {
            EXPECT_EQ(m.run_id, r.id);
            EXPECT_EQ(m.body, r.error);
            messages += m.subject;
          }
          closed.push_back(std::to_string(r.id) + " " + to_string(r.status) + " " + r.started_at +
                           " [" + messages + "]");
          return r.id == c.fail_at ? Status::Load("disk full") : Status::Ok();
        });
    EXPECT_EQ(closed, c.closed);
    EXPECT_EQ(s.ok(), c.ok);
    if (!c.ok) {
      EXPECT_EQ(s.message(), "disk full");
    }
  }
  int calls = 0;
  EXPECT_TRUE(close_interrupted_runs({}, 8, tell, [&](const RunRecord&, const auto&) {
                ++calls;
                return Status::Ok();
              }).ok());
  EXPECT_EQ(calls, 0);
}

// Both SQL stores follow the one list: every step has a text in each dialect, in the dialect's
// form (PostgreSQL's tables qualified by {s}, SQLite's never).
TEST(StoreRules, MigrationsHaveEveryStepInBothDialects) {
  ASSERT_GE(sql_schema_version(), 4);
  for (int i = 0; i < sql_schema_version(); ++i) {
    SCOPED_TRACE(i);
    std::string sqlite = migration_sql(i, SqlDialect::kSqlite);
    std::string postgres = migration_sql(i, SqlDialect::kPostgres);
    EXPECT_FALSE(sqlite.empty());
    EXPECT_FALSE(postgres.empty());
    EXPECT_EQ(sqlite.find("{s}"), std::string::npos);
    EXPECT_NE(postgres.find("{s}."), std::string::npos);
  }
}

// The statements of a PostgreSQL text, sorted: split after a line that ends with ';' outside a
// function body ($f$ ... $f$); blank lines and SQL comment lines outside bodies left out (they
// change nothing in a database).
std::vector<std::string> sorted_statements(const std::string& sql) {
  std::vector<std::string> out;
  std::string statement, line;
  bool in_body = false;
  std::istringstream in(sql);
  while (std::getline(in, line)) {
    if (!in_body && (line.empty() || line.starts_with("--"))) continue;
    statement += line + "\n";
    for (size_t at = line.find("$f$"); at != std::string::npos; at = line.find("$f$", at + 3)) {
      in_body = !in_body;
    }
    if (!in_body && line.ends_with(";")) out.push_back(std::move(statement)), statement.clear();
  }
  EXPECT_EQ(statement, "") << "a statement without its ';'";
  std::sort(out.begin(), out.end());
  return out;
}

// PostgreSQL's step 10 is generated (statement triggers instead of observations' foreign keys):
// the same statements as the text written by hand before (tests/fixtures/migrations/), byte for
// byte, so that a database migrated by either has the same schema. Only the order of two of the
// run's CREATE TRIGGER statements and a comment differ (triggers fire in the order of their
// names, not of their creation).
TEST(StoreRules, MigrationStep10IsTheStatementsItWasWrittenWith) {
  std::ifstream in(COVID_ETL_FIXTURES_DIR "/migrations/postgres-step-10.sql", std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  const std::string marker = "-- @@ step 10";
  const std::string file = all.str();
  ASSERT_NE(file.find(marker), std::string::npos);
  const std::string written = file.substr(file.find(marker) + marker.size());
  ASSERT_GE(sql_schema_version(), 10);
  const std::string generated = migration_sql(9, SqlDialect::kPostgres);
  std::vector<std::string> expected = sorted_statements(written);
  EXPECT_EQ(expected.size(), 12u);  // 2 foreign keys dropped, 2 functions, 8 triggers
  EXPECT_EQ(sorted_statements(generated), expected);
  EXPECT_EQ(migration_sql(9, SqlDialect::kPostgres), migration_sql(9, SqlDialect::kPostgres))
      << "built once: the same pointer every time";
}

// PostgreSQL's step 11 replaces step 10's referenced-side function (observations_referenced_check)
// with the same checks after one more: outside READ COMMITTED it refuses, since its query would
// not see rows other transactions commit (integration.test_postgres.Keys runs the two sessions).
TEST(StoreRules, MigrationStep11IsStep10sReferencedCheckBehindAnIsolationTest) {
  ASSERT_GE(sql_schema_version(), 11);
  const std::string step10 = migration_sql(9, SqlDialect::kPostgres);
  const std::string step11 = migration_sql(10, SqlDialect::kPostgres);
  const std::string head = "CREATE FUNCTION {s}.observations_referenced_check()";
  size_t from = step10.find(head);
  ASSERT_NE(from, std::string::npos);
  from = step10.find("  IF TG_OP = 'TRUNCATE' THEN", from);
  size_t to = step10.find("$f$;", from);
  ASSERT_NE(to, std::string::npos);
  const std::string checks = step10.substr(from, to - from);
  EXPECT_NE(step11.find("CREATE OR REPLACE FUNCTION {s}.observations_referenced_check()"),
            std::string::npos);
  size_t guard = step11.find("IF current_setting('transaction_isolation') <> 'read committed'");
  ASSERT_NE(guard, std::string::npos);
  size_t same = step11.find(checks);
  ASSERT_NE(same, std::string::npos) << "step 10's checks, unchanged";
  EXPECT_LT(guard, same) << "the isolation is tested first";
  EXPECT_EQ(step11.find("CREATE TRIGGER"), std::string::npos) << "the triggers stay";
  EXPECT_EQ(std::string(migration_sql(10, SqlDialect::kSqlite)).find("CREATE"), std::string::npos);
}

}  // namespace
}  // namespace covid

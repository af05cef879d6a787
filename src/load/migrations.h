// The schema of the SQL stores (SQLite and PostgreSQL) as one list of migrations: step i brings a
// database from schema version i to i + 1, with the SQL of each dialect side by side, so that the
// two schemas cannot drift apart. The dialects differ in types (SQLite keeps dates and times as
// ISO text, PostgreSQL as date and timestamptz; json; identity columns; WITHOUT ROWID), so each
// step has a text for each. A PostgreSQL text names its tables {s}.NAME: {s} is the store's
// quoted schema (PostgresStore replaces it).
//
// The list is append-only: a step that has shipped is never edited (databases written by earlier
// builds went through it as it was; tests/unit/previous_schema_test.cc opens and loads one built
// from the texts of the release before). A new step goes at the end, in both dialects, and both
// stores' schema_version() follows. A step's text may be built from a table (PostgreSQL's step
// 10, the foreign keys of observations as statement triggers: statement_keys_sql in
// migrations.cc); it must keep the statements it was written with (tests/fixtures/migrations/,
// store_rules_test.cc). Plain data, built once on first use; thread-safe.
#pragma once

namespace covid {

enum class SqlDialect { kSqlite, kPostgres };

// The schema version this build writes: the number of steps.
int sql_schema_version();

// The SQL of the step from version `from` to `from + 1` (0 <= from < sql_schema_version()), in
// `dialect`: one or more statements, for a store to run in its migration's transaction.
const char* migration_sql(int from, SqlDialect dialect);

}  // namespace covid

// County load done with DuckDB (npm @duckdb/node-api), as a baseline for covid-etl.
//
// Usage: node duckdb_etl.mjs NYT_US_COUNTIES_CSV DUCKDB_FILE
//
// read_csv the file as text and, in one transaction, insert the locations (a county's FIPS code,
// or 'State:County' where NYT gives none) into `locations` and every row into `counties`, keyed by
// (location, date), with CHECK constraints. Validation: the `count_of` macro raises on anything
// but digits (a plain ::BIGINT cast would round '1.5'; an empty deaths is NULL), ::DATE raises on
// dates that do not exist, the regexp on any other shape; the CHECKs reject negative counts, a
// FIPS code that is not 5 digits, an empty county or state; the keys reject a (location, date)
// twice and a location under two names. Any bad row: the transaction rolls back, exit 1.
import { DuckDBInstance } from '@duckdb/node-api';

const [file, db] = process.argv.slice(2);
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
const csv = `read_csv(${lit(file)}, header = true, delim = ',', quote = '"', all_varchar = true)`;

const sql = `
CREATE TEMP MACRO count_of(v, what) AS
  CASE WHEN regexp_full_match(v, '[0-9]{1,18}') THEN v::BIGINT
       ELSE error(what || ': bad count ' || coalesce(v, '(empty)')) END;
CREATE TEMP MACRO date_of(v) AS
  CASE WHEN regexp_full_match(v, '[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN v::DATE
       ELSE error('bad date ' || coalesce(v, '(empty)')) END;

BEGIN;
CREATE TABLE locations (
  location VARCHAR PRIMARY KEY,
  county   VARCHAR NOT NULL CHECK (county <> ''),
  state    VARCHAR NOT NULL CHECK (state <> ''),
  fips     VARCHAR CHECK (fips IS NULL OR regexp_full_match(fips, '[0-9]{5}')));
CREATE TABLE counties (
  location VARCHAR NOT NULL, date DATE NOT NULL,
  cases    BIGINT NOT NULL CHECK (cases >= 0),
  deaths   BIGINT CHECK (deaths >= 0),
  PRIMARY KEY (location, date));

-- A view, not a table: reading the file twice costs less than holding it (same CPU time, less memory).
CREATE TEMP VIEW raw AS
  SELECT coalesce(fips, state || ':' || county) AS location, county, state, fips,
         date_of(date) AS date, count_of(cases, 'cases') AS cases,
         CASE WHEN deaths IS NULL THEN NULL ELSE count_of(deaths, 'deaths') END AS deaths
  FROM ${csv};
INSERT INTO locations SELECT DISTINCT location, coalesce(county, ''), coalesce(state, ''), fips FROM raw;
INSERT INTO counties SELECT location, date, cases, deaths FROM raw;
COMMIT;`;

const instance = await DuckDBInstance.create(db);
const con = await instance.connect();
try {
  await con.run(sql);
} catch (e) {
  console.error(`duckdb_etl: ${e.message}`);
  process.exit(1);
}
const rows = (await con.runAndReadAll('SELECT count(*) FROM counties')).getRows()[0][0];
console.log(`duckdb_etl: loaded ${rows} rows into ${db}`);
con.closeSync();
instance.closeSync();

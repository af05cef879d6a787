// National run done with DuckDB (npm @duckdb/node-api), as a baseline for covid-etl.
//
// Usage: node duckdb_etl.mjs NYT_US_CSV JHU_COMBINED_CSV DUCKDB_FILE
//
// read_csv both files as text, keep the JHU US national row, turn Recovered 0 into NULL from the
// first positive value on (running max over date), left-join it onto every NYT date and insert
// into `national` keyed by (location, date), in one transaction. Validation: the `count_of` macro
// raises on anything but digits (a plain ::BIGINT cast would round '1.5'), ::DATE raises on dates
// that do not exist, the regexp on any other shape, the primary key on duplicate dates.
// Any bad row: the transaction rolls back, exit 1.
import { DuckDBInstance } from '@duckdb/node-api';

const [nyt, jhu, db] = process.argv.slice(2);
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
// Quote given, not sniffed: the first quoted field ("Korea, South") is past the sniffer's sample.
const csv = (path) => `read_csv(${lit(path)}, header = true, delim = ',', quote = '"', all_varchar = true)`;

const sql = `
CREATE TEMP MACRO count_of(v, what) AS
  CASE WHEN regexp_full_match(v, '[0-9]{1,18}') THEN v::BIGINT
       ELSE error(what || ': bad count ' || coalesce(v, '(empty)')) END;
CREATE TEMP MACRO date_of(v, what) AS
  CASE WHEN regexp_full_match(v, '[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN v::DATE
       ELSE error(what || ': bad date ' || coalesce(v, '(empty)')) END;

BEGIN;
CREATE TABLE IF NOT EXISTS national (
  location VARCHAR NOT NULL, date DATE NOT NULL,
  cases BIGINT NOT NULL, deaths BIGINT NOT NULL, recovered BIGINT,
  PRIMARY KEY (location, date));

INSERT INTO national
WITH n AS (
  SELECT date_of(date, 'nyt') AS date, count_of(cases, 'nyt') AS cases, count_of(deaths, 'nyt') AS deaths
  FROM ${csv(nyt)}
), us AS (
  SELECT date_of("Date", 'jhu') AS date, count_of("Recovered", 'jhu') AS rec
  FROM ${csv(jhu)}
  WHERE "Country/Region" = 'US' AND coalesce("Province/State", '') = ''
), us_zero_rule AS (
  SELECT date, CASE WHEN rec = 0 AND max(rec) OVER (ORDER BY date) > 0 THEN NULL ELSE rec END AS recovered
  FROM us
)
SELECT 'US', n.date, n.cases, n.deaths, u.recovered
FROM n LEFT JOIN us_zero_rule AS u USING (date)
ORDER BY n.date;
COMMIT;`;

const instance = await DuckDBInstance.create(db);
const con = await instance.connect();
try {
  await con.run(sql);
} catch (e) {
  console.error(`duckdb_etl: ${e.message}`);
  process.exit(1);
}
const rows = (await con.runAndReadAll('SELECT count(*) FROM national')).getRows()[0][0];
console.log(`duckdb_etl: loaded ${rows} rows into ${db}`);
con.closeSync();
instance.closeSync();

// Print the rows of one query on a DuckDB file, '|'-separated like the sqlite3 shell (NULL as '').
// Used by bench/national.sh to check duckdb_etl.mjs's output. Usage: node duckdb_query.mjs DB SQL
import { DuckDBInstance } from '@duckdb/node-api';

const [db, sql] = process.argv.slice(2);
const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
const con = await instance.connect();
for (const row of (await con.runAndReadAll(sql)).getRows())
  console.log(row.map((v) => (v === null ? '' : String(v))).join('|'));
con.closeSync();
instance.closeSync();

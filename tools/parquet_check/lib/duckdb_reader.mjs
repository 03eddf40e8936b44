// Reader 1: DuckDB (C++ Parquet reader) through @duckdb/node-api.
//
// Values come from the result vectors, not from converted JS values: 64-bit
// integers and timestamps as BigInt, doubles as the bits of DuckDB's own
// buffer (a JS number could lose a NaN payload on the way).

import { DuckDBInstance } from '@duckdb/node-api';
import { COLUMNS } from './canonical.mjs';

// DuckDB's name for each column's type when the file follows the schema.
const EXPECTED_TYPES = {
  series: 'VARCHAR', timestamp: 'TIMESTAMP WITH TIME ZONE', timestamp_nanos: 'INTEGER',
  value_double: 'DOUBLE', value_int: 'BIGINT', value_bool: 'BOOLEAN', value_bytes: 'BLOB',
  type: 'VARCHAR', unit: 'VARCHAR',
};

export const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

export async function openDuckDB() {
  // Never reach for the network: parquet, json and icu are built in.
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  // One thread: rows come out in file order whatever the settings default.
  await conn.run('SET threads = 1');
  await conn.run('SET preserve_insertion_order = true');
  return conn;
}

async function checkSchema(conn, file) {
  const r = await conn.runAndReadAll(
    `DESCRIBE SELECT * FROM read_parquet(${sqlString(file)}, binary_as_string = false, hive_partitioning = false)`);
  const got = Object.fromEntries(r.getRowObjectsJS().map((o) => [o.column_name, o.column_type]));
  const problems = [];
  for (const [col, type] of Object.entries(EXPECTED_TYPES)) {
    if (!(col in got)) problems.push(`missing column ${col}`);
    else if (got[col] !== type) problems.push(`${col} is ${got[col]}, expected ${type}`);
  }
  for (const col of Object.keys(got)) if (!(col in EXPECTED_TYPES)) problems.push(`unexpected column ${col}`);
  if (problems.length) throw new Error(`${file}: schema (duckdb): ${problems.join('; ')}`);
}

// Calls `emit(row)` for every row of every file, files in the order given.
export async function readRowsDuckDB(files, emit) {
  const conn = await openDuckDB();
  for (const file of files) {
    await checkSchema(conn, file);
    const result = await conn.run(
      `SELECT ${COLUMNS.map((c) => `"${c}"`).join(', ')} ` +
      `FROM read_parquet(${sqlString(file)}, binary_as_string = false, hive_partitioning = false)`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const v = COLUMNS.map((_, i) => chunk.getColumnVector(i));
      // The double vector's own Float64Array, read as bits.
      const d = v[3].items;
      const bits = new BigUint64Array(d.buffer, d.byteOffset, d.length);
      for (let i = 0; i < chunk.rowCount; i++) {
        const ts = v[1].getItem(i);
        const bytes = v[6].getItem(i);
        emit({
          series: v[0].getItem(i),
          micros: ts === null ? null : ts.micros,
          nanos: v[2].getItem(i),
          doubleBits: v[3].getItem(i) === null ? null : bits[i],
          int: v[4].getItem(i),
          bool: v[5].getItem(i),
          bytes: bytes === null ? null : bytes.bytes,
          type: v[7].getItem(i),
          unit: v[8].getItem(i),
        });
      }
    }
  }
}

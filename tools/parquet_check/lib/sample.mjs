// Sample files in Sluice's Parquet schema, written WITHOUT Sluice's writer,
// to prove the readers before that writer exists:
//
//   duckdb.parquet   DuckDB's writer (COPY ... TO ... (FORMAT parquet)), row
//                    groups of 2,048 rows, snappy
//   arrow.parquet    arrow-rs's writer (parquet-wasm), zstd, row groups of
//                    100 rows, page statistics and page indexes, and NaNs with
//                    payloads (DuckDB's SQL cannot make those)
//   hive/date=2024-01-01/part-0.parquet, hive/date=2024-01-02/part-0.parquet
//                    two small days, for partition pruning
//   *.expected.jsonl the canonical lines each file must read back as,
//                    computed here from the rows, not read from any file
//   duckdb.export.jsonl  duckdb.parquet's rows as `sluice export --format
//                    jsonl` spells them (sync/include/sync/export.h), to
//                    exercise `read.mjs canon-export`
//   bad/timestamp_not_utc.parquet  TIMESTAMP without UTC: both readers refuse it
//   bad/stray_value.parquet        a float64 row that also has value_int set:
//                    read, with the stray value shown
//
// Every row is defined here with exact values (BigInt, double bit patterns),
// so the expectation does not depend on either reader.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { makeData, makeVector, Table, tableToIPC, vectorFromArray, Utf8, Binary, Bool,
         TimestampMicrosecond, Int32, Int64, Float64, Field } from 'apache-arrow';
import { canonicalLine } from './canonical.mjs';
import { openDuckDB, sqlString } from './duckdb_reader.mjs';

const require = createRequire(import.meta.url);
const parquetWasm = require('parquet-wasm');

const BITS = {
  zero: 0x0000000000000000n, negZero: 0x8000000000000000n, nan: 0x7ff8000000000000n,
  inf: 0x7ff0000000000000n, negInf: 0xfff0000000000000n, one5: 0x3ff8000000000000n,
  minSubnormal: 0x0000000000000001n, max: 0x7fefffffffffffffn, tenth: 0x3fb999999999999an,
  minNormal: 0x0010000000000000n, negMax: 0xffefffffffffffffn,
};
// Only arrow-rs can write these: a signalling NaN, a negative NaN, a payload.
const PAYLOAD_NANS = [0x7ff0000000000001n, 0xfff8000000000000n, 0x7ff80000deadbeefn];

const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;
const bytes = (...b) => new Uint8Array(b);

// row: { series, ns: BigInt, type, value (bits | BigInt | bool | Uint8Array | null), unit }
function specialRows({ payloadNans }) {
  const rows = [];
  const add = (series, ns, type, value, unit) => rows.push({ series, ns, type, value, unit });
  let ns = 1704067200000000000n;  // 2024-01-01T00:00:00Z
  for (const [k, bits] of Object.entries(BITS)) add(`edge/float/${k}`, ns++, 'float64', bits, 'C');
  if (payloadNans) for (const bits of PAYLOAD_NANS) add('edge/float/payload_nan', ns++, 'float64', bits, 'C');
  for (const v of [INT64_MIN, INT64_MAX, 0n, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n])
    add('edge/int', ns++, 'int64', v, 'count');
  add('edge/bool', ns++, 'bool', true, '');
  add('edge/bool', ns++, 'bool', false, '');
  add('edge/bytes', ns++, 'bytes', bytes(), 'raw');
  add('edge/bytes', ns++, 'bytes', bytes(0x00, 0xff, 0x80, 0x0a), 'raw');
  add('edge/bytes', ns++, 'bytes', new TextEncoder().encode('{"json":"text"}'), 'raw');
  // Null values, one per type (the value columns are optional).
  for (const t of ['float64', 'int64', 'bool', 'bytes']) add(`edge/null/${t}`, ns++, t, null, '');
  // Timestamps at the ends of the int64 ns range and around the epoch:
  // micros = floor(ns / 1000), so negative ns keep 0 <= nanos <= 999.
  for (const t of [INT64_MIN, INT64_MAX, -1n, 0n, 1n, -1000n, -999n, 999n, 1000n])
    add('edge/time', t, 'int64', t, 'ns');
  // Names and units that need escaping or are not ASCII.
  add('site/ü/ß/温度', ns++, 'float64', BITS.one5, 'm/s²');
  add('quote"back\\slash\nnewline', ns++, 'float64', BITS.one5, 'a "unit"');
  add('', ns++, 'float64', BITS.one5, '');
  return rows;
}

// Deterministic bulk rows so that the files have several row groups.
function bulkRows(n) {
  const rows = [];
  const types = ['float64', 'int64', 'bool', 'bytes'];
  const units = ['C', 'kPa', '', 'm/s²'];
  const dv = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < n; i++) {
    const type = types[i % 4];
    let value;
    if (i % 97 === 0) value = null;
    else if (type === 'float64') { dv.setFloat64(0, i * 0.1 - 250); value = dv.getBigUint64(0); }
    else if (type === 'int64') value = BigInt(i) ** 3n * 1000003n - 5n * 10n ** 15n;
    else if (type === 'bool') value = i % 3 === 0;
    else value = Uint8Array.from({ length: i % 5 }, (_, k) => (i * 7 + k) & 255);
    rows.push({ series: `gen/${i % 7}`, ns: 1704067200000000000n + BigInt(i) * 1234567n, type, value,
                unit: units[i % 4] });
  }
  return rows;
}

const splitNs = (ns) => {
  const micros = ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n);
  return { micros, nanos: Number(ns - micros * 1000n) };
};

// The reader-side row (see canonical.mjs) of a sample row.
function rawRow(r) {
  const { micros, nanos } = splitNs(r.ns);
  const v = (t) => (r.type === t ? r.value : null);
  return { series: r.series, micros, nanos, doubleBits: v('float64'), int: v('int64'),
           bool: v('bool'), bytes: v('bytes'), type: r.type, unit: r.unit };
}

// A row as a line of `sluice export --format jsonl` (see export.h).
function exportLine(r) {
  let value;
  if (r.value === null) value = 'null';
  else if (r.type === 'float64') {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setBigUint64(0, r.value);
    const x = dv.getFloat64(0);
    if (Number.isNaN(x)) value = r.value === BITS.nan ? '"NaN"' : `"NaN(0x${r.value.toString(16).padStart(16, '0')})"`;
    else if (!Number.isFinite(x)) value = x > 0 ? '"Infinity"' : '"-Infinity"';
    else if (Object.is(x, -0)) value = '-0.0';
    else value = /[.e]/.test(String(x)) ? String(x) : `${x}.0`;
  } else if (r.type === 'int64') value = r.value.toString();
  else if (r.type === 'bool') value = String(r.value);
  else value = JSON.stringify(Buffer.from(r.value).toString('base64'));
  const ms = r.ns / 1000000n - (r.ns % 1000000n < 0n ? 1n : 0n);
  const frac = ((r.ns % 1000000000n) + 1000000000n) % 1000000000n;
  const time = new Date(Number(ms)).toISOString().replace(/\.\d+Z$/, `.${frac.toString().padStart(9, '0')}Z`);
  return `{"series":${JSON.stringify(r.series)},"timestamp_ns":${r.ns},"timestamp":"${time}",` +
         `"value":${value},"type":"${r.type}"}`;
}

const expected = (rows) => rows.map((r) => canonicalLine(rawRow(r)) + '\n').join('');

// --- DuckDB writer -------------------------------------------------------------

function doubleLiteral(bits) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, bits);
  const x = dv.getFloat64(0);
  if (Number.isNaN(x)) {
    if (bits !== BITS.nan) throw new Error(`DuckDB SQL cannot write NaN bits ${bits.toString(16)}`);
    return `'nan'::DOUBLE`;
  }
  if (Object.is(x, -0)) return `'-0.0'::DOUBLE`;
  if (!Number.isFinite(x)) return x > 0 ? `'inf'::DOUBLE` : `'-inf'::DOUBLE`;
  return `'${String(x)}'::DOUBLE`;  // shortest round-trip text; DuckDB rounds it back exactly
}

function sqlRow(r, i) {
  const raw = rawRow(r);
  const orNull = (v, f, t) => (v === null ? `NULL::${t}` : f(v));
  return `(${i}, ${sqlString(raw.series)}, make_timestamptz(${raw.micros}::BIGINT), ${raw.nanos}::INTEGER, ` +
    `${orNull(raw.doubleBits, doubleLiteral, 'DOUBLE')}, ${orNull(raw.int, (v) => `'${v}'::BIGINT`, 'BIGINT')}, ` +
    `${orNull(raw.bool, String, 'BOOLEAN')}, ${orNull(raw.bytes, (b) => `from_hex('${Buffer.from(b).toString('hex')}')`, 'BLOB')}, ` +
    `${sqlString(raw.type)}, ${sqlString(raw.unit)})`;
}

export async function writeWithDuckDB(conn, rows, path, options = 'ROW_GROUP_SIZE 2048') {
  const values = rows.map(sqlRow).join(',\n');
  await conn.run(
    `COPY (SELECT series, "timestamp", timestamp_nanos, value_double, value_int, value_bool, value_bytes, type, unit ` +
    `FROM (VALUES ${values}) v(idx, series, "timestamp", timestamp_nanos, value_double, value_int, value_bool, value_bytes, type, unit) ` +
    `ORDER BY idx) TO ${sqlString(path)} (FORMAT parquet${options ? ', ' + options : ''})`);
}

// --- arrow-rs writer (parquet-wasm) ----------------------------------------------

function arrowTable(rows) {
  const raws = rows.map(rawRow);
  const n = raws.length;
  // Fixed-width columns built from typed arrays and a validity bitmap, so the
  // bits are exactly ours.
  const fixed = (type, Array, pick) => {
    const values = new Array(n);
    const bitmap = new Uint8Array(Math.ceil(n / 8));
    let nulls = 0;
    raws.forEach((r, i) => {
      const v = pick(r);
      if (v === null) { nulls++; return; }
      values[i] = v;
      bitmap[i >> 3] |= 1 << (i & 7);
    });
    return makeVector(makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, data: values }));
  };
  const f64 = fixed(new Float64(), BigUint64Array, (r) => r.doubleBits);
  const f64Data = f64.data[0];
  const asDouble = makeData({ type: new Float64(), length: n, nullCount: f64Data.nullCount,
    nullBitmap: f64Data.nullBitmap,
    data: new Float64Array(f64Data.values.buffer, f64Data.values.byteOffset, n) });
  const columns = {
    series: vectorFromArray(raws.map((r) => r.series), new Utf8()),
    timestamp: fixed(new TimestampMicrosecond('UTC'), BigInt64Array, (r) => r.micros),
    timestamp_nanos: fixed(new Int32(), Int32Array, (r) => r.nanos),
    value_double: makeVector(asDouble),
    value_int: fixed(new Int64(), BigInt64Array, (r) => r.int),
    value_bool: vectorFromArray(raws.map((r) => r.bool), new Bool()),
    value_bytes: vectorFromArray(raws.map((r) => r.bytes), new Binary()),
    type: vectorFromArray(raws.map((r) => r.type), new Utf8()),
    unit: vectorFromArray(raws.map((r) => r.unit), new Utf8()),
  };
  return new Table(columns);
}

export function writeWithArrow(rows, path) {
  const ipc = tableToIPC(arrowTable(rows), 'stream');
  const props = new parquetWasm.WriterPropertiesBuilder()
    .setCompression(parquetWasm.Compression.ZSTD)
    .setMaxRowGroupSize(100)
    .setStatisticsEnabled(parquetWasm.EnabledStatistics.Page)
    .build();
  writeFileSync(path, parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(ipc), props));
}

// Writes every sample file into `dir`; returns their paths.
export async function writeSamples(dir) {
  mkdirSync(join(dir, 'hive', 'date=2024-01-01'), { recursive: true });
  mkdirSync(join(dir, 'hive', 'date=2024-01-02'), { recursive: true });
  const conn = await openDuckDB();

  const duckRows = [...specialRows({ payloadNans: false }), ...bulkRows(5000)];
  await writeWithDuckDB(conn, duckRows, join(dir, 'duckdb.parquet'));
  writeFileSync(join(dir, 'duckdb.expected.jsonl'), expected(duckRows));
  writeFileSync(join(dir, 'duckdb.export.jsonl'), duckRows.map((r) => exportLine(r) + '\n').join(''));

  const arrowRows = [...specialRows({ payloadNans: true }), ...bulkRows(1000)];
  writeWithArrow(arrowRows, join(dir, 'arrow.parquet'));
  writeFileSync(join(dir, 'arrow.expected.jsonl'), expected(arrowRows));

  const day = (d, count) => Array.from({ length: count }, (_, i) => ({
    series: `day/${d}`, ns: BigInt(Date.UTC(2024, 0, d)) * 1000000n + BigInt(i) * 1000001n,
    type: 'int64', value: BigInt(d * 100 + i), unit: '' }));
  const hiveFiles = [];
  for (const [d, count] of [[1, 3], [2, 4]]) {
    const rows = day(d, count);
    const p = join(dir, 'hive', `date=2024-01-0${d}`, 'part-0.parquet');
    await writeWithDuckDB(conn, rows, p, '');
    writeFileSync(p.replace(/\.parquet$/, '.expected.jsonl'), expected(rows));
    hiveFiles.push(p);
  }

  // Files that break the schema: both readers must notice.
  mkdirSync(join(dir, 'bad'), { recursive: true });
  const notUtc = join(dir, 'bad', 'timestamp_not_utc.parquet');
  await conn.run(`COPY (SELECT 'a' AS series, make_timestamp(1::BIGINT) AS "timestamp", 0 AS timestamp_nanos, ` +
    `1.5::DOUBLE AS value_double, NULL::BIGINT AS value_int, NULL::BOOLEAN AS value_bool, NULL::BLOB AS value_bytes, ` +
    `'float64' AS type, '' AS unit) TO ${sqlString(notUtc)} (FORMAT parquet)`);
  const stray = join(dir, 'bad', 'stray_value.parquet');
  await conn.run(`COPY (SELECT 'a' AS series, make_timestamptz(1::BIGINT) AS "timestamp", 0 AS timestamp_nanos, ` +
    `1.5::DOUBLE AS value_double, 7::BIGINT AS value_int, NULL::BOOLEAN AS value_bool, NULL::BLOB AS value_bytes, ` +
    `'float64' AS type, '' AS unit) TO ${sqlString(stray)} (FORMAT parquet)`);
  return [join(dir, 'duckdb.parquet'), join(dir, 'arrow.parquet'), ...hiveFiles, notUtc, stray];
}

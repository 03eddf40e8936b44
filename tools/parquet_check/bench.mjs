#!/usr/bin/env node
// DuckDB's half of bench/lake_bench (see bench/README.md):
//
//   node bench.mjs DIR FROM_US TO_US REPEAT
//
// DIR/sluice/*.parquet are Sluice's files of one dataset. For each of them,
// DuckDB writes the same rows with the same schema into its own Parquet files:
// DIR/duckdb-v1 and DIR/duckdb-v2 at its best lossless settings (COMPRESSION
// zstd, COMPRESSION_LEVEL 22, PARQUET_VERSION V1 or V2) and DIR/duckdb-zstd at
// its default zstd level, one file per Sluice file. Then it times a scan with
// a time filter (timestamp in [FROM_US, TO_US), microseconds since the epoch,
// whole seconds)
// over Sluice's files and over DIR/duckdb-zstd, best of REPEAT in CPU seconds,
// one thread, and checks both give the same answer. Prints `key value` lines.

import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDuckDB, sqlString } from './lib/duckdb_reader.mjs';

const [dir, fromUs, toUs, repeatArg] = process.argv.slice(2);
if (!dir || !fromUs || !toUs) {
  process.stderr.write('usage: node bench.mjs DIR FROM_US TO_US REPEAT\n');
  process.exit(2);
}
const repeat = Math.max(1, Number(repeatArg ?? 5));
const sluiceDir = join(dir, 'sluice');
const names = readdirSync(sluiceDir).filter((n) => n.endsWith('.parquet')).sort();
const conn = await openDuckDB();

const list = (d) => `[${names.map((n) => sqlString(join(d, n))).join(', ')}]`;
const size = (d) => names.reduce((s, n) => s + statSync(join(d, n)).size, 0);
const out = (k, v) => process.stdout.write(`${k} ${v}\n`);

const variants = {
  'duckdb-v1': "COMPRESSION zstd, COMPRESSION_LEVEL 22, PARQUET_VERSION V1",
  'duckdb-v2': "COMPRESSION zstd, COMPRESSION_LEVEL 22, PARQUET_VERSION V2",
  'duckdb-zstd': "COMPRESSION zstd",
};
for (const [name, opts] of Object.entries(variants)) {
  const target = join(dir, name);
  mkdirSync(target, { recursive: true });
  for (const n of names) {
    await conn.run(
      `COPY (SELECT * FROM read_parquet(${sqlString(join(sluiceDir, n))}, hive_partitioning = false)) ` +
      `TO ${sqlString(join(target, n))} (FORMAT parquet, ${opts})`);
  }
  out(`${name}_bytes`, size(target));
}

const count = async (d) => {
  const r = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet(${list(d)})`);
  return r.getRowObjectsJS()[0].n;
};
out('sluice_rows', await count(sluiceDir));
out('duckdb_rows', await count(join(dir, 'duckdb-zstd')));

// The scan: a time filter and an aggregate over the values, so every matching
// value is decoded.
const scanSql = (d) =>
  `SELECT count(*)::BIGINT AS n, sum(value_double) AS s, min(value_double) AS lo, max(value_double) AS hi FROM read_parquet(${list(d)}, hive_partitioning = false) ` +
  `WHERE "timestamp" >= to_timestamp(${Number(fromUs) / 1e6}) AND "timestamp" < to_timestamp(${Number(toUs) / 1e6})`;
// CPU time of this process (DuckDB runs in it, on one thread), so that other
// work on the machine does not count against either side.
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const once = async (d) => {
  const t0 = cpu();
  const r = await conn.runAndReadAll(scanSql(d));
  return { dt: cpu() - t0, answer: r.getRowObjectsJS()[0] };
};
// Warm up both, then alternate so that neither is favoured by drift.
const ownDir = join(dir, 'duckdb-zstd');
await once(sluiceDir);
await once(ownDir);
const ours = { best: Infinity }, own = { best: Infinity };
for (let i = 0; i < repeat; i++) {
  for (const [acc, d] of [[ours, sluiceDir], [own, ownDir]]) {
    const r = await once(d);
    acc.best = Math.min(acc.best, r.dt);
    acc.answer = r.answer;
  }
}
// Sums may differ in the last bits: the two files cut row groups and pages
// at different rows, so DuckDB adds in a different order.
const a = ours.answer, b = own.answer;
const same = a.n === b.n && a.lo === b.lo && a.hi === b.hi &&
  Math.abs(a.s - b.s) <= 1e-9 * Math.max(1, Math.abs(b.s));
out('scan_rows', a.n);
out('scan_same_answer', same ? 1 : 0);
out('scan_sluice_s', ours.best.toFixed(6));
out('scan_duckdb_s', own.best.toFixed(6));

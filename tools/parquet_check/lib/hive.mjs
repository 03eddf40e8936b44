// `read.mjs hive`: a DuckDB query over a hive-partitioned tree
// (DIR/date=YYYY-MM-DD/...parquet), and which files DuckDB actually opened.
// The files are the view "t"; partition keys are columns (date is a DATE).
// The file counts come from EXPLAIN (ANALYZE, FORMAT json) of the same query:
// the READ_PARQUET scan's "Scanning Files" (kept/total after pruning),
// "Total Files Read" and "Filename(s)" (as DuckDB prints them: without
// pruning it prints no "Scanning Files" and the glob as the file name), and
// files_in_tree, this tool's own count of *.parquet files under DIR.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDuckDB, sqlString } from './duckdb_reader.mjs';

function findScans(node, out = []) {
  if (!node || typeof node !== 'object') return out;
  const info = node.extra_info ?? {};
  if (node.operator_name === 'READ_PARQUET' || info.Function === 'READ_PARQUET') out.push(info);
  for (const child of node.children ?? []) findScans(child, out);
  return out;
}

function countParquet(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.parquet')).length;
}

export async function hiveQuery(dir, sql) {
  const conn = await openDuckDB();
  const glob = join(dir, '**', '*.parquet');
  await conn.run(`CREATE VIEW t AS SELECT * FROM read_parquet(${sqlString(glob)}, hive_partitioning = true)`);
  const result = await conn.runAndReadAll(sql);
  const rows = result.getRowObjectsJson();

  const explain = await conn.runAndReadAll(`EXPLAIN (ANALYZE, FORMAT json) ${sql}`);
  const profile = JSON.parse(explain.getRows()[0][1]);
  const scans = findScans(profile).map((info) => {
    const [kept, total] = (info['Scanning Files'] ?? '').split('/').map((s) => (s ? Number(s) : null));
    const names = info['Filename(s)'];
    return {
      files_total: total ?? null,
      files_after_pruning: kept ?? null,
      files_read: info['Total Files Read'] !== undefined ? Number(info['Total Files Read']) : null,
      filenames: names === undefined ? null : String(names).split(/[,\n]\s*/).filter(Boolean),
      file_filters: info['File Filters'] ?? null,
      filters: info.Filters ?? null,
    };
  });
  return { rows, files_in_tree: countParquet(dir), scans };
}

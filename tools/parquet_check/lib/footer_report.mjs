// `read.mjs footer`: one JSON report per file. The top level of each column
// chunk is this tool's own decode of the footer bytes (thrift_footer.mjs), the
// only one of the three that sees the page indexes; beside it, under "duckdb"
// and "arrow", what DuckDB's parquet_metadata() and parquet-wasm's metadata
// API report for the same chunk. "disagreements" lists every field where the
// three differ (compression, encodings, value counts, null counts): a reader
// or writer bug either way.

import { readFooter } from './thrift_footer.mjs';
import { arrowFooter } from './arrow_reader.mjs';
import { openDuckDB, sqlString } from './duckdb_reader.mjs';

const sameSet = (a, b) => JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...new Set(b)].sort());

// DuckDB spells the deprecated PLAIN_DICTIONARY for what the footer may call
// either; compare dictionary encodings as one.
const normEncoding = (e) => (e === 'PLAIN_DICTIONARY' ? 'RLE_DICTIONARY' : e);

async function duckdbMetadata(conn, file) {
  const md = await conn.runAndReadAll(`SELECT * FROM parquet_metadata(${sqlString(file)}) ORDER BY row_group_id, column_id`);
  const schema = await conn.runAndReadAll(`SELECT * FROM parquet_schema(${sqlString(file)})`);
  const chunks = new Map();
  for (const r of md.getRowObjectsJson()) {
    chunks.set(`${r.row_group_id}/${r.column_id}`, {
      path: r.path_in_schema, physical_type: r.type, compression: r.compression,
      encodings: r.encodings ? r.encodings.split(',').map((s) => s.trim()) : [],
      num_values: r.num_values, stats_min_value: r.stats_min_value, stats_max_value: r.stats_max_value,
      stats_null_count: r.stats_null_count, stats_distinct_count: r.stats_distinct_count,
      min_is_exact: r.min_is_exact, max_is_exact: r.max_is_exact,
      dictionary_page_offset: r.dictionary_page_offset, data_page_offset: r.data_page_offset,
      total_compressed_size: r.total_compressed_size, total_uncompressed_size: r.total_uncompressed_size,
      bloom_filter_offset: r.bloom_filter_offset, bloom_filter_length: r.bloom_filter_length,
    });
  }
  const schemaRows = schema.getRowObjectsJson().map((r) => ({
    name: r.name, physical_type: r.type, repetition: r.repetition_type, converted_type: r.converted_type,
    logical_type: r.logical_type, duckdb_type: r.duckdb_type,
  }));
  return { chunks, schema: schemaRows };
}

export async function footerReport(file, { withPages = false } = {}) {
  const report = readFooter(file, { withPages });
  const conn = await openDuckDB();
  const duck = await duckdbMetadata(conn, file);
  const arrow = await arrowFooter(file);
  report.duckdb_schema = duck.schema;
  report.arrow_created_by = arrow.created_by;
  const disagreements = [];
  const differ = (where, field, values) => disagreements.push({ where, field, ...values });

  report.row_groups.forEach((rg, g) => {
    if (String(arrow.row_groups[g]?.num_rows) !== rg.num_rows)
      differ(`row group ${g}`, 'num_rows', { footer: rg.num_rows, arrow: arrow.row_groups[g]?.num_rows ?? null });
    rg.columns.forEach((col, c) => {
      const d = duck.chunks.get(`${g}/${c}`) ?? null;
      const a = arrow.row_groups[g]?.columns[c] ?? null;
      col.duckdb = d;
      col.arrow = a;
      const where = `row group ${g}, column ${col.path}`;
      if (!d || !a) { differ(where, 'presence', { duckdb: !!d, arrow: !!a }); return; }
      if (d.compression !== col.compression || a.compression !== col.compression)
        differ(where, 'compression', { footer: col.compression, duckdb: d.compression, arrow: a.compression });
      if (!sameSet(col.encodings, a.encodings) ||
          !sameSet(col.encodings.map(normEncoding), d.encodings.map(normEncoding)))
        differ(where, 'encodings', { footer: col.encodings, duckdb: d.encodings, arrow: a.encodings });
      if (d.num_values !== col.num_values || String(a.num_values) !== col.num_values)
        differ(where, 'num_values', { footer: col.num_values, duckdb: d.num_values, arrow: a.num_values });
      const nulls = col.statistics?.null_count ?? null;
      if ((d.stats_null_count ?? null) !== nulls)
        differ(where, 'null_count', { footer: nulls, duckdb: d.stats_null_count });
    });
  });
  report.disagreements = disagreements;
  return report;
}

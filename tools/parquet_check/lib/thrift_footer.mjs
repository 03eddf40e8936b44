// A third, library-free view of a Parquet file: the footer (FileMetaData),
// the page indexes and the page headers, decoded straight from the bytes with
// a small Thrift compact-protocol reader. Neither DuckDB's parquet_metadata()
// nor parquet-wasm says whether a column chunk has a column index or an
// offset index, and parquet-wasm gives no statistics at all; this does.
//
// Field ids are those of parquet-format's parquet.thrift. Unknown fields are
// skipped, so newer writers still decode.

import { openSync, readSync, fstatSync, closeSync } from 'node:fs';

// --- Thrift compact protocol -------------------------------------------------

const T = { STOP: 0, TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7,
            BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 };

class CompactReader {
  constructor(bytes, pos = 0) {
    this.b = bytes;
    this.pos = pos;
  }
  byte() {
    if (this.pos >= this.b.length) throw new Error(`thrift: truncated at byte ${this.pos}`);
    return this.b[this.pos++];
  }
  varint() {  // unsigned, as BigInt
    let v = 0n, shift = 0n;
    for (;;) {
      const x = this.byte();
      v |= BigInt(x & 0x7f) << shift;
      if (!(x & 0x80)) return v;
      shift += 7n;
      if (shift > 70n) throw new Error('thrift: varint too long');
    }
  }
  zigzag() {
    const u = this.varint();
    return (u >> 1n) ^ -(u & 1n);
  }
  value(type) {
    switch (type) {
      case T.TRUE: return true;
      case T.FALSE: return false;
      case T.BYTE: { const x = this.byte(); return x > 127 ? x - 256 : x; }
      case T.I16: case T.I32: return Number(this.zigzag());
      case T.I64: return this.zigzag();
      case T.DOUBLE: {
        const dv = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 8);
        this.pos += 8;
        return dv.getFloat64(0, true);
      }
      case T.BINARY: {
        const n = Number(this.varint());
        if (this.pos + n > this.b.length) throw new Error('thrift: binary past end');
        const out = this.b.subarray(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case T.LIST: case T.SET: {
        const h = this.byte();
        let n = h >> 4;
        const et = h & 0x0f;
        if (n === 15) n = Number(this.varint());
        const out = [];
        for (let i = 0; i < n; i++) {
          // Booleans inside a list are one byte each (1 = true).
          out.push(et === T.TRUE || et === T.FALSE ? this.byte() === 1 : this.value(et));
        }
        return out;
      }
      case T.MAP: {
        const n = Number(this.varint());
        const out = [];
        if (n === 0) return out;
        const kv = this.byte();
        for (let i = 0; i < n; i++) out.push([this.value(kv >> 4), this.value(kv & 0x0f)]);
        return out;
      }
      case T.STRUCT: return this.struct();
      default: throw new Error(`thrift: unknown type ${type} at byte ${this.pos}`);
    }
  }
  // A struct as {fieldId: value}.
  struct() {
    const out = {};
    let last = 0;
    for (;;) {
      const h = this.byte();
      const type = h & 0x0f;
      if (type === T.STOP) return out;
      const delta = h >> 4;
      const id = delta ? last + delta : Number(this.zigzag());
      last = id;
      out[id] = this.value(type);
    }
  }
}

// --- Parquet enums -----------------------------------------------------------

export const PHYSICAL = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY',
                         'FIXED_LEN_BYTE_ARRAY'];
export const ENCODING = ['PLAIN', 'GROUP_VAR_INT', 'PLAIN_DICTIONARY', 'RLE', 'BIT_PACKED',
                         'DELTA_BINARY_PACKED', 'DELTA_LENGTH_BYTE_ARRAY', 'DELTA_BYTE_ARRAY',
                         'RLE_DICTIONARY', 'BYTE_STREAM_SPLIT'];
export const CODEC = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];
const REPETITION = ['REQUIRED', 'OPTIONAL', 'REPEATED'];
const CONVERTED = ['UTF8', 'MAP', 'MAP_KEY_VALUE', 'LIST', 'ENUM', 'DECIMAL', 'DATE', 'TIME_MILLIS',
                   'TIME_MICROS', 'TIMESTAMP_MILLIS', 'TIMESTAMP_MICROS', 'UINT_8', 'UINT_16',
                   'UINT_32', 'UINT_64', 'INT_8', 'INT_16', 'INT_32', 'INT_64', 'JSON', 'BSON',
                   'INTERVAL'];
const PAGE_TYPE = ['DATA_PAGE', 'INDEX_PAGE', 'DICTIONARY_PAGE', 'DATA_PAGE_V2'];
const BOUNDARY = ['UNORDERED', 'ASCENDING', 'DESCENDING'];
const LOGICAL = { 1: 'STRING', 2: 'MAP', 3: 'LIST', 4: 'ENUM', 5: 'DECIMAL', 6: 'DATE', 7: 'TIME',
                  8: 'TIMESTAMP', 10: 'INTEGER', 11: 'UNKNOWN', 12: 'JSON', 13: 'BSON', 14: 'UUID',
                  15: 'FLOAT16', 16: 'VARIANT', 17: 'GEOMETRY', 18: 'GEOGRAPHY' };
const TIME_UNIT = { 1: 'MILLIS', 2: 'MICROS', 3: 'NANOS' };

const name = (table, v) => (v === undefined ? null : (table[v] ?? `UNKNOWN(${v})`));
const str = (b) => (b === undefined ? null : new TextDecoder('utf-8', { fatal: false }).decode(b));
const big = (v) => (v === undefined ? null : v.toString());
export const hex = (b) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

function logicalType(lt) {
  if (!lt) return null;
  const [id, body] = Object.entries(lt)[0] ?? [];
  const out = { kind: name(LOGICAL, id) };
  if (out.kind === 'TIMESTAMP' || out.kind === 'TIME') {
    out.is_adjusted_to_utc = body[1] ?? null;
    out.unit = body[2] ? name(TIME_UNIT, Object.keys(body[2])[0]) : null;
  } else if (out.kind === 'INTEGER') {
    out.bit_width = body[1] ?? null;
    out.is_signed = body[2] ?? null;
  } else if (out.kind === 'DECIMAL') {
    out.scale = body[1] ?? null;
    out.precision = body[2] ?? null;
  }
  return out;
}

// A statistics value (plain encoding of the physical type) in the canonical
// spelling of read.mjs: doubles as IEEE-754 bit patterns, 64-bit integers as
// decimal strings, strings as text, other bytes as hex.
export function statValue(bytes, physical, isString) {
  if (bytes === undefined || bytes === null) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  switch (physical) {
    case 'BOOLEAN': return bytes.length ? bytes[0] !== 0 : null;
    case 'INT32': return bytes.length === 4 ? dv.getInt32(0, true) : { hex: hex(bytes) };
    case 'INT64': return bytes.length === 8 ? dv.getBigInt64(0, true).toString() : { hex: hex(bytes) };
    case 'FLOAT': return bytes.length === 4 ? dv.getUint32(0, true).toString(16).padStart(8, '0') : { hex: hex(bytes) };
    case 'DOUBLE': return bytes.length === 8 ? dv.getBigUint64(0, true).toString(16).padStart(16, '0') : { hex: hex(bytes) };
    default: return isString ? str(bytes) : hex(bytes);
  }
}

function statistics(s, physical, isString) {
  if (!s) return null;
  return {
    min_value: statValue(s[6], physical, isString),
    max_value: statValue(s[5], physical, isString),
    null_count: big(s[3]),
    distinct_count: big(s[4]),
    is_min_value_exact: s[8] ?? null,
    is_max_value_exact: s[7] ?? null,
    // The deprecated signed-order min/max (fields 1, 2), present for old readers.
    legacy_min: statValue(s[2], physical, isString),
    legacy_max: statValue(s[1], physical, isString),
  };
}

// --- File access -------------------------------------------------------------

function readAt(fd, offset, length) {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) throw new Error(`short read at ${offset + done}`);
    done += n;
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, length);
}

function decodeAt(fd, offset, length) {
  return new CompactReader(readAt(fd, Number(offset), length)).struct();
}

function columnIndex(fd, offset, length, physical, isString) {
  const ci = decodeAt(fd, offset, length);
  const pages = (ci[1] ?? []).length;
  return {
    offset: offset.toString(), length, pages,
    boundary_order: name(BOUNDARY, ci[4]),
    null_pages: ci[1] ?? null,
    null_counts: ci[5] ? ci[5].map(String) : null,
    min_values: (ci[2] ?? []).map((b, i) => (ci[1][i] ? null : statValue(b, physical, isString))),
    max_values: (ci[3] ?? []).map((b, i) => (ci[1][i] ? null : statValue(b, physical, isString))),
  };
}

function offsetIndex(fd, offset, length) {
  const oi = decodeAt(fd, offset, length);
  return {
    offset: offset.toString(), length,
    pages: (oi[1] ?? []).map((p) => ({ offset: big(p[1]), compressed_page_size: p[2], first_row_index: big(p[3]) })),
  };
}

// Walks the page headers of one column chunk.
function pages(fd, md, physical, isString) {
  const start = md[11] !== undefined && md[11] > 0n && md[11] < md[9] ? md[11] : md[9];
  const end = start + md[7];
  const out = [];
  let pos = start;
  while (pos < end) {
    // A page header is small; 64 KiB covers any with page statistics we write.
    const want = Math.min(65536, Number(end - pos));
    const r = new CompactReader(readAt(fd, Number(pos), want));
    const h = r.struct();
    const p = { type: name(PAGE_TYPE, h[1]), uncompressed_size: h[2], compressed_size: h[3],
                crc: h[4] === undefined ? null : (h[4] >>> 0).toString(16).padStart(8, '0') };
    if (h[5]) Object.assign(p, { num_values: h[5][1], encoding: name(ENCODING, h[5][2]),
                                 statistics: statistics(h[5][5], physical, isString) });
    if (h[7]) Object.assign(p, { num_values: h[7][1], encoding: name(ENCODING, h[7][2]) });
    if (h[8]) Object.assign(p, { num_values: h[8][1], num_nulls: h[8][2], num_rows: h[8][3],
                                 encoding: name(ENCODING, h[8][4]), is_compressed: h[8][7] ?? true,
                                 statistics: statistics(h[8][8], physical, isString) });
    out.push(p);
    pos += BigInt(r.pos) + BigInt(h[3]);
  }
  return out;
}

// The whole footer of `path` as plain JSON-ready objects. With `withPages`,
// every page header of every column chunk too.
export function readFooter(path, { withPages = false } = {}) {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < 12) throw new Error(`${path}: ${size} bytes is too small for Parquet`);
    const tail = readAt(fd, size - 8, 8);
    const magic = Buffer.from(tail.subarray(4)).toString('latin1');
    const head = Buffer.from(readAt(fd, 0, 4)).toString('latin1');
    if (magic !== 'PAR1' || head !== 'PAR1') throw new Error(`${path}: no PAR1 magic (head ${JSON.stringify(head)}, tail ${JSON.stringify(magic)})`);
    const footerLen = new DataView(tail.buffer, tail.byteOffset).getUint32(0, true);
    const fmd = new CompactReader(readAt(fd, size - 8 - footerLen, footerLen)).struct();

    const schema = (fmd[2] ?? []).map((e) => ({
      name: str(e[4]), physical_type: name(PHYSICAL, e[1]), type_length: e[2] ?? null,
      repetition: name(REPETITION, e[3]), num_children: e[5] ?? null,
      converted_type: name(CONVERTED, e[6]), logical_type: logicalType(e[10]), field_id: e[9] ?? null,
    }));
    const leafByName = new Map(schema.filter((e) => e.num_children === null).map((e) => [e.name, e]));

    const rowGroups = (fmd[4] ?? []).map((rg, i) => ({
      index: i,
      num_rows: big(rg[3]),
      total_byte_size: big(rg[2]),
      total_compressed_size: big(rg[6]),
      ordinal: rg[7] ?? null,
      sorting_columns: rg[4] ? rg[4].map((s) => ({ column: s[1], descending: s[2], nulls_first: s[3] })) : null,
      columns: (rg[1] ?? []).map((cc) => {
        const md = cc[3] ?? {};
        const path = (md[3] ?? []).map(str);
        const physical = name(PHYSICAL, md[1]);
        const leaf = leafByName.get(path[path.length - 1]);
        const isString = !!leaf && (leaf.converted_type === 'UTF8' || leaf.logical_type?.kind === 'STRING');
        const col = {
          path: path.join('.'),
          physical_type: physical,
          compression: name(CODEC, md[4]),
          encodings: (md[2] ?? []).map((e) => name(ENCODING, e)),
          encoding_stats: md[13] ? md[13].map((s) => ({ page_type: name(PAGE_TYPE, s[1]), encoding: name(ENCODING, s[2]), count: s[3] })) : null,
          num_values: big(md[5]),
          total_uncompressed_size: big(md[6]),
          total_compressed_size: big(md[7]),
          data_page_offset: big(md[9]),
          dictionary_page_offset: big(md[11]),
          statistics: statistics(md[12], physical, isString),
          bloom_filter: md[14] !== undefined ? { offset: big(md[14]), length: md[15] ?? null } : null,
          column_index: cc[6] !== undefined && cc[7] !== undefined
            ? columnIndex(fd, cc[6], cc[7], physical, isString) : null,
          offset_index: cc[4] !== undefined && cc[5] !== undefined ? offsetIndex(fd, cc[4], cc[5]) : null,
        };
        if (withPages) col.pages = pages(fd, md, physical, isString);
        return col;
      }),
    }));

    return {
      file: path,
      file_size: size,
      footer_length: footerLen,
      version: fmd[1] ?? null,
      num_rows: big(fmd[3]),
      created_by: str(fmd[6]),
      key_value_metadata: (fmd[5] ?? []).map((kv) => ({ key: str(kv[1]), value: kv[2] === undefined ? null : str(kv[2]) })),
      column_orders: fmd[7] ? fmd[7].map((o) => (o[1] ? 'TYPE_ORDER' : 'UNKNOWN')) : null,
      schema,
      row_groups: rowGroups,
    };
  } finally {
    closeSync(fd);
  }
}

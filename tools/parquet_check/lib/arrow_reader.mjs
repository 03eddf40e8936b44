// Reader 2: arrow-rs's Parquet reader compiled to WebAssembly (parquet-wasm),
// handed to Arrow JS (apache-arrow) as an Arrow IPC stream.
//
// 64-bit columns are read from their BigInt64Array buffers, not through
// Vector.get (which turns a timestamp into milliseconds as a JS number), and
// doubles as the bits of their Float64Array.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tableFromIPC, Type, TimeUnit } from 'apache-arrow';

// The Node build of parquet-wasm is CommonJS and loads its .wasm synchronously.
const require = createRequire(import.meta.url);
const parquetWasm = require('parquet-wasm');

const UNIT_NAME = { [TimeUnit.SECOND]: 's', [TimeUnit.MILLISECOND]: 'ms',
                    [TimeUnit.MICROSECOND]: 'us', [TimeUnit.NANOSECOND]: 'ns' };

const isString = (t) => [Type.Utf8, Type.LargeUtf8, Type.Utf8View].includes(t.typeId);
const isBinary = (t) => [Type.Binary, Type.LargeBinary, Type.BinaryView].includes(t.typeId);

const EXPECTED = {
  series: [isString, 'utf8'],
  timestamp: [(t) => t.typeId === Type.Timestamp && t.unit === TimeUnit.MICROSECOND &&
                     (t.timezone === 'UTC' || t.timezone === '+00:00'), 'timestamp[us, tz=UTC]'],
  timestamp_nanos: [(t) => t.typeId === Type.Int && t.bitWidth === 32 && t.isSigned, 'int32'],
  value_double: [(t) => t.typeId === Type.Float && t.precision === 2, 'float64'],
  value_int: [(t) => t.typeId === Type.Int && t.bitWidth === 64 && t.isSigned, 'int64'],
  value_bool: [(t) => t.typeId === Type.Bool, 'bool'],
  value_bytes: [isBinary, 'binary'],
  type: [isString, 'utf8'],
  unit: [isString, 'utf8'],
};

function describe(t) {
  if (t.typeId === Type.Timestamp) return `timestamp[${UNIT_NAME[t.unit]}, tz=${t.timezone}]`;
  return String(t);
}

function checkSchema(file, schema) {
  const got = new Map(schema.fields.map((f) => [f.name, f.type]));
  const problems = [];
  for (const [col, [ok, want]] of Object.entries(EXPECTED)) {
    if (!got.has(col)) problems.push(`missing column ${col}`);
    else if (!ok(got.get(col))) problems.push(`${col} is ${describe(got.get(col))}, expected ${want}`);
  }
  for (const col of got.keys()) if (!(col in EXPECTED)) problems.push(`unexpected column ${col}`);
  if (problems.length) throw new Error(`${file}: schema (arrow): ${problems.join('; ')}`);
}

// Row i of one Arrow Data chunk of a 64-bit column, or null. A sliced Data
// keeps `offset` for its validity bitmap but has `values` already sliced.
function big64(data, i) {
  return data.getValid(i) ? data.values[i] : null;
}

function doubleBits(data, i) {
  if (!data.getValid(i)) return null;
  const f = data.values;
  return new BigUint64Array(f.buffer, f.byteOffset, f.length)[i];
}

export function readArrowTable(file) {
  const wasmTable = parquetWasm.readParquet(new Uint8Array(readFileSync(file)));
  return tableFromIPC(wasmTable.intoIPCStream());
}

// Calls `emit(row)` for every row of every file, files in the order given.
export async function readRowsArrow(files, emit) {
  for (const file of files) {
    const table = readArrowTable(file);
    checkSchema(file, table.schema);
    for (const batch of table.batches) {
      const col = (name) => batch.getChild(name);
      const series = col('series'), ts = col('timestamp'), nanos = col('timestamp_nanos');
      const dbl = col('value_double'), int = col('value_int'), bool = col('value_bool');
      const bytes = col('value_bytes'), type = col('type'), unit = col('unit');
      // A record batch column has a single Data chunk.
      const [tsData] = ts.data, [dblData] = dbl.data, [intData] = int.data;
      for (let i = 0; i < batch.numRows; i++) {
        const b = bytes.get(i);
        emit({
          series: series.get(i),
          micros: big64(tsData, i),
          nanos: nanos.get(i),
          doubleBits: doubleBits(dblData, i),
          int: big64(intData, i),
          bool: bool.get(i),
          bytes: b === null ? null : b,
          type: type.get(i),
          unit: unit.get(i),
        });
      }
    }
  }
}

// What parquet-wasm's metadata API says of each column chunk: compression
// and encodings (it exposes no statistics and no page-index offsets).
export async function arrowFooter(file) {
  const pf = await parquetWasm.ParquetFile.fromFile(new Blob([readFileSync(file)]));
  const md = pf.metadata();
  const fmd = md.fileMetadata();
  const compressionName = (c) => parquetWasm.Compression[c] ?? `UNKNOWN(${c})`;
  const encodingName = (e) => parquetWasm.Encoding?.[e] ?? `UNKNOWN(${e})`;
  return {
    created_by: fmd.createdBy() ?? null,
    num_rows: fmd.numRows(),
    row_groups: md.rowGroups().map((rg) => ({
      num_rows: rg.numRows(),
      columns: rg.columns().map((c) => ({
        path: c.columnPath().join('.'),
        compression: compressionName(c.compression()),
        encodings: c.encodings().map(encodingName),
        num_values: c.numValues(),
        total_compressed_size: c.compressedSize(),
        total_uncompressed_size: c.uncompressedSize(),
      })),
    })),
  };
}

// The canonical line both readers print, so that `diff` compares them, and
// `sluice export` output converted to it, bit for bit.
//
//   {"series":"a/b","timestamp_ns":"1704067200123456789","type":"float64","value":"3ff8000000000000","unit":"C"}
//
//   timestamp_ns  decimal string: timestamp (micros) * 1000 + timestamp_nanos
//   value         float64: 16 lower-case hex digits of the IEEE-754 bits
//                 (NaN payloads, -0.0 and infinities compare exactly);
//                 int64: decimal string; bool: true | false;
//                 bytes: lower-case hex string; null when the typed column is null.
//   unit          left out with --no-unit (`sluice export` has no unit).
//
// A value in a column that does not match `type` is a writer bug: it is
// shown under "stray" (column name to canonical value), never dropped.
// A timestamp_nanos outside 0..999 is shown as "bad_nanos" with its value.

// Raw row, as each reader hands it over (no lossy conversion on the way):
//   series, type, unit: string | null
//   micros: bigint | null     timestamp column, micros since the epoch
//   nanos: number | null      timestamp_nanos column
//   doubleBits: bigint | null unsigned 64-bit pattern of value_double
//   int: bigint | null        value_int
//   bool: boolean | null      value_bool
//   bytes: Uint8Array | null  value_bytes

export const COLUMNS = ['series', 'timestamp', 'timestamp_nanos', 'value_double', 'value_int',
                        'value_bool', 'value_bytes', 'type', 'unit'];

const TYPED_COLUMN = { float64: 'value_double', int64: 'value_int', bool: 'value_bool', bytes: 'value_bytes' };

export const doubleHex = (bits) => bits.toString(16).padStart(16, '0');
export const bytesHex = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function columnValues(row) {
  return {
    value_double: row.doubleBits === null ? null : doubleHex(row.doubleBits),
    value_int: row.int === null ? null : row.int.toString(),
    value_bool: row.bool,
    value_bytes: row.bytes === null ? null : bytesHex(row.bytes),
  };
}

export function canonicalLine(row, { unit = true } = {}) {
  const values = columnValues(row);
  const typed = TYPED_COLUMN[row.type];
  const out = {
    series: row.series,
    timestamp_ns: row.micros === null || row.nanos === null
      ? null : (row.micros * 1000n + BigInt(row.nanos)).toString(),
    type: row.type,
    value: typed ? values[typed] : null,
  };
  if (unit) out.unit = row.unit;
  const stray = {};
  for (const [col, v] of Object.entries(values)) if (col !== typed && v !== null) stray[col] = v;
  if (Object.keys(stray).length) out.stray = stray;
  if (row.nanos !== null && (row.nanos < 0 || row.nanos > 999)) out.bad_nanos = row.nanos;
  return JSON.stringify(out);
}

// --- `sluice export --format jsonl` to canonical lines -----------------------

// JSON.parse turns 9223372036854775807 into a double; this parser keeps every
// number as its source text. Enough JSON for export lines (objects, strings,
// numbers, true/false/null).
function parseKeepingNumbers(text) {
  let i = 0;
  const ws = () => { while (/\s/.test(text[i] ?? '')) i++; };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; const o = {}; ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws(); const k = value(); ws();
        if (text[i++] !== ':') throw new Error(`expected ':' at ${i - 1}`);
        o[k] = value(); ws();
        const d = text[i++];
        if (d === '}') return o;
        if (d !== ',') throw new Error(`expected ',' or '}' at ${i - 1}`);
      }
    }
    if (c === '"') {
      const start = i++;
      while (text[i] !== '"') { if (text[i] === '\\') i++; i++; if (i > text.length) throw new Error('open string'); }
      i++;
      return JSON.parse(text.slice(start, i));
    }
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) throw new Error(`unexpected ${JSON.stringify(text.slice(i, i + 10))} at ${i}`);
    i += m[0].length;
    if (m[0] === 'true') return true;
    if (m[0] === 'false') return false;
    if (m[0] === 'null') return null;
    return { number: m[0] };
  };
  const v = value(); ws();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return v;
}

function exportDoubleBits(v) {
  const dv = new DataView(new ArrayBuffer(8));
  if (typeof v === 'object' && v !== null) {  // a finite number, as its shortest decimal
    dv.setFloat64(0, Number(v.number));       // correctly rounded: the exact double back
    return dv.getBigUint64(0);
  }
  if (v === 'Infinity') return 0x7ff0000000000000n;
  if (v === '-Infinity') return 0xfff0000000000000n;
  if (v === 'NaN') return 0x7ff8000000000000n;
  const m = /^NaN\(0x([0-9a-fA-F]{16})\)$/.exec(v);
  if (m) return BigInt('0x' + m[1]);
  throw new Error(`float64 value ${JSON.stringify(v)}`);
}

// One export line to a canonical line (without unit: the export has none).
export function canonicalFromExport(line) {
  const o = parseKeepingNumbers(line);
  const row = { series: o.series, micros: null, nanos: null, doubleBits: null, int: null, bool: null,
                bytes: null, type: o.type, unit: null };
  const ns = BigInt(o.timestamp_ns.number);
  // Floor division, so that 0 <= nanos <= 999 as in the Parquet schema.
  row.micros = ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n);
  row.nanos = Number(ns - row.micros * 1000n);
  if (o.value !== null) {
    switch (o.type) {
      case 'float64': row.doubleBits = exportDoubleBits(o.value); break;
      case 'int64': row.int = BigInt(o.value.number); break;
      case 'bool': row.bool = o.value; break;
      case 'bytes': row.bytes = new Uint8Array(Buffer.from(o.value, 'base64')); break;
      default: throw new Error(`unknown type ${JSON.stringify(o.type)}`);
    }
  }
  return canonicalLine(row, { unit: false });
}

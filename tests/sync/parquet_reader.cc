#include "parquet_reader.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "chunk_compression.h"

namespace sluice::sync::testing {

namespace {

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error("parquet: " + what); }

class Bytes {
 public:
  explicit Bytes(std::string_view d) : d_(d) {}
  std::uint8_t Byte() {
    if (pos_ >= d_.size()) Fail("read past the end");
    return static_cast<std::uint8_t>(d_[pos_++]);
  }
  std::uint64_t Uleb() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      const std::uint8_t b = Byte();
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    Fail("varint too long");
  }
  std::int64_t Zigzag() {
    const std::uint64_t u = Uleb();
    return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
  }
  std::string_view Take(std::size_t n) {
    if (n > d_.size() - pos_) Fail("short read of " + std::to_string(n));
    std::string_view s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::uint32_t U32() {
    std::uint32_t v;
    std::memcpy(&v, Take(4).data(), 4);
    return v;
  }
  std::size_t pos() const { return pos_; }
  std::size_t left() const { return d_.size() - pos_; }

 private:
  std::string_view d_;
  std::size_t pos_ = 0;
};

// --- Thrift compact protocol --------------------------------------------

TValue ReadValue(Bytes& in, int type);

TValue ReadStruct(Bytes& in) {
  TValue v;
  v.kind = TValue::Kind::kStruct;
  std::int16_t last = 0;
  for (;;) {
    const std::uint8_t h = in.Byte();
    if (h == 0) return v;
    const int type = h & 0x0f;
    const int delta = h >> 4;
    const auto id = static_cast<std::int16_t>(delta != 0 ? last + delta : in.Zigzag());
    if (type == 1 || type == 2) {
      TValue b;
      b.kind = TValue::Kind::kBool;
      b.b = type == 1;
      v.fields[id] = b;
    } else {
      v.fields[id] = ReadValue(in, type);
    }
    last = id;
  }
}

TValue ReadValue(Bytes& in, int type) {
  TValue v;
  switch (type) {
    case 1:
    case 2:  // bool inside a list: one byte
      v.kind = TValue::Kind::kBool;
      v.b = in.Byte() == 1;
      return v;
    case 3:
      v.i = static_cast<std::int8_t>(in.Byte());
      return v;
    case 4:
    case 5:
    case 6:
      v.i = in.Zigzag();
      return v;
    case 7: {
      v.kind = TValue::Kind::kDouble;
      std::memcpy(&v.d, in.Take(8).data(), 8);
      return v;
    }
    case 8:
      v.kind = TValue::Kind::kBinary;
      v.bin = std::string(in.Take(in.Uleb()));
      return v;
    case 9:
    case 10: {
      v.kind = TValue::Kind::kList;
      const std::uint8_t h = in.Byte();
      std::uint64_t n = h >> 4;
      if (n == 15) n = in.Uleb();
      for (std::uint64_t k = 0; k < n; ++k) v.list.push_back(ReadValue(in, h & 0x0f));
      return v;
    }
    case 12:
      return ReadStruct(in);
    default:
      Fail("thrift type " + std::to_string(type) + " not expected in parquet metadata");
  }
}

// --- Encodings -------------------------------------------------------------

std::vector<std::uint64_t> ReadBitPacked(Bytes& in, std::size_t n, int width) {
  std::vector<std::uint64_t> out(n);
  const std::string_view bytes = in.Take((n * static_cast<std::size_t>(width) + 7) / 8);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t v = 0;
    for (int b = 0; b < width; ++b) {
      const std::size_t bit = i * static_cast<std::size_t>(width) + static_cast<std::size_t>(b);
      if ((static_cast<std::uint8_t>(bytes[bit / 8]) >> (bit % 8)) & 1) v |= std::uint64_t{1} << b;
    }
    out[i] = v;
  }
  return out;
}

std::vector<std::uint64_t> ReadRleHybrid(Bytes& in, std::size_t n, int width) {
  std::vector<std::uint64_t> out;
  while (out.size() < n) {
    const std::uint64_t h = in.Uleb();
    if (h & 1) {
      const std::size_t count = (h >> 1) * 8;
      if (count == 0) Fail("empty bit-packed run");
      for (std::uint64_t v : ReadBitPacked(in, count, width)) {
        if (out.size() < n) out.push_back(v);
      }
    } else {
      const std::size_t count = h >> 1;
      if (count == 0) Fail("empty rle run");
      std::uint64_t v = 0;
      for (int b = 0; b < (width + 7) / 8; ++b) v |= static_cast<std::uint64_t>(in.Byte()) << (8 * b);
      if (width < 64 && v >> width) Fail("rle value wider than its bit width");
      for (std::size_t k = 0; k < count && out.size() < n; ++k) out.push_back(v);
      if (out.size() == n && count > 0 && in.left() > 0) {
        // a run may not run past the values the page holds
      }
    }
  }
  return out;
}

// Returns the values as 64-bit; `bits` 32 or 64 is the physical width.
std::vector<std::int64_t> ReadDeltaBinaryPacked(Bytes& in, int bits) {
  const std::uint64_t block = in.Uleb();
  const std::uint64_t minis = in.Uleb();
  const std::uint64_t total = in.Uleb();
  std::int64_t first = in.Zigzag();
  if (block == 0 || block % 128 != 0 || minis == 0 || block % minis != 0 ||
      (block / minis) % 32 != 0) {
    Fail("bad delta header");
  }
  std::vector<std::int64_t> out;
  if (total == 0) return out;
  out.push_back(first);
  const std::uint64_t per_mini = block / minis;
  std::uint64_t prev = static_cast<std::uint64_t>(first);
  while (out.size() < total) {
    const std::int64_t min_delta = in.Zigzag();
    std::vector<int> widths(minis);
    for (auto& w : widths) {
      w = in.Byte();
      if (w > bits) Fail("miniblock wider than the type");
    }
    for (std::uint64_t m = 0; m < minis && out.size() < total; ++m) {
      for (std::uint64_t rel : ReadBitPacked(in, per_mini, widths[m])) {
        if (out.size() == total) break;
        std::uint64_t next = prev + static_cast<std::uint64_t>(min_delta) + rel;
        if (bits == 32) {
          next = static_cast<std::uint64_t>(
              static_cast<std::int64_t>(static_cast<std::int32_t>(static_cast<std::uint32_t>(next))));
        }
        out.push_back(static_cast<std::int64_t>(next));
        prev = next;
      }
    }
  }
  return out;
}

std::vector<std::string> ReadDeltaLength(Bytes& in, std::size_t n) {
  std::vector<std::int64_t> lengths = ReadDeltaBinaryPacked(in, 32);
  if (lengths.size() != n) Fail("delta length count differs");
  std::vector<std::string> out;
  for (std::int64_t len : lengths) {
    if (len < 0) Fail("negative length");
    out.emplace_back(in.Take(static_cast<std::size_t>(len)));
  }
  return out;
}

// --- Pages -----------------------------------------------------------------

// PLAIN values of a physical type, appended to `out` (or to `dict`).
void ReadPlain(Bytes& in, int type, std::size_t n, ColumnValues* out) {
  switch (type) {
    case 0: {  // BOOLEAN
      for (std::uint64_t v : ReadBitPacked(in, n, 1)) out->booleans.push_back(static_cast<std::uint8_t>(v));
      return;
    }
    case 1:
      for (std::size_t i = 0; i < n; ++i) out->i32.push_back(static_cast<std::int32_t>(in.U32()));
      return;
    case 2:
      for (std::size_t i = 0; i < n; ++i) {
        std::int64_t v;
        std::memcpy(&v, in.Take(8).data(), 8);
        out->i64.push_back(v);
      }
      return;
    case 5:
      for (std::size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, in.Take(8).data(), 8);
        out->f64.push_back(v);
      }
      return;
    case 6:
      for (std::size_t i = 0; i < n; ++i) out->bytes.emplace_back(in.Take(in.U32()));
      return;
    default:
      Fail("physical type " + std::to_string(type));
  }
}

void ReadValues(Bytes& in, int type, int encoding, std::size_t n, const ColumnValues& dict,
                std::size_t dict_size, ColumnValues* out) {
  switch (encoding) {
    case 0:
      ReadPlain(in, type, n, out);
      break;
    case 8: {  // RLE_DICTIONARY
      if (dict_size == 0 && n > 0) Fail("dictionary-encoded page without a dictionary");
      const int width = in.Byte();  // present even when the page has no values
      if (width > 32) Fail("index width above 32");
      for (std::uint64_t k : ReadRleHybrid(in, n, width)) {
        if (k >= dict_size) Fail("dictionary index out of range");
        switch (type) {
          case 1: out->i32.push_back(dict.i32[k]); break;
          case 2: out->i64.push_back(dict.i64[k]); break;
          case 5: out->f64.push_back(dict.f64[k]); break;
          case 6: out->bytes.push_back(dict.bytes[k]); break;
          default: Fail("dictionary for type " + std::to_string(type));
        }
      }
      break;
    }
    case 5: {  // DELTA_BINARY_PACKED
      if (type != 1 && type != 2) Fail("delta on a non-integer");
      std::vector<std::int64_t> v = ReadDeltaBinaryPacked(in, type == 1 ? 32 : 64);
      if (v.size() != n) Fail("delta count " + std::to_string(v.size()) + " != " + std::to_string(n));
      for (std::int64_t x : v) {
        if (type == 1) {
          out->i32.push_back(static_cast<std::int32_t>(x));
        } else {
          out->i64.push_back(x);
        }
      }
      break;
    }
    case 6: {  // DELTA_LENGTH_BYTE_ARRAY
      if (type != 6) Fail("delta length on a non-byte-array");
      for (std::string& s : ReadDeltaLength(in, n)) out->bytes.push_back(std::move(s));
      break;
    }
    case 7: {  // DELTA_BYTE_ARRAY
      if (type != 6) Fail("delta strings on a non-byte-array");
      std::vector<std::int64_t> prefixes = ReadDeltaBinaryPacked(in, 32);
      if (prefixes.size() != n) Fail("prefix count differs");
      std::vector<std::string> suffixes = ReadDeltaLength(in, n);
      std::string prev;
      for (std::size_t i = 0; i < n; ++i) {
        if (prefixes[i] < 0 || static_cast<std::size_t>(prefixes[i]) > prev.size()) {
          Fail("prefix longer than the previous value");
        }
        std::string v = prev.substr(0, static_cast<std::size_t>(prefixes[i])) + suffixes[i];
        out->bytes.push_back(v);
        prev = std::move(v);
      }
      break;
    }
    case 9: {  // BYTE_STREAM_SPLIT
      if (type != 5) Fail("byte stream split on a non-double");
      const std::string_view all = in.Take(8 * n);
      for (std::size_t i = 0; i < n; ++i) {
        char b[8];
        for (std::size_t k = 0; k < 8; ++k) b[k] = all[k * n + i];
        double v;
        std::memcpy(&v, b, 8);
        out->f64.push_back(v);
      }
      break;
    }
    case 3: {  // RLE booleans: 4-byte length, then the hybrid with width 1
      if (type != 0) Fail("RLE values on a non-boolean");
      const std::uint32_t len = in.U32();
      Bytes body(in.Take(len));
      for (std::uint64_t v : ReadRleHybrid(body, n, 1)) out->booleans.push_back(static_cast<std::uint8_t>(v));
      break;
    }
    default:
      Fail("encoding " + std::to_string(encoding));
  }
  if (in.left() != 0) Fail("bytes left after the values of a page");
}

std::string Decompress(int codec, std::string_view stored, std::size_t raw) {
  if (codec == 0) {
    if (stored.size() != raw) Fail("uncompressed page of the wrong size");
    return std::string(stored);
  }
  if (codec != 6) Fail("codec " + std::to_string(codec));
  Result<std::string> r = codec::DecompressChunk(stored, raw);
  if (!r.ok()) Fail(r.status().ToString());
  return std::move(r).value();
}

}  // namespace

const TValue& TValue::operator[](std::int16_t id) const {
  auto it = fields.find(id);
  if (it == fields.end()) Fail("missing field " + std::to_string(id));
  return it->second;
}

TValue DecodeThriftStruct(std::string_view data, std::size_t* used) {
  Bytes in(data);
  TValue v = ReadStruct(in);
  *used = in.pos();
  return v;
}

ParquetFileSeen ReadParquetFile(std::string_view file) {
  if (file.size() < 12 || file.substr(0, 4) != "PAR1" || file.substr(file.size() - 4) != "PAR1") {
    Fail("no PAR1 magic");
  }
  std::uint32_t footer_len;
  std::memcpy(&footer_len, file.data() + file.size() - 8, 4);
  if (footer_len > file.size() - 12) Fail("footer length");
  const std::size_t footer_at = file.size() - 8 - footer_len;
  ParquetFileSeen f;
  std::size_t used = 0;
  f.footer = DecodeThriftStruct(file.substr(footer_at, footer_len), &used);
  if (used != footer_len) Fail("footer length differs from its struct");

  const std::vector<TValue>& schema = f.footer[2].list;
  if (schema.empty() || schema[0][5].i != static_cast<std::int64_t>(schema.size() - 1)) {
    Fail("schema root");
  }
  std::vector<int> types;
  std::vector<bool> optional;
  for (std::size_t i = 1; i < schema.size(); ++i) {
    f.column_names.push_back(schema[i][4].bin);
    types.push_back(static_cast<int>(schema[i][1].i));
    optional.push_back(schema[i][3].i == 1);
  }
  f.columns.resize(types.size());
  for (std::size_t c = 0; c < types.size(); ++c) f.columns[c].physical_type = types[c];
  if (f.footer.Has(5)) {
    for (const TValue& kv : f.footer[5].list) f.key_value[kv[1].bin] = kv.Has(2) ? kv[2].bin : "";
  }

  std::int64_t total_rows = 0;
  for (const TValue& rg : f.footer[4].list) {
    const std::int64_t rows = rg[3].i;
    total_rows += rows;
    std::vector<ChunkSeen> chunks;
    if (rg[1].list.size() != types.size()) Fail("row group column count");
    for (std::size_t c = 0; c < types.size(); ++c) {
      ChunkSeen ch;
      ch.column_chunk = rg[1].list[c];
      const TValue& md = ch.column_chunk[3];
      if (md[1].i != types[c]) Fail("chunk type differs from the schema");
      if (md[3].list.size() != 1 || md[3].list[0].bin != f.column_names[c]) Fail("path_in_schema");
      if (md[5].i != rows) Fail("chunk num_values differs from the row group's rows");
      const int codec = static_cast<int>(md[4].i);
      std::int64_t pos = md.Has(11) ? md[11].i : md[9].i;
      if (md.Has(11) && md[11].i >= md[9].i) Fail("dictionary page after the data pages");
      std::int64_t rows_seen = 0, compressed_total = 0;
      ColumnValues dict;
      dict.physical_type = types[c];
      ColumnValues& col = f.columns[c];
      while (rows_seen < rows) {
        if (pos < 0 || static_cast<std::size_t>(pos) >= footer_at) Fail("page offset");
        std::size_t hl = 0;
        const TValue ph = DecodeThriftStruct(file.substr(static_cast<std::size_t>(pos), footer_at - static_cast<std::size_t>(pos)), &hl);
        const int ptype = static_cast<int>(ph[1].i);
        const auto raw_size = static_cast<std::size_t>(ph[2].i);
        const auto stored_size = static_cast<std::size_t>(ph[3].i);
        const std::string_view stored = file.substr(static_cast<std::size_t>(pos) + hl, stored_size);
        if (stored.size() != stored_size) Fail("page runs past the file");
        compressed_total += static_cast<std::int64_t>(hl + stored_size);
        if (ptype == 2) {
          if (ch.has_dictionary || !ch.data_pages.empty()) Fail("dictionary page not first");
          if (pos != md[11].i) Fail("dictionary_page_offset");
          const TValue& dh = ph[7];
          if (dh[2].i != 0 && dh[2].i != 2) Fail("dictionary page encoding");
          const std::string body = Decompress(codec, stored, raw_size);
          Bytes in(body);
          ReadPlain(in, types[c], static_cast<std::size_t>(dh[1].i), &dict);
          if (in.left() != 0) Fail("bytes after the dictionary");
          ch.has_dictionary = true;
          ch.dictionary_entries = dh[1].i;
        } else if (ptype == 0 || ptype == 3) {
          if (ch.data_pages.empty() && pos != md[9].i) Fail("data_page_offset");
          PageSeen p;
          p.page_type = ptype;
          p.offset = pos;
          p.total_size = static_cast<std::int64_t>(hl + stored_size);
          p.first_row = rows_seen;
          std::vector<std::uint8_t> defs;
          std::string values;
          if (ptype == 0) {
            const TValue& dp = ph[5];
            p.rows = dp[1].i;
            p.encoding = static_cast<int>(dp[2].i);
            const std::string body = Decompress(codec, stored, raw_size);
            Bytes in(body);
            if (optional[c]) {
              Bytes lv(in.Take(in.U32()));
              for (std::uint64_t d : ReadRleHybrid(lv, static_cast<std::size_t>(p.rows), 1)) defs.push_back(static_cast<std::uint8_t>(d));
            } else {
              defs.assign(static_cast<std::size_t>(p.rows), 1);
            }
            values = std::string(in.Take(in.left()));
          } else {
            const TValue& dp = ph[8];
            p.rows = dp[1].i;
            if (dp[3].i != p.rows) Fail("v2 num_rows differs from num_values (flat)");
            p.encoding = static_cast<int>(dp[4].i);
            const auto def_len = static_cast<std::size_t>(dp[5].i);
            if (dp[6].i != 0) Fail("repetition levels in a flat column");
            Bytes lv(stored.substr(0, def_len));
            if (optional[c]) {
              for (std::uint64_t d : ReadRleHybrid(lv, static_cast<std::size_t>(p.rows), 1)) defs.push_back(static_cast<std::uint8_t>(d));
            } else {
              if (def_len != 0) Fail("levels in a required column");
              defs.assign(static_cast<std::size_t>(p.rows), 1);
            }
            const bool compressed = !dp.Has(7) || dp[7].b;
            values = compressed ? Decompress(codec, stored.substr(def_len), raw_size - def_len)
                                : std::string(stored.substr(def_len));
            const std::int64_t present = static_cast<std::int64_t>(std::count(defs.begin(), defs.end(), 1));
            if (dp[2].i != p.rows - present) Fail("v2 num_nulls");
          }
          std::size_t present = 0;
          for (std::uint8_t d : defs) present += d;
          p.nulls = p.rows - static_cast<std::int64_t>(present);
          Bytes vin(values);
          ReadValues(vin, types[c], p.encoding, present, dict, static_cast<std::size_t>(ch.dictionary_entries), &col);
          col.defined.insert(col.defined.end(), defs.begin(), defs.end());
          rows_seen += p.rows;
          ch.data_pages.push_back(p);
        } else {
          Fail("page type " + std::to_string(ptype));
        }
        pos += static_cast<std::int64_t>(hl + stored_size);
      }
      if (rows_seen != rows) Fail("pages hold more rows than the row group");
      if (compressed_total != md[7].i) Fail("total_compressed_size");
      if (ch.column_chunk.Has(4)) {
        const auto at = static_cast<std::size_t>(ch.column_chunk[4].i);
        const auto len = static_cast<std::size_t>(ch.column_chunk[5].i);
        ch.offset_index = DecodeThriftStruct(file.substr(at, len), &used);
        if (used != len) Fail("offset index length");
      }
      if (ch.column_chunk.Has(6)) {
        const auto at = static_cast<std::size_t>(ch.column_chunk[6].i);
        const auto len = static_cast<std::size_t>(ch.column_chunk[7].i);
        ch.column_index = DecodeThriftStruct(file.substr(at, len), &used);
        if (used != len) Fail("column index length");
        ch.has_column_index = true;
      }
      chunks.push_back(std::move(ch));
    }
    f.chunks.push_back(std::move(chunks));
  }
  if (total_rows != f.footer[3].i) Fail("num_rows differs from the row groups' sum");
  return f;
}

}  // namespace sluice::sync::testing

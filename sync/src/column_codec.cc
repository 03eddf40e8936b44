#include "column_codec.h"

#include <algorithm>
#include <optional>

#include "float_codec.h"
#include "int_codec.h"
#include "misc_codec.h"

namespace sluice::sync::codec {

std::vector<Candidate> TimestampCandidates(std::span<const std::int64_t> ts) {
  std::vector<Candidate> out;
  for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference}) {
    Candidate c{ChunkCodec::kTimestampDeltaOfDelta, {}};
    EncodeTimestamps(ts, p, &c.raw);
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

// With `all_packings` (the writer compresses every candidate) the decimal
// integers are offered in both packings: byte-aligned varints often lose
// before zstd and win after it, as quantised sensors repeat byte patterns.
std::vector<Candidate> FloatCandidates(const std::vector<double>& v, bool all_packings) {
  std::vector<Candidate> out;
  const int e = ChooseDecimalExponent(v);
  std::vector<std::optional<IntPacking>> packings = {std::nullopt};
  if (all_packings) packings = {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference};
  for (IntTransform t : {IntTransform::kDelta, IntTransform::kNone}) {
    std::size_t exceptions = 0;
    for (auto p : packings) {
      Candidate c{ChunkCodec::kFloatDecimal, {}};
      exceptions = EncodeFloatDecimal(v, e, t, p, &c.raw);
      out.push_back(std::move(c));
    }
    // Mostly exceptions: not decimal data; the other transform won't help.
    if (exceptions * 2 > v.size()) break;
  }
  Candidate x{ChunkCodec::kFloatXor, {}};
  EncodeFloatXor(v, &x.raw);
  out.push_back(std::move(x));
  Candidate r{ChunkCodec::kFloatRaw, {}};
  EncodeFloatRaw(v, &r.raw);
  out.push_back(std::move(r));
  return out;
}

std::vector<Candidate> IntCandidates(const std::vector<std::int64_t>& v) {
  std::vector<Candidate> out;
  for (IntTransform t : {IntTransform::kDelta, IntTransform::kNone}) {
    for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference}) {
      Candidate c{ChunkCodec::kIntPacked, {}};
      EncodeInt64s(v, t, p, &c.raw);
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace

std::vector<Candidate> ValueCandidates(const ValueColumn& values, bool all_packings) {
  struct Visitor {
    bool all_packings;
    std::vector<Candidate> operator()(const std::vector<double>& v) {
      return FloatCandidates(v, all_packings);
    }
    std::vector<Candidate> operator()(const std::vector<std::int64_t>& v) {
      return IntCandidates(v);
    }
    std::vector<Candidate> operator()(const std::vector<std::uint8_t>& v) {
      Candidate c{ChunkCodec::kBoolBitmap, {}};
      EncodeBools(v, &c.raw);
      return {std::move(c)};
    }
    std::vector<Candidate> operator()(const std::vector<std::string>& v) {
      Candidate c{ChunkCodec::kBytesLengthPrefixed, {}};
      EncodeBytes(v, &c.raw);
      return {std::move(c)};
    }
  };
  return std::visit(Visitor{all_packings}, values);
}

namespace {

EncodedChunk Finish(Candidate c, ChunkCompressor* compressor) {
  EncodedChunk e;
  e.codec = c.codec;
  e.raw_length = c.raw.size();
  if (compressor != nullptr && !c.raw.empty()) {
    std::string z = compressor->Compress(c.raw);
    if (z.size() < c.raw.size()) {
      e.compression = ChunkCompression::kZstd;
      e.stored = std::move(z);
      return e;
    }
  }
  e.compression = ChunkCompression::kNone;
  e.stored = std::move(c.raw);
  return e;
}

}  // namespace

EncodedChunk ChooseChunk(std::vector<Candidate> candidates, CodecSelection selection,
                         ChunkCompressor* compressor) {
  SLUICE_CHECK(!candidates.empty());
  // Ties keep the earlier candidate: the order above is the preference.
  if (selection == CodecSelection::kSmallestEncoded || compressor == nullptr) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < candidates.size(); ++i) {
      if (candidates[i].raw.size() < candidates[best].raw.size()) best = i;
    }
    return Finish(std::move(candidates[best]), compressor);
  }
  // Compressing costs more than encoding: only try candidates that could win,
  // i.e. not far above the smallest one before compression.
  std::size_t smallest = candidates[0].raw.size();
  for (const auto& c : candidates) smallest = std::min(smallest, c.raw.size());
  EncodedChunk best;
  bool have = false;
  for (auto& c : candidates) {
    if (c.raw.size() > smallest + smallest / 2) continue;
    EncodedChunk e = Finish(std::move(c), compressor);
    if (!have || e.stored.size() < best.stored.size()) {
      best = std::move(e);
      have = true;
    }
  }
  return best;
}

ValueColumn EmptyColumn(store::ValueType type) {
  switch (type) {
    case store::ValueType::kFloat64: return std::vector<double>{};
    case store::ValueType::kInt64: return std::vector<std::int64_t>{};
    case store::ValueType::kBool: return std::vector<std::uint8_t>{};
    case store::ValueType::kBytes: return std::vector<std::string>{};
  }
  return std::vector<double>{};
}

bool CodecFitsType(ChunkCodec codec, store::ValueType type) {
  switch (codec) {
    case ChunkCodec::kFloatRaw:
    case ChunkCodec::kFloatXor:
    case ChunkCodec::kFloatDecimal:
      return type == store::ValueType::kFloat64;
    case ChunkCodec::kIntPacked:
      return type == store::ValueType::kInt64;
    case ChunkCodec::kBoolBitmap:
      return type == store::ValueType::kBool;
    case ChunkCodec::kBytesLengthPrefixed:
      return type == store::ValueType::kBytes;
    case ChunkCodec::kTimestampDeltaOfDelta:
      return false;
  }
  return false;
}

Status DecodeValues(ChunkCodec codec, store::ValueType type, std::string_view raw,
                    std::size_t count, ValueColumn* out) {
  if (!CodecFitsType(codec, type)) return Corruption("values codec does not fit the series type");
  switch (codec) {
    case ChunkCodec::kFloatRaw:
    case ChunkCodec::kFloatXor:
    case ChunkCodec::kFloatDecimal: {
      std::vector<double> v;
      Status s = codec == ChunkCodec::kFloatRaw   ? DecodeFloatRaw(raw, count, &v)
                 : codec == ChunkCodec::kFloatXor ? DecodeFloatXor(raw, count, &v)
                                                  : DecodeFloatDecimal(raw, count, &v);
      SLUICE_RETURN_IF_ERROR(s);
      *out = std::move(v);
      return Status::Ok();
    }
    case ChunkCodec::kIntPacked: {
      std::vector<std::int64_t> v;
      SLUICE_RETURN_IF_ERROR(DecodeInt64s(raw, count, &v));
      *out = std::move(v);
      return Status::Ok();
    }
    case ChunkCodec::kBoolBitmap: {
      std::vector<std::uint8_t> v;
      SLUICE_RETURN_IF_ERROR(DecodeBools(raw, count, &v));
      *out = std::move(v);
      return Status::Ok();
    }
    case ChunkCodec::kBytesLengthPrefixed: {
      std::vector<std::string> v;
      SLUICE_RETURN_IF_ERROR(DecodeBytes(raw, count, &v));
      *out = std::move(v);
      return Status::Ok();
    }
    case ChunkCodec::kTimestampDeltaOfDelta:
      break;
  }
  return Corruption("unknown values codec");
}

}  // namespace sluice::sync::codec

#include "column_codec.h"

#include <algorithm>
#include <optional>

#include "float_codec.h"
#include "int_codec.h"
#include "misc_codec.h"

namespace sluice::sync::codec {

// Scaled (2) first: on a clock in whole units it packs small numbers; the
// first revision (1) stays a candidate and wins ties.
std::vector<Candidate> TimestampCandidates(std::span<const std::int64_t> ts,
                                           CodecRevision revision) {
  std::vector<Candidate> out;
  for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference}) {
    Candidate c{ChunkCodec::kTimestampDeltaOfDelta, {}};
    EncodeTimestamps(ts, p, &c.raw);
    out.push_back(std::move(c));
  }
  if (revision == CodecRevision::k1) return out;
  const std::uint64_t unit = TimestampUnit(ts);
  for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference, IntPacking::kRice}) {
    Candidate c{ChunkCodec::kTimestampScaledDeltaOfDelta, {}};
    EncodeScaledTimestamps(ts, unit, p, &c.raw);
    out.push_back(std::move(c));
  }
  return out;
}

Status DecodeTimestampColumn(ChunkCodec codec, std::string_view raw, std::size_t count,
                             std::vector<std::int64_t>* out) {
  switch (codec) {
    case ChunkCodec::kTimestampDeltaOfDelta: return DecodeTimestamps(raw, count, out);
    case ChunkCodec::kTimestampScaledDeltaOfDelta: return DecodeScaledTimestamps(raw, count, out);
    default: return Corruption("not a timestamps codec");
  }
}

bool IsTimestampCodec(ChunkCodec codec) {
  return codec == ChunkCodec::kTimestampDeltaOfDelta ||
         codec == ChunkCodec::kTimestampScaledDeltaOfDelta;
}

namespace {

void AddDecimalDigits(const DecimalDigitsPlan& plan, ChunkCodec codec, bool all_packings,
                      std::vector<Candidate>* candidates);
std::vector<Candidate> FloatCandidates(const std::vector<double>& v, bool all_packings,
                                       CodecRevision revision);

// A column of few distinct doubles (a sensor that holds or repeats values
// whose bits a decimal index misses: every repetition of an exception costs
// again there, here once): the distinct values in the smallest plain float
// codec, then codes.
void AddFloatDictionary(const std::vector<double>& v, std::vector<Candidate>* out) {
  if (v.size() < 64) return;
  FloatDictionary dict;
  if (!BuildFloatDictionary(v, v.size() / 4, &dict)) return;
  // The distinct values: the smallest of the other codecs (no dictionary of
  // a dictionary), chosen before compression.
  std::vector<Candidate> inner = FloatCandidates(dict.values, false, CodecRevision::k2);
  auto best = std::min_element(inner.begin(), inner.end(), [](const Candidate& a, const Candidate& b) {
    return a.raw.size() < b.raw.size();
  });
  for (IntPacking p : {IntPacking::kFrameOfReference, IntPacking::kRice, IntPacking::kZigzagVarint}) {
    Candidate c{ChunkCodec::kFloatDictionary, {}};
    EncodeFloatDictionary(dict, best->codec, best->raw, p, &c.raw);
    out->push_back(std::move(c));
  }
}

// Revision 1: the first decimal codec (12) with and without delta, in both
// packings when the writer compresses every candidate (byte-aligned varints
// often lose before zstd and win after it), then XOR and raw.
std::vector<Candidate> FloatCandidatesV1(const std::vector<double>& v, bool all_packings) {
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
    if (exceptions * 2 > v.size()) break;
  }
  return out;
}

// Decimal digits (13) first: it wins on sensor data. With `all_packings`
// (the writer compresses every candidate) its indices are offered in every
// packing: Rice is smallest before zstd, but byte-aligned varints and frames
// of reference often win after it on quantised sensors that repeat values.
std::vector<Candidate> FloatCandidates(const std::vector<double>& v, bool all_packings,
                                       CodecRevision revision) {
  std::vector<Candidate> out;
  if (revision == CodecRevision::k1) {
    out = FloatCandidatesV1(v, all_packings);
  } else {
    AddDecimalDigits(PlanDecimalDigits(v, ChooseDecimalDigits(v)), ChunkCodec::kFloatDecimalDigits,
                     all_packings, &out);
    if (revision >= CodecRevision::k3 && LooksFloat32(v)) {
      AddDecimalDigits(PlanDecimalDigits(v, ChooseDecimalDigits(v, /*float32=*/true)),
                       ChunkCodec::kFloatDecimalDigits32, all_packings, &out);
    }
    if (revision >= CodecRevision::k3) AddFloatDictionary(v, &out);
  }
  Candidate x{ChunkCodec::kFloatXor, {}};
  EncodeFloatXor(v, &x.raw);
  out.push_back(std::move(x));
  Candidate r{ChunkCodec::kFloatRaw, {}};
  EncodeFloatRaw(v, &r.raw);
  out.push_back(std::move(r));
  return out;
}

void AddDecimalDigits(const DecimalDigitsPlan& plan, ChunkCodec codec, bool all_packings,
                      std::vector<Candidate>* candidates) {
  std::vector<Candidate>& out = *candidates;
  const std::size_t n = plan.indices.size();
  for (IntTransform t : {IntTransform::kDelta, IntTransform::kNone}) {
    std::vector<IntPacking> packings = {IntPacking::kRice, IntPacking::kFrameOfReference,
                                        IntPacking::kZigzagVarint};
    if (!all_packings) {
      packings = {SmallestPacking(TransformWords(plan.indices, t), StreamRevision::kV2)};
    }
    for (IntPacking p : packings) {
      Candidate c{codec, {}};
      EncodeFloatDecimalDigits(plan, t, p, &c.raw);
      out.push_back(std::move(c));
    }
    // Mostly exceptions: not decimal data; the other transform won't help.
    if (plan.exception_positions.size() * 2 > n) break;
  }
  // A few levels (a quantised sensor): a dictionary of them and small codes.
  if (n >= 64 && FewDistinct(plan.indices, n / 8)) {
    for (IntPacking p : {IntPacking::kFrameOfReference, IntPacking::kZigzagVarint}) {
      Candidate c{codec, {}};
      EncodeFloatDecimalDigits(plan, IntTransform::kDictionary, p, &c.raw);
      out.push_back(std::move(c));
    }
  }
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

std::vector<Candidate> ValueCandidates(const ValueColumn& values, bool all_packings,
                                       CodecRevision revision) {
  struct Visitor {
    bool all_packings;
    CodecRevision revision;
    std::vector<Candidate> operator()(const std::vector<double>& v) {
      return FloatCandidates(v, all_packings, revision);
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
  return std::visit(Visitor{all_packings, revision}, values);
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
    case ChunkCodec::kFloatDecimalDigits:
    case ChunkCodec::kFloatDecimalDigits32:
    case ChunkCodec::kFloatDictionary:
      return type == store::ValueType::kFloat64;
    case ChunkCodec::kIntPacked:
      return type == store::ValueType::kInt64;
    case ChunkCodec::kBoolBitmap:
      return type == store::ValueType::kBool;
    case ChunkCodec::kBytesLengthPrefixed:
      return type == store::ValueType::kBytes;
    case ChunkCodec::kTimestampDeltaOfDelta:
    case ChunkCodec::kTimestampScaledDeltaOfDelta:
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
    case ChunkCodec::kFloatDecimal:
    case ChunkCodec::kFloatDecimalDigits:
    case ChunkCodec::kFloatDecimalDigits32:
    case ChunkCodec::kFloatDictionary: {
      std::vector<double> v;
      if (codec == ChunkCodec::kFloatDictionary) {
        SLUICE_RETURN_IF_ERROR(DecodeFloatDictionary(raw, count, &v));
        *out = std::move(v);
        return Status::Ok();
      }
      Status s = codec == ChunkCodec::kFloatRaw       ? DecodeFloatRaw(raw, count, &v)
                 : codec == ChunkCodec::kFloatXor     ? DecodeFloatXor(raw, count, &v)
                 : codec == ChunkCodec::kFloatDecimal ? DecodeFloatDecimal(raw, count, &v)
                                                      : DecodeFloatDecimalDigits(
                                                            raw, count, &v,
                                                            codec == ChunkCodec::kFloatDecimalDigits32);
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
    case ChunkCodec::kTimestampScaledDeltaOfDelta:
      break;
  }
  return Corruption("unknown values codec");
}

}  // namespace sluice::sync::codec

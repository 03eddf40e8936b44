// Encodes and decodes whole columns: chooses among a column's candidate
// encodings and applies compression. The seam between the codecs (which
// know bytes) and the writer/reader (which know objects).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chunk_compression.h"
#include "sync/partition.h"

namespace sluice::sync::codec {

struct EncodedChunk {
  ChunkCodec codec = ChunkCodec::kFloatRaw;
  ChunkCompression compression = ChunkCompression::kNone;
  std::uint64_t raw_length = 0;
  std::string stored;
};

// Every encoding the writer may choose for a column, before compression.
struct Candidate {
  ChunkCodec codec;
  std::string raw;
};
std::vector<Candidate> TimestampCandidates(std::span<const std::int64_t> ts,
                                           CodecRevision revision);
// Decodes a decompressed timestamps chunk of either timestamps codec.
Status DecodeTimestampColumn(ChunkCodec codec, std::string_view raw, std::size_t count,
                             std::vector<std::int64_t>* out);
bool IsTimestampCodec(ChunkCodec codec);
// `all_packings`: also offer variants that only pay off after compression.
std::vector<Candidate> ValueCandidates(const ValueColumn& values, bool all_packings,
                                       CodecRevision revision);

// Picks one candidate per `selection`; `compressor` is null when chunks stay
// uncompressed.
EncodedChunk ChooseChunk(std::vector<Candidate> candidates, CodecSelection selection,
                         ChunkCompressor* compressor);

// An empty column of the variant alternative for `type`.
ValueColumn EmptyColumn(store::ValueType type);

// Decodes a decompressed values chunk of `count` values of `type`.
Status DecodeValues(ChunkCodec codec, store::ValueType type, std::string_view raw,
                    std::size_t count, ValueColumn* out);

// True when `codec` can encode values of `type` (never for the timestamps
// codecs).
bool CodecFitsType(ChunkCodec codec, store::ValueType type);

}  // namespace sluice::sync::codec

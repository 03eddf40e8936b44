// The chunk decoders and zstd wrapper on arbitrary bytes: refusal or exactly
// `count` values, never a crash or an allocation the bytes cannot justify.
// Input: codec byte, type byte, count u16, then the chunk bytes. Codec bytes
// outside the ChunkCodec ids pick the pieces below them: 0xff a chunk's zstd
// frame, 0xfe the metadata's zstd frame, 0xfd a revision-2 int64 column
// (dictionary transform, Rice packing).
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "chunk_compression.h"
#include "column_codec.h"
#include "int_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::sync;
  if (size < 4) return 0;
  const auto codec = static_cast<ChunkCodec>(data[0]);
  const auto type = static_cast<sluice::store::ValueType>(1 + data[1] % 4);
  const std::size_t count = data[2] | (std::size_t{data[3]} << 8);
  std::string_view chunk(reinterpret_cast<const char*>(data) + 4, size - 4);

  if (codec::IsTimestampCodec(codec)) {
    std::vector<std::int64_t> ts;
    if (codec::DecodeTimestampColumn(codec, chunk, count, &ts).ok()) SLUICE_CHECK(ts.size() == count);
  } else if (data[0] == 0xff) {
    auto raw = codec::DecompressChunk(chunk, count);
    if (raw.ok()) SLUICE_CHECK(raw->size() == count);
  } else if (data[0] == 0xfe) {
    auto raw = codec::DecompressFrame(chunk, 1 << 20);
    if (raw.ok()) SLUICE_CHECK(raw->size() <= (1 << 20));
  } else if (data[0] == 0xfd) {
    std::vector<std::int64_t> v;
    if (codec::DecodeInt64s(chunk, count, &v, codec::StreamRevision::kV2).ok()) {
      SLUICE_CHECK(v.size() == count);
    }
  } else {
    ValueColumn out;
    if (codec::DecodeValues(codec, type, chunk, count, &out).ok()) {
      SLUICE_CHECK(std::visit([](const auto& v) { return v.size(); }, out) == count);
    }
  }
  return 0;
}

// zstd around chunks (libzstd; zstd.h stays out of every header).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sluice::sync::codec {

// Holds a compression context for reuse across chunks (creating one per
// chunk costs more than compressing a small chunk).
class ChunkCompressor {
 public:
  explicit ChunkCompressor(int level);
  ~ChunkCompressor();
  ChunkCompressor(const ChunkCompressor&) = delete;
  ChunkCompressor& operator=(const ChunkCompressor&) = delete;

  // One zstd frame with its content size. Aborts only on allocation failure.
  std::string Compress(std::string_view raw);

 private:
  void* cctx_;
  int level_;
};

// Decompresses one frame that must hold exactly `raw_length` bytes.
Result<std::string> DecompressChunk(std::string_view stored, std::uint64_t raw_length);
// Decompresses one frame with a content size of at most `max_bytes`.
Result<std::string> DecompressFrame(std::string_view stored, std::uint64_t max_bytes);

// zstd of a whole buffer at `level`, for benchmarks' baselines.
std::string ZstdCompress(std::string_view raw, int level);

}  // namespace sluice::sync::codec

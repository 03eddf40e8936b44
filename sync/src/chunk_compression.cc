#include "chunk_compression.h"

#include <zstd.h>

namespace sluice::sync::codec {

ChunkCompressor::ChunkCompressor(int level) : cctx_(ZSTD_createCCtx()), level_(level) {
  SLUICE_CHECK(cctx_ != nullptr);
}

ChunkCompressor::~ChunkCompressor() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_)); }

std::string ChunkCompressor::Compress(std::string_view raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  std::size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(cctx_), out.data(), out.size(),
                                    raw.data(), raw.size(), level_);
  SLUICE_CHECK(!ZSTD_isError(n));  // only fails on bad parameters or no memory
  out.resize(n);
  return out;
}

Result<std::string> DecompressChunk(std::string_view stored, std::uint64_t raw_length) {
  unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Corruption("not a zstd frame with a content size");
  }
  if (size != raw_length) return Corruption("zstd frame size differs from raw_length");
  if (ZSTD_findFrameCompressedSize(stored.data(), stored.size()) != stored.size()) {
    return Corruption("bytes after the zstd frame");
  }
  std::string out(raw_length, '\0');
  std::size_t n = ZSTD_decompress(out.data(), out.size(), stored.data(), stored.size());
  if (ZSTD_isError(n)) return Corruption(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != raw_length) return Corruption("zstd frame shorter than raw_length");
  return out;
}

Result<std::string> DecompressFrame(std::string_view stored, std::uint64_t max_bytes) {
  unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Corruption("not a zstd frame with a content size");
  }
  if (size > max_bytes) return Corruption("zstd frame larger than " + std::to_string(max_bytes));
  return DecompressChunk(stored, size);
}

std::string ZstdCompress(std::string_view raw, int level) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
  SLUICE_CHECK(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

}  // namespace sluice::sync::codec

#include "page_compressor.h"

#include <zstd.h>

#include "base/status.h"

namespace sluice::sync::parquet {

PageCompressor::PageCompressor(int level) : level_(level) {
  if (level_ > 0) {
    cctx_ = ZSTD_createCCtx();
    SLUICE_CHECK(cctx_ != nullptr);
  }
}

PageCompressor::~PageCompressor() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_)); }

void PageCompressor::Compress(std::string_view raw, std::string* out) {
  if (!enabled()) {
    out->append(raw);
    return;
  }
  const std::size_t at = out->size();
  out->resize(at + ZSTD_compressBound(raw.size()));
  const std::size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(cctx_), out->data() + at,
                                          out->size() - at, raw.data(), raw.size(), level_);
  SLUICE_CHECK(!ZSTD_isError(n));  // only on bad parameters or no memory
  out->resize(at + n);
}

std::size_t PageCompressor::CompressedSize(std::string_view raw) {
  if (!enabled()) return raw.size();
  scratch_.clear();
  Compress(raw, &scratch_);
  return scratch_.size();
}

}  // namespace sluice::sync::parquet

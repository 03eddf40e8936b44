// zstd around Parquet pages (zstd.h stays in the .cc). One context and one
// scratch buffer reused for every page of a file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::sync::parquet {

class PageCompressor {
 public:
  // level 0: pages are stored as they are (UNCOMPRESSED).
  explicit PageCompressor(int level);
  ~PageCompressor();
  PageCompressor(const PageCompressor&) = delete;
  PageCompressor& operator=(const PageCompressor&) = delete;

  bool enabled() const { return level_ > 0; }
  // Appends `raw` compressed (one zstd frame), or as is when disabled.
  void Compress(std::string_view raw, std::string* out);
  // What Compress would append, in bytes.
  std::size_t CompressedSize(std::string_view raw);

 private:
  void* cctx_ = nullptr;
  int level_;
  std::string scratch_;
};

}  // namespace sluice::sync::parquet

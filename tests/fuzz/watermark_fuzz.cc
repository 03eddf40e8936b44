// Any bytes given as a watermark object (docs/format/watermark.md), as the
// sync engine reads its own upstream object at start, either parse or give
// kInvalidArgument; nothing crashes. What parses formats to a document that
// parses back to the same watermark.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sync/watermark.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto w = sync::ParseWatermark(text);
  if (!w.ok()) {
    if (w.status().code() != StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  auto again = sync::ParseWatermark(sync::FormatWatermark(*w));
  if (!again.ok() || !(*again == *w)) std::abort();
  return 0;
}

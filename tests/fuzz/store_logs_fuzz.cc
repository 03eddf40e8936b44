// Any bytes given as a partition manifest or a segment log (the first byte
// picks which) give a valid prefix of entries; each entry the store would
// accept decodes to values that encode back to the same bytes; nothing
// crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store_logs.h"

namespace {

using namespace sluice::store;

void CheckManifestEntry(std::string_view e) {
  PartitionId id;
  PartitionState state;
  if (DecodeManifestEntry(e, id, state)) {
    // Varints have more than one spelling; the encoder writes the shortest.
    const std::string again = EncodeManifestEntry(id, state);
    PartitionId id2;
    PartitionState state2;
    SLUICE_CHECK(DecodeManifestEntry(again, id2, state2));
    SLUICE_CHECK(id2 == id && state2 == state);
  }
}

void CheckSegmentLogEntry(std::string_view e) {
  SegmentEvent event;
  std::uint32_t segment = 0;
  if (DecodeSegmentLogEntry(e, event, segment)) {
    SLUICE_CHECK(segment != 0);
    SLUICE_CHECK(EncodeSegmentLogEntry(event, segment) == e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool manifest = data[0] % 2 == 0;
  std::string_view image(reinterpret_cast<const char*>(data) + 1, size - 1);
  LogRecovery rec;
  // The entry decoders straight on the bytes, and on every framed entry.
  if (manifest) {
    CheckManifestEntry(image);
  } else {
    CheckSegmentLogEntry(image);
  }
  for (std::string_view e : ParseLogImage(image, manifest ? kManifestFormat : kSegmentLogFormat, rec)) {
    if (manifest) {
      CheckManifestEntry(e);
    } else {
      CheckSegmentLogEntry(e);
    }
  }
  SLUICE_CHECK(rec.discarded_bytes <= image.size());
  return 0;
}

// Any bytes given to the batch decoder give a batch or a Corruption status;
// a decoded batch re-encodes to the same bytes. The same bytes given to the
// direct-marker decoder give a marker that re-encodes to them, or
// Corruption.
#include <cstddef>
#include <cstdint>
#include <string>

#include "batch_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto marker = sluice::store::DecodeDirectMarker(in); marker.ok()) {
    std::string again;
    sluice::store::EncodeDirectMarker(*marker, again);
    auto twice = sluice::store::DecodeDirectMarker(again);
    SLUICE_CHECK(twice.ok() && twice->records == marker->records &&
                 twice->arrival_ns == marker->arrival_ns);
  } else {
    SLUICE_CHECK(marker.status().code() == sluice::StatusCode::kCorruption);
  }
  auto batch = sluice::store::DecodeBatch(in, 4096);
  if (!batch.ok()) {
    SLUICE_CHECK(batch.status().code() == sluice::StatusCode::kCorruption);
    return 0;
  }
  std::string again;
  sluice::store::EncodeBatch(batch->records, batch->arrival_ns, again);
  auto twice = sluice::store::DecodeBatch(again, 4096);
  SLUICE_CHECK(twice.ok() && twice->records.size() == batch->records.size() &&
               twice->arrival_ns == batch->arrival_ns);
  return 0;
}

// Any byte string parsed as a pmem write-buffer file yields its records or a
// Corruption naming the file; it never crashes, and what it returns obeys
// the format's rules (pmem_format.h): consecutive seqs from the header's
// head_seq, frames and payloads inside the ring, the live range no longer
// than the ring, torn frames in the ring and 8-byte aligned.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"
#include "pmem_format.h"
#include "wal_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::store;
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
  auto contents = ParsePmemLog(file, "fuzz.pmem");
  if (!contents.ok()) {
    SLUICE_CHECK(contents.status().code() == sluice::StatusCode::kCorruption);
    SLUICE_CHECK(contents.status().message().starts_with("fuzz.pmem"));
    return 0;
  }
  if (contents->fresh) {
    SLUICE_CHECK(contents->records.empty() && contents->discard.empty());
    return 0;
  }
  const std::uint64_t ring = size - kPmemRingOffset;
  std::uint64_t seq = contents->header.head_seq;
  for (const auto& r : contents->records) {
    SLUICE_CHECK(r.view.seq == seq++);
    SLUICE_CHECK(r.view.type != 0);
    SLUICE_CHECK(r.offset >= kPmemRingOffset && r.offset % 8 == 0 &&
                 r.offset + WalFrameSize(r.view.payload.size()) <= size);
    SLUICE_CHECK(r.view.payload.data() == file.data() + r.offset + kWalFrameHeaderSize);
  }
  SLUICE_CHECK(contents->used_bytes <= ring);
  SLUICE_CHECK(contents->end_offset >= kPmemRingOffset && contents->end_offset <= size);
  for (std::uint64_t d : contents->discard) {
    SLUICE_CHECK(d >= kPmemRingOffset && d + kWalFrameHeaderSize <= size);
  }
  SLUICE_CHECK(contents->torn_bytes <= ring);
  return 0;
}

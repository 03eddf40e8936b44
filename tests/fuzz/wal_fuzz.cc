// Any byte string parsed as a write-ahead log file yields its records or a
// Corruption naming the file; it never crashes, and what it returns obeys
// the format's rules (consecutive seqs from the header's first seq, payloads
// inside the input, discarded bytes after the valid ones).
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"
#include "wal_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
  auto contents = sluice::store::ParseWalFile(file, "fuzz.log");
  if (!contents.ok()) {
    SLUICE_CHECK(contents.status().code() == sluice::StatusCode::kCorruption);
    SLUICE_CHECK(contents.status().message().starts_with("fuzz.log"));
    return 0;
  }
  std::uint64_t seq = contents->header.first_seq;
  for (const auto& r : contents->records) {
    SLUICE_CHECK(r.seq == seq++);
    SLUICE_CHECK(r.type != 0);
    SLUICE_CHECK(r.payload.data() >= file.data() &&
                 r.payload.data() + r.payload.size() <= file.data() + file.size());
  }
  SLUICE_CHECK(contents->valid_end <= contents->torn_end && contents->torn_end <= size);
  return 0;
}

// Any bytes as an index checkpoint (index_checkpoint.h), and as a replay
// mark: the checkpoint's header and each section decode or give
// Corruption; a section (or mark) that decodes encodes back to what was
// decoded, and a full section that decodes can be loaded into an index and
// listed without a crash: every cross reference the index follows was
// checked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/crc32c.h"
#include "index_checkpoint.h"
#include "partition_index.h"

namespace {

// Sections under a header with the right lengths and CRCs, so that the
// fuzzer reaches the section decoders rather than stopping at a CRC.
std::string WithHeader(std::string_view recent, std::string_view full) {
  using namespace sluice::store;
  using sluice::Crc32c;
  using sluice::MaskCrc;
  std::string out;
  auto put32 = [&](std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto put64 = [&](std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); };
  put32(kCheckpointMagic);
  put32(kCheckpointVersion);
  put64(recent.size());
  put64(full.size());
  put32(MaskCrc(Crc32c(recent.data(), recent.size())));
  put32(MaskCrc(Crc32c(full.data(), full.size())));
  put32(MaskCrc(Crc32c(out.data(), out.size())));
  out += recent;
  out += full;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::store;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The same bytes as a replay mark.
  if (auto mark = DecodeReplayMark(bytes); mark.ok()) {
    SLUICE_CHECK(EncodeReplayMark(*mark) == bytes);
  }
  // First byte odd: the input is a whole file. Even: the next two bytes
  // give the recent section's length, and the rest are the two sections.
  std::string built;
  if (size >= 3 && (data[0] & 1) == 0) {
    const std::size_t split = std::min<std::size_t>(size - 3, data[1] | std::size_t{data[2]} << 8);
    built = WithHeader(bytes.substr(3, split), bytes.substr(3 + split));
    bytes = built;
  }
  size = bytes.size();
  auto header = DecodeCheckpointHeader(bytes);
  if (!header.ok()) {
    SLUICE_CHECK(header.status().code() == sluice::StatusCode::kCorruption);
    return 0;
  }
  const std::string_view rest = bytes.substr(kCheckpointHeaderBytes);
  const std::string_view recent_bytes = rest.substr(0, header->recent_len);
  const std::string_view full_bytes =
      rest.substr(std::min<std::size_t>(rest.size(), header->recent_len));
  auto recent = DecodeCheckpointRecent(recent_bytes, *header);
  if (!recent.ok()) SLUICE_CHECK(recent.status().code() == sluice::StatusCode::kCorruption);
  auto full = DecodeCheckpointFull(full_bytes, *header);
  if (!full.ok()) {
    SLUICE_CHECK(full.status().code() == sluice::StatusCode::kCorruption);
    return 0;
  }
  if (recent.ok()) {
    // What decodes encodes back to itself.
    const std::string again = EncodeCheckpoint(*recent, *full);
    auto h2 = DecodeCheckpointHeader(again);
    SLUICE_CHECK(h2.ok());
    auto r2 = DecodeCheckpointRecent(
        std::string_view(again).substr(kCheckpointHeaderBytes, h2->recent_len), *h2);
    auto f2 = DecodeCheckpointFull(
        std::string_view(again).substr(kCheckpointHeaderBytes + h2->recent_len), *h2);
    SLUICE_CHECK(r2.ok() && *r2 == *recent);
    SLUICE_CHECK(f2.ok() && *f2 == *full);
  }
  PartitionIndex index(Options{}, nullptr, nullptr, nullptr, {});
  index.LoadFull(std::move(*full));
  for (const PartitionInfo& p : index.List(std::nullopt)) SLUICE_CHECK(p.blocks <= size);
  (void)index.dram_index_bytes();
  return 0;
}

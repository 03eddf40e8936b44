// Any bytes given as a partition object either fail to open or open and read
// with Status results; nothing crashes, hangs or allocates without bound.
// Whatever reads successfully must agree with its own metadata.
//
// Random mutations rarely keep CRCs valid, so each input is also tried with
// its header, footer and metadata CRCs recomputed: that reaches the metadata
// validation. The chunk decoders behind chunk CRCs are fuzzed directly by
// partition_codec_fuzz.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <variant>

#include "base/coding.h"
#include "base/crc32c.h"
#include "sync/partition.h"

namespace {

void FixCrcs(std::string& b) {
  using namespace sluice;
  if (b.size() < sync::kPartitionHeaderSize + sync::kPartitionFooterSize) return;
  auto put32 = [&](std::size_t at, std::uint32_t v) { std::memcpy(b.data() + at, &v, 4); };
  put32(12, MaskCrc(Crc32c(b.data(), 12)));
  const std::size_t f = b.size() - sync::kPartitionFooterSize;
  std::uint64_t off = LoadFixed64(b.data() + f);
  std::uint32_t len = LoadFixed32(b.data() + f + 8);
  if (off <= f && len <= f - off) put32(f + 12, MaskCrc(Crc32c(b.data() + off, len)));
  put32(f + 24, MaskCrc(Crc32c(b.data() + f, 24)));
}

void ReadAll(std::string bytes) {
  sluice::sync::PartitionReaderOptions options;
  options.max_chunk_bytes = 1 << 20;  // keeps each input fast; the limit itself is tested
  auto reader = sluice::sync::PartitionReader::Open(std::move(bytes), options);
  if (!reader.ok()) {
    SLUICE_CHECK(reader.status().code() == sluice::StatusCode::kCorruption);
    return;
  }
  (void)reader->VerifyChecksums();
  for (std::size_t i = 0; i < reader->series_count(); ++i) {
    const auto& s = reader->series(i);
    auto cols = reader->ReadColumns(i);
    if (!cols.ok()) {
      SLUICE_CHECK(cols.status().code() == sluice::StatusCode::kCorruption);
      continue;
    }
    std::size_t n = std::visit([](const auto& v) { return v.size(); }, cols->values);
    SLUICE_CHECK(n == cols->timestamps.size());
    SLUICE_CHECK(n == s.stats.count || (n == 0 && s.stats.count > 0));
    auto part =
        reader->ReadRecords(i, sluice::sync::TimeRange{s.stats.min_time_ns, s.stats.min_time_ns});
    if (part.ok()) SLUICE_CHECK(part->size() <= n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  ReadAll(bytes);
  FixCrcs(bytes);
  ReadAll(std::move(bytes));
  return 0;
}

// The entries of two small append-only logs (framing: log_file.h), kept apart
// from the code that writes them so that their decoders can be fuzzed.
//
//   partitions.log (magic "SLPM"): each partition state change,
//     window_start:varint(zigzag) shard:varint late:u8 state:u8 (1..4)
//   segments.log (magic "SLSL", in segments/): each segment's life,
//     kind:u8 (1 created, 2 removed) id:u32 (not 0)
//
// docs/format/segment.md describes both.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "log_file.h"
#include "store/types.h"

namespace sluice::store {

inline constexpr LogFileFormat kManifestFormat{0x4d504c53 /* "SLPM" */, 1, 64};
inline constexpr LogFileFormat kSegmentLogFormat{0x4c534c53 /* "SLSL" */, 1, 16};

std::string EncodeManifestEntry(const PartitionId& id, PartitionState state);
// False for anything that is not exactly one entry.
bool DecodeManifestEntry(std::string_view entry, PartitionId& id, PartitionState& state);
// Decodes one entry into `states` (the later entry for a partition wins);
// false, and nothing changed, for anything that is not exactly one entry.
bool ApplyManifestEntry(std::string_view entry, std::map<PartitionId, PartitionState>& states);

enum class SegmentEvent : std::uint8_t { kCreated = 1, kRemoved = 2 };

std::string EncodeSegmentLogEntry(SegmentEvent event, std::uint32_t segment);
// False for anything that is not exactly one entry.
bool DecodeSegmentLogEntry(std::string_view entry, SegmentEvent& event, std::uint32_t& segment);

}  // namespace sluice::store

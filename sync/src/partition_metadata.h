// PartitionMetadata <-> protobuf (proto/partition.proto). The generated
// header is included only by the .cc, keeping protobuf out of public headers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "sync/partition.h"

namespace sluice::sync {

std::string SerializeMetadata(const PartitionMetadata& meta);

// Parses and validates: known enums, codecs that fit each series' type, chunks
// inside [kPartitionHeaderSize, chunk_end) and either disjoint or identical
// (series with one clock share their timestamps chunk), unique series
// ids and names, raw lengths within `max_chunk_bytes`.
Result<PartitionMetadata> ParseMetadata(std::string_view bytes, std::uint64_t chunk_end,
                                        std::uint64_t max_chunk_bytes);

}  // namespace sluice::sync

#include "store_logs.h"

#include "base/coding.h"

namespace sluice::store {

std::string EncodeManifestEntry(const PartitionId& id, PartitionState state) {
  std::string entry;
  PutVarint64(entry, ZigZag(id.window_start_ns));
  PutVarint64(entry, id.shard);
  entry.push_back(id.late ? 1 : 0);
  entry.push_back(static_cast<char>(state));
  return entry;
}

bool DecodeManifestEntry(std::string_view entry, PartitionId& id, PartitionState& state) {
  ByteReader in(entry);
  std::uint64_t w = 0, shard = 0;
  std::uint8_t late = 0, s = 0;
  if (!in.GetVarint64(w) || !in.GetVarint64(shard) || !in.GetByte(late) || !in.GetByte(s) ||
      in.remaining() != 0 || late > 1 || s < 1 || s > 4 || shard > UINT32_MAX) {
    return false;
  }
  id = {UnZigZag(w), static_cast<std::uint32_t>(shard), late == 1};
  state = static_cast<PartitionState>(s);
  return true;
}

bool ApplyManifestEntry(std::string_view entry, std::map<PartitionId, PartitionState>& states) {
  PartitionId id;
  PartitionState state;
  if (!DecodeManifestEntry(entry, id, state)) return false;
  states[id] = state;
  return true;
}

std::string EncodeSegmentLogEntry(SegmentEvent event, std::uint32_t segment) {
  std::string entry(1, static_cast<char>(event));
  PutFixed32(entry, segment);
  return entry;
}

bool DecodeSegmentLogEntry(std::string_view entry, SegmentEvent& event, std::uint32_t& segment) {
  ByteReader in(entry);
  std::uint8_t kind = 0;
  if (!in.GetByte(kind) || !in.GetFixed32(segment) || in.remaining() != 0 || segment == 0 ||
      (kind != 1 && kind != 2)) {
    return false;
  }
  event = static_cast<SegmentEvent>(kind);
  return true;
}

}  // namespace sluice::store

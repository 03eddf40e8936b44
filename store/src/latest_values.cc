#include "latest_values.h"

#include <bit>

namespace sluice::store {

void LatestValues::Offer(const Record& r) {
  const std::uint32_t id = r.series.value;
  const std::size_t c = id / kChunk, i = id % kChunk;
  while (chunks_.size() <= c) chunks_.push_back(std::make_unique<Chunk>());  // kinds 0: none
  Chunk& chunk = *chunks_[c];
  Slot& slot = chunk.slots[i];
  if (chunk.kind[i] != 0 && slot.timestamp_ns > r.timestamp_ns) return;
  slot.timestamp_ns = r.timestamp_ns;
  slot.bits = 0;
  if (const auto* d = std::get_if<double>(&r.value)) {
    slot.bits = std::bit_cast<std::uint64_t>(*d);
  } else if (const auto* n = std::get_if<std::int64_t>(&r.value)) {
    slot.bits = static_cast<std::uint64_t>(*n);
  } else if (const auto* b = std::get_if<bool>(&r.value)) {
    slot.bits = *b ? 1 : 0;
  } else {
    bytes_[id] = std::get<std::string>(r.value);
  }
  if (chunk.kind[i] == 4 && !std::holds_alternative<std::string>(r.value)) bytes_.erase(id);
  chunk.kind[i] = static_cast<std::uint8_t>(r.value.index() + 1);
}

void LatestValues::Supersede(const Record& r) {
  const std::size_t c = r.series.value / kChunk, i = r.series.value % kChunk;
  if (c >= chunks_.size() || chunks_[c]->kind[i] == 0) return;
  if (chunks_[c]->slots[i].timestamp_ns > r.timestamp_ns) return;
  if (chunks_[c]->kind[i] == 4) bytes_.erase(r.series.value);
  chunks_[c]->kind[i] = 0;
}

std::optional<Record> LatestValues::Get(SeriesId series) const {
  const std::size_t c = series.value / kChunk, i = series.value % kChunk;
  if (c >= chunks_.size() || chunks_[c]->kind[i] == 0) return std::nullopt;
  const Chunk& chunk = *chunks_[c];
  const Slot& slot = chunk.slots[i];
  Record r{series, slot.timestamp_ns, {}};
  switch (chunk.kind[i]) {
    case 1: r.value = std::bit_cast<double>(slot.bits); break;
    case 2: r.value = static_cast<std::int64_t>(slot.bits); break;
    case 3: r.value = slot.bits != 0; break;
    default: r.value = bytes_.at(series.value); break;
  }
  return r;
}

std::size_t LatestValues::bytes() const {
  std::size_t n = chunks_.capacity() * sizeof(void*) + chunks_.size() * sizeof(Chunk);
  for (const auto& [id, value] : bytes_) n += 48 + value.capacity();
  return n;
}

}  // namespace sluice::store

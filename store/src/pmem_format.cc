#include "pmem_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/crc32c.h"
#include "wal_format.h"

namespace sluice::store {

namespace {

constexpr std::size_t kSlotCrcOffset = 48;

void Put32(std::byte* p, std::uint32_t v) { std::memcpy(p, &v, 4); }  // little-endian hosts only
void Put64(std::byte* p, std::uint64_t v) { std::memcpy(p, &v, 8); }
std::uint32_t Get32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
std::uint64_t Get64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

struct Frame {
  std::uint64_t seq = 0;
  std::uint32_t group_index = 0;
  std::uint8_t type = 0;
  std::span<const std::byte> payload;
  std::uint64_t size = 0;  // padding included
};

// The frame at `off` if it is whole inside the file and passes every check
// of wal_format.h but the sequence one; else `why` says what failed. The
// checks are the WAL's, repeated here because wal_format.cc keeps its frame
// reader private; the encoder (EncodeWalFrame) is shared.
bool ReadFrame(std::span<const std::byte> file, std::uint64_t off, Frame* out, const char** why) {
  if (off > file.size() || file.size() - off < kWalFrameHeaderSize) {
    *why = "truncated frame header";
    return false;
  }
  const std::byte* h = file.data() + off;
  const std::uint32_t length = Get32(h + kFrameLength);
  if (h[kFrameType] == std::byte{0}) {
    *why = "type 0 (zeros)";
    return false;
  }
  if (h[kFrameReserved] != std::byte{0} || h[kFrameReserved + 1] != std::byte{0} ||
      h[kFrameReserved + 2] != std::byte{0}) {
    *why = "reserved bytes not zero";
    return false;
  }
  const std::uint64_t size = WalFrameSize(length);
  if (size > file.size() - off) {
    *why = "frame past the end of the file";
    return false;
  }
  // The writer never puts down a frame over a quarter of the ring. Where
  // bytes that are not a frame pass the checks above (stale payloads, which
  // the free-area scan looks at every 8 bytes), this spares a CRC over
  // megabytes (recovery of a 256 MiB ring took 14 s without it).
  if (size > (file.size() - std::min<std::uint64_t>(file.size(), kPmemRingOffset)) / 4) {
    *why = "frame over a quarter of the ring";
    return false;
  }
  if (UnmaskCrc(Get32(h + kFrameCrc)) != Crc32c(h + 4, kWalFrameHeaderSize - 4 + length)) {
    *why = "bad CRC";
    return false;
  }
  *out = Frame{Get64(h + kFrameSeq), Get32(h + kFrameGroupIndex),
               std::to_integer<std::uint8_t>(h[kFrameType]),
               file.subspan(static_cast<std::size_t>(off) + kWalFrameHeaderSize, length), size};
  return true;
}

// A cheap filter before the CRC, for scans over megabytes of stale frames.
bool MayBeFrame(std::span<const std::byte> file, std::uint64_t off, std::uint64_t min_seq,
                std::uint64_t max_seq = UINT64_MAX) {
  if (file.size() - off < kWalFrameHeaderSize) return false;
  const std::byte* h = file.data() + off;
  const std::uint64_t seq = Get64(h + kFrameSeq);
  return h[kFrameType] != std::byte{0} && seq >= min_seq && seq <= max_seq;
}

std::string At(const std::string& name, const char* what, std::uint64_t off) {
  char msg[200];
  std::snprintf(msg, sizeof msg, "%s: %s at offset %llu", name.c_str(), what,
                static_cast<unsigned long long>(off));
  return msg;
}

}  // namespace

void EncodePmemSlot(const PmemHeader& header, std::span<std::byte> slot) {
  SLUICE_CHECK(slot.size() >= kPmemSlotSize);
  std::byte* p = slot.data();
  std::memset(p, 0, kPmemSlotSize);
  std::memcpy(p, kPmemMagic, sizeof kPmemMagic);
  Put32(p + 8, kPmemFormatVersion);
  Put32(p + 12, static_cast<std::uint32_t>(kPmemRingOffset));
  Put64(p + 16, header.file_size);
  Put64(p + 24, header.generation);
  Put64(p + 32, header.head_offset);
  Put64(p + 40, header.head_seq);
  Put32(p + kSlotCrcOffset, MaskCrc(Crc32c(p, kSlotCrcOffset)));
}

Result<PmemHeader> DecodePmemSlot(std::span<const std::byte> slot, std::uint64_t file_size) {
  if (slot.size() < kPmemSlotSize) return Corruption("header slot: truncated");
  const std::byte* p = slot.data();
  if (std::memcmp(p, kPmemMagic, sizeof kPmemMagic) != 0)
    return Corruption("header slot: bad magic");
  if (UnmaskCrc(Get32(p + kSlotCrcOffset)) != Crc32c(p, kSlotCrcOffset)) {
    return Corruption("header slot: bad CRC");
  }
  if (const auto v = Get32(p + 8); v != kPmemFormatVersion) {
    return Corruption("header slot: unknown format version " + std::to_string(v));
  }
  if (Get32(p + 12) != kPmemRingOffset) return Corruption("header slot: ring offset not 4096");
  PmemHeader h{Get64(p + 16), Get64(p + 24), Get64(p + 32), Get64(p + 40)};
  if (h.file_size != file_size) {
    return Corruption("header slot: written for a file of " + std::to_string(h.file_size) +
                      " bytes, this one has " + std::to_string(file_size));
  }
  if (h.head_offset < kPmemRingOffset || h.head_offset >= file_size || h.head_offset % 8 != 0) {
    return Corruption("header slot: head offset outside the ring");
  }
  if (h.head_seq == 0) return Corruption("header slot: head seq 0");
  return h;
}

Result<PmemContents> ParsePmemLog(std::span<const std::byte> file, const std::string& name,
                                  PmemContents* before_damage) {
  const std::uint64_t size = file.size();
  if (size < kPmemRingOffset + kWalFrameHeaderSize) {
    return Corruption(name + ": shorter than a header block and one frame");
  }
  const std::uint64_t ring = size - kPmemRingOffset;
  PmemContents out;
  bool found = false;
  for (std::size_t s = 0; s < kPmemSlotCount; ++s) {
    auto h = DecodePmemSlot(file.subspan(s * kPmemSlotSize, kPmemSlotSize), size);
    if (h.ok() && (!found || h->generation > out.header.generation)) {
      out.header = *h;
      out.slot = static_cast<int>(s);
      found = true;
    }
  }
  Frame f;
  if (!found) {
    // A crash while the file was first initialised leaves no frame at all;
    // any frame means the header was lost after records were written.
    for (std::uint64_t p = kPmemRingOffset; p < size; p += kWalFrameAlignment) {
      const char* ignored = nullptr;
      if (MayBeFrame(file, p, 1) && ReadFrame(file, p, &f, &ignored)) {
        return Corruption(At(name, "no valid header slot, but a valid frame", p));
      }
    }
    out.fresh = true;
    out.end_offset = kPmemRingOffset;
    return out;
  }

  std::uint64_t expected = out.header.head_seq;
  std::uint64_t p = out.header.head_offset;
  std::uint64_t used = 0;
  const char* why = nullptr;  // why the frame at p ended the records
  for (;;) {
    why = "sequence break";  // unless ReadFrame says otherwise
    std::uint64_t at = p;
    std::uint64_t gap = 0;
    bool ok = ReadFrame(file, p, &f, &why) && f.seq == expected;
    if (!ok && p != kPmemRingOffset) {
      // The wrap rule: the writer went to the ring start only when the
      // frame did not fit before the end.
      const char* ignored = nullptr;
      if (ReadFrame(file, kPmemRingOffset, &f, &ignored) && f.seq == expected &&
          f.size > size - p) {
        ok = true;
        at = kPmemRingOffset;
        gap = size - p;
      }
    }
    // A full lap ends the walk too (only damage could make it go further).
    if (!ok || used + gap + f.size > ring) break;
    out.records.push_back({WriteBufferRecord{f.seq, f.type, f.payload}, at, f.group_index == 0});
    used += gap + f.size;
    p = at + f.size;
    ++expected;
  }
  out.end_offset = p;
  out.used_bytes = used;

  // A frame header at the end that carries the expected seq was torn. (An
  // intact frame there, which only a full lap leaves, is not torn: the scan
  // below counts it if it is a remnant, and counting it here too would count
  // it twice.)
  Frame at_end;
  const char* at_end_why = nullptr;
  if (size - std::min(p, size) >= kWalFrameHeaderSize &&
      Get64(file.data() + p + kFrameSeq) == expected && file[p + kFrameType] != std::byte{0} &&
      !ReadFrame(file, p, &at_end, &at_end_why)) {
    const std::uint64_t claimed = WalFrameSize(Get32(file.data() + p + kFrameLength));
    out.torn_bytes += std::min({claimed, size - p, ring - used});
  }
  // The free area, from the end around to the head: remnants of the drain
  // in flight (torn) or of a later one (damage).
  const std::uint64_t free = ring - used;
  // No frame of this lap can carry a seq beyond as many frames as the ring
  // holds; stale payload bytes almost always do, and are skipped cheaply.
  const std::uint64_t max_seq = expected + ring / kWalFrameHeaderSize;
  // Every remnant is found and discarded, also inside the torn frame's claimed
  // length (safety: none may be replayed after new records); the byte count
  // may so count some bytes twice and is capped at the free area below.
  for (std::uint64_t d = 0; d < free; d += kWalFrameAlignment) {
    std::uint64_t q = p + d;
    if (q >= size) q -= ring;
    if (!MayBeFrame(file, q, expected, max_seq)) continue;
    const char* ignored = nullptr;
    if (!ReadFrame(file, q, &f, &ignored)) continue;
    if (d + f.size > free) continue;  // overlaps live frames: not written by the writer
    if (f.group_index <= f.seq && f.seq - f.group_index <= expected) {
      out.discard.push_back(q);
      out.torn_bytes += f.size;
      d += f.size - kWalFrameAlignment;  // frames of one drain do not overlap
      continue;
    }
    char msg[240];
    std::snprintf(msg, sizeof msg,
                  "%s: invalid frame at offset %llu (%s) followed by a valid later write "
                  "(seq %llu at offset %llu)",
                  name.c_str(), static_cast<unsigned long long>(p), why,
                  static_cast<unsigned long long>(f.seq), static_cast<unsigned long long>(q));
    if (before_damage != nullptr) {
      out.discard.clear();
      out.torn_bytes = 0;
      *before_damage = std::move(out);
    }
    return Corruption(msg);
  }
  // A statistic: bytes discarded, at most the free area.
  out.torn_bytes = std::min(out.torn_bytes, free);
  return out;
}

}  // namespace sluice::store

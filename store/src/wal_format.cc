#include "wal_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/crc32c.h"

namespace sluice::store {

namespace {

void Put32(std::byte* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
void Put64(std::byte* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
std::uint32_t Get32(const std::byte* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{std::to_integer<std::uint8_t>(p[i])} << (8 * i);
  return v;
}
std::uint64_t Get64(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{std::to_integer<std::uint8_t>(p[i])} << (8 * i);
  return v;
}

struct FrameView {
  std::uint64_t seq = 0;
  std::uint32_t group_index = 0;
  std::uint8_t type = 0;
  std::span<const std::byte> payload;
  std::size_t size = 0;  // with padding, clipped to the file
};

// Reads the frame at `off` if it passes every check but the sequence one;
// otherwise `why` says what failed, for error messages.
bool ReadFrame(std::span<const std::byte> file, std::size_t off, FrameView* out, const char** why) {
  if (file.size() - off < kWalFrameHeaderSize) {
    *why = "truncated frame header";
    return false;
  }
  const std::byte* h = file.data() + off;
  const std::uint32_t length = Get32(h + kFrameLength);
  const std::uint8_t type = std::to_integer<std::uint8_t>(h[kFrameType]);
  if (type == 0) {
    *why = "type 0 (zeros)";
    return false;
  }
  if (h[kFrameReserved] != std::byte{0} || h[kFrameReserved + 1] != std::byte{0} ||
      h[kFrameReserved + 2] != std::byte{0}) {
    *why = "reserved bytes not zero";
    return false;
  }
  if (length > file.size() - off - kWalFrameHeaderSize) {
    *why = "length past the end of the file";
    return false;
  }
  // The writer never puts down a payload over a quarter of the file. Where
  // bytes that are not a frame pass the checks above (stale payloads of a
  // recycled file, scanned past the end), this spares a CRC over megabytes.
  if (length > file.size() / 4) {
    *why = "length over a quarter of the file";
    return false;
  }
  const std::uint32_t crc = Crc32c(h + 4, kWalFrameHeaderSize - 4 + length);
  if (UnmaskCrc(Get32(h + kFrameCrc)) != crc) {
    *why = "bad CRC";
    return false;
  }
  out->seq = Get64(h + kFrameSeq);
  out->group_index = Get32(h + kFrameGroupIndex);
  out->type = type;
  out->payload = file.subspan(off + kWalFrameHeaderSize, length);
  out->size = std::min(WalFrameSize(length), file.size() - off);
  return true;
}

}  // namespace

void EncodeWalHeader(const WalFileHeader& header, std::span<std::byte> block) {
  SLUICE_CHECK(block.size() >= kWalBlockSize);
  std::memset(block.data(), 0, kWalBlockSize);
  std::memcpy(block.data(), kWalMagic, sizeof kWalMagic);
  Put32(block.data() + 8, kWalFormatVersion);
  Put32(block.data() + 12, kWalBlockSize);
  Put64(block.data() + 16, header.file_number);
  Put64(block.data() + 24, header.first_seq);
  Put32(block.data() + 32, MaskCrc(Crc32c(block.data(), 32)));
}

Result<WalFileHeader> DecodeWalHeader(std::span<const std::byte> block) {
  if (block.size() < kWalBlockSize) return Corruption("header: file shorter than one block");
  if (std::memcmp(block.data(), kWalMagic, sizeof kWalMagic) != 0) {
    return Corruption("header: bad magic");
  }
  if (UnmaskCrc(Get32(block.data() + 32)) != Crc32c(block.data(), 32)) {
    return Corruption("header: bad CRC");
  }
  if (const auto v = Get32(block.data() + 8); v != kWalFormatVersion) {
    return Corruption("header: unknown format version " + std::to_string(v));
  }
  if (Get32(block.data() + 12) != kWalBlockSize) return Corruption("header: block size not 4096");
  WalFileHeader header{Get64(block.data() + 16), Get64(block.data() + 24)};
  if (header.first_seq == 0) return Corruption("header: first seq 0");
  return header;
}

void EncodeWalFrame(std::uint64_t seq, std::uint32_t group_index, std::uint8_t type,
                    std::span<const std::byte> payload, std::span<std::byte> out) {
  const std::size_t size = WalFrameSize(payload.size());
  SLUICE_CHECK(type != 0 && out.size() >= size && payload.size() <= UINT32_MAX);
  std::byte* h = out.data();
  std::memset(h, 0, size);
  Put32(h + kFrameLength, static_cast<std::uint32_t>(payload.size()));
  Put64(h + kFrameSeq, seq);
  Put32(h + kFrameGroupIndex, group_index);
  h[kFrameType] = std::byte{type};
  if (!payload.empty()) std::memcpy(h + kWalFrameHeaderSize, payload.data(), payload.size());
  const std::uint32_t crc = Crc32c(h + 4, kWalFrameHeaderSize - 4 + payload.size());
  Put32(h + kFrameCrc, MaskCrc(crc));
}

std::uint64_t FirstFrameSeqField(std::span<const std::byte> file) {
  if (file.size() < kWalBlockSize + kWalFrameHeaderSize) return 0;
  return Get64(file.data() + kWalBlockSize + kFrameSeq);
}

Result<WalFileContents> ParseWalFile(std::span<const std::byte> file, const std::string& file_name,
                                     WalFileContents* before_damage) {
  auto header = DecodeWalHeader(file);
  if (!header.ok()) return header.status().WithContext(file_name);
  WalFileContents out;
  out.header = *header;
  std::uint64_t expected = header->first_seq;
  std::size_t off = kWalBlockSize;
  const char* why = "end of file";
  FrameView f;
  while (off < file.size()) {
    if (!ReadFrame(file, off, &f, &why)) break;
    if (f.seq != expected) {
      why = "sequence break";
      break;
    }
    out.records.push_back(WriteBufferRecord{f.seq, f.type, f.payload});
    off += f.size;
    ++expected;
  }
  out.valid_end = off;
  out.torn_end = off;
  if (off >= file.size()) return out;

  // The writer zero-fills every block it writes past its last frame, so
  // non-zero bytes in the rest of the end's block come from the write in
  // flight. At a block boundary the next block may instead hold stale frames
  // of a recycled file; only a frame header carrying the expected seq (its
  // payload damaged) counts as torn there.
  const std::size_t block_end = std::min(file.size(), (off / kWalBlockSize + 1) * kWalBlockSize);
  if (off % kWalBlockSize != 0) {
    for (std::size_t p = block_end; p > off; --p) {
      if (file[p - 1] != std::byte{0}) {
        out.torn_end = p;
        break;
      }
    }
  } else if (file.size() - off >= kWalFrameHeaderSize &&
             Get64(file.data() + off + kFrameSeq) == expected) {
    out.torn_end = block_end;
  }
  // Any valid frame beyond the end with a newer seq was written by the write
  // in flight (torn, discarded) or by a later one (damage: Corruption).
  const std::uint64_t last = expected - 1;
  // No frame of the file can carry a seq beyond as many frames as it holds.
  const std::uint64_t max_seq = last + file.size() / kWalFrameHeaderSize;
  for (std::size_t p = off; p + kWalFrameHeaderSize <= file.size(); p += kWalFrameAlignment) {
    // Cheap plausibility checks before the CRC keep this scan fast over
    // megabytes of zeros, stale frames and their payloads.
    const std::byte* h = file.data() + p;
    if (h[kFrameType] == std::byte{0} || Get64(h + kFrameSeq) <= last ||
        Get64(h + kFrameSeq) > max_seq) {
      continue;
    }
    const char* ignored = nullptr;
    if (!ReadFrame(file, p, &f, &ignored)) continue;
    if (f.group_index <= f.seq && f.seq - f.group_index <= expected) {
      out.torn_end = std::max<std::uint64_t>(out.torn_end, p + f.size);
      continue;
    }
    char msg[160];
    std::snprintf(msg, sizeof msg,
                  "%s: invalid frame at offset %zu (%s) followed by a valid later write "
                  "(seq %llu at offset %zu)",
                  file_name.c_str(), off, why, static_cast<unsigned long long>(f.seq), p);
    if (before_damage != nullptr) {
      out.torn_end = out.valid_end;
      *before_damage = std::move(out);
    }
    return Corruption(msg);
  }
  return out;
}

Result<WalFileHeader> ReadWalFileHeader(Env* env, const std::string& dir, std::uint64_t number) {
  const std::string path = dir + "/" + WalFileName(number);
  SLUICE_ASSIGN_OR_RETURN(auto file, env->OpenFile(path, FileOptions{.read_only = true}));
  std::vector<std::byte> head(kWalBlockSize);
  SLUICE_ASSIGN_OR_RETURN(auto got, file->Read(0, head));
  if (got != kWalBlockSize) return Corruption(path + ": shorter than its header block");
  auto header = DecodeWalHeader(head);
  if (!header.ok()) return header.status().WithContext(path);
  if (header->file_number != number) return Corruption(path + ": header names another file");
  return header;
}

std::string WalFileName(std::uint64_t file_number) {
  char name[32];
  std::snprintf(name, sizeof name, "wal-%08llu.log", static_cast<unsigned long long>(file_number));
  return name;
}

bool ParseWalFileName(const std::string& name, std::uint64_t* file_number) {
  if (name.size() < 13 || !name.starts_with("wal-") || !name.ends_with(".log")) return false;
  const std::string digits = name.substr(4, name.size() - 8);
  if (digits.size() < 8 || digits.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *file_number = v;
  return true;
}

}  // namespace sluice::store

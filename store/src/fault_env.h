// FaultInjectionEnv: a test double that wraps a real Env and can simulate a
// power cut (DropUnsyncedData, DropUnpersisted), a full or failing disk
// (SetWriteError), a write torn part-way (FailAfterBytes / TearNextWrite:
// a prefix, or any subset of its 512-byte sectors), and silent corruption:
// bits flipped in data as it is written or as it is read back
// (FlipBitsOnWrite / FlipBitsOnRead), in the files of one kind. Only tests
// use it.
//
// It keeps, per file path, the pre-image of every range written since the
// last successful sync of that file; a power cut writes the pre-images back
// in reverse order and truncates the file to its size at that sync. That
// models "unsynced data may be lost", in its harshest form (all of it lost),
// while a torn write that is not dropped models "part of it survived".
//
// Persistent regions (MapPersistent) are modelled the same way: pre-images
// of every range written since the region's last successful Drain(), put
// back by the power cut, either all of them or, per 64-byte cache line, a
// random subset (a CPU may have evicted any dirty line before the cut).
//
// Not modelled: directory entries (create, rename, remove are durable at
// once, as if every SyncDir had been called), and reordering of unsynced
// writes within one file. Truncation to the synced size bypasses the wrapped
// Env (std::filesystem::resize_file): the double only works on real files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/env.h"

namespace sluice::store {

// What a file holds, told by its name; selects the files a fault applies to.
enum class FileKind : std::uint8_t {
  kAny = 0,
  kWal = 1,       // write-ahead log files, wal-<n>.log
  kSegment = 2,   // segment files, seg-<n>.dat
  kPmem = 3,      // persistent regions (MapPersistent)
  kMetadata = 4,  // every other file: series.log, partitions.log, store.meta
};

// The kind of the file at `path` (never kPmem: regions are known as such).
FileKind FileKindOf(const std::string& path);

// Silent corruption of `bits` bits per operation (distinct positions, drawn
// from `seed` and the operation's ordinal, so that a run repeats exactly)
// on operations touching files of `kind`: after the first `skip` such
// operations, the next `times` ones (0: all of them). An operation is one
// Write, WriteAndSync (all its slices together) or Read call, or one region
// Write.
struct BitFlips {
  FileKind kind = FileKind::kAny;
  std::uint32_t bits = 1;
  std::uint64_t seed = 1;
  std::uint32_t skip = 0;
  std::uint32_t times = 1;
};

// One bit flipped, where it landed in the file (or region).
struct FlippedBit {
  std::string path;
  std::uint64_t offset = 0;  // byte offset in the file
  std::uint8_t bit = 0;      // 0 = least significant
  bool on_write = true;      // false: only a read saw it; the file is intact
};

class FaultInjectionEnv final : public Env {
 public:
  // `base` must outlive this Env and every File opened through it.
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  // --- Faults. The first three apply to Write, WriteAndSync, Sync and
  // Preallocate of files, and to Write, Flush and Drain of regions.

  // Every later write fails with `code` (kNoSpace, kIoError) and changes
  // nothing, until ClearFaults(). kOk clears it.
  void SetWriteError(StatusCode code);
  // The next `n` bytes are written normally; the write that crosses the
  // budget persists only part of it (unsynced) and fails with `code`, and so
  // does every write after it: a machine that lost power in the middle of a
  // write. The part kept: with `sector_seed` 0, its first bytes up to the
  // budget; otherwise each of its 512-byte sectors (the last may be shorter)
  // independently, chosen by `sector_seed`, whatever the budget (a device
  // that completes the sectors of one write in any order). A persistent
  // region keeps a prefix either way.
  void FailAfterBytes(std::uint64_t n, StatusCode code = StatusCode::kIoError,
                      std::uint64_t sector_seed = 0);
  // The next write keeps only its first `keep` bytes.
  void TearNextWrite(std::uint64_t keep) { FailAfterBytes(keep); }
  // The next write keeps a random subset of its sectors (seed != 0).
  void TearNextWriteSectors(std::uint64_t seed) { FailAfterBytes(0, StatusCode::kIoError, seed); }

  // Silent corruption (see BitFlips): matching writes succeed but land with
  // bits flipped (the caller's buffer is left alone); matching reads return
  // flipped bits while the file stays intact. Regions are read by plain
  // loads, so FlipBitsOnRead never affects them. Arming again replaces the
  // previous setting of the same direction.
  void FlipBitsOnWrite(const BitFlips& flips);
  void FlipBitsOnRead(const BitFlips& flips);
  // Every bit flipped so far, in order.
  std::vector<FlippedBit> flipped_bits() const;

  // Disarms every fault above (flipped_bits() is kept).
  void ClearFaults();

  // The power cut: every file goes back to its content at its last
  // successful sync, and every persistent region to its content at its last
  // successful drain (DropUnpersisted(0)). Call with no write in flight (the
  // log closed).
  Status DropUnsyncedData();
  // Bytes written and not yet synced, over all files.
  std::uint64_t unsynced_bytes() const;

  // The power cut for persistent regions only. seed 0: every byte written
  // since the region's last successful Drain() goes back; otherwise each
  // such cache line (64 bytes) goes back or stays, chosen by `seed`.
  // Restores through the file (the page cache is shared with the mapping),
  // so it works with the region unmapped; call it with none being written.
  Status DropUnpersisted(std::uint64_t seed = 0);
  // Bytes written to regions and not yet drained.
  std::uint64_t unpersisted_bytes() const;

  // --- Env.
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, FileOptions options) override;
  Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  IoEngine io_engine() const override { return base_->io_engine(); }
  // Writes count against the armed faults like file writes; Drain() fails
  // like Sync() once the machine is "off".
  Result<std::unique_ptr<PersistentRegion>> MapPersistent(const std::string& path,
                                                          std::uint64_t size) override;

 private:
  friend class FaultFile;
  friend class FaultRegion;

  struct Undo {
    std::uint64_t offset = 0;
    std::vector<std::byte> pre_image;  // the bytes that were there, within the old size
  };
  struct FileState {
    std::uint64_t synced_size = 0;  // size at the last sync; valid when undo non-empty
    std::vector<Undo> undo;         // in write order
    std::uint64_t unsynced = 0;
  };

  struct FlipState {
    bool armed = false;
    BitFlips spec;
    std::uint64_t seen = 0;  // matching operations so far
  };

  // How many of `n` bytes may be written now (all of them when no fault is
  // armed), and the error to return when fewer. Consumes the budget. When
  // the write is torn by sectors, `*sector_seed` is set (else 0).
  std::uint64_t Admit(std::uint64_t n, Status* error, std::uint64_t* sector_seed = nullptr);
  // The bit positions (in [0, 8 * n)) to flip in an operation of `n` bytes
  // on `path` of `kind`; empty when none. Records nothing yet.
  std::vector<std::uint64_t> PlanFlips(FlipState& state, FileKind kind, std::uint64_t n);
  void NoteFlip(const std::string& path, std::uint64_t offset, std::uint8_t bit, bool on_write);
  // Saves the pre-image of [offset, offset+n) of `path` before it is written.
  Status RecordWrite(File* shadow, const std::string& path, std::uint64_t offset, std::uint64_t n);
  void MarkSynced(const std::string& path);
  // Saves the pre-image of a region range before it is written.
  void RecordRegionWrite(const PersistentRegion& region, std::uint64_t offset, std::uint64_t n);
  void MarkPersisted(const std::string& path);

  Env* const base_;
  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;
  std::map<std::string, std::vector<Undo>> regions_;  // by path, in write order
  std::uint64_t unpersisted_ = 0;
  StatusCode error_ = StatusCode::kOk;  // armed: every write fails
  bool budget_armed_ = false;
  std::uint64_t budget_ = 0;
  StatusCode budget_code_ = StatusCode::kIoError;
  std::uint64_t sector_seed_ = 0;  // tear the crossing write by sectors
  bool tripped_ = false;           // the budget ran out: the machine is off
  FlipState write_flips_, read_flips_;  // GUARDED_BY(mu_)
  std::vector<FlippedBit> flipped_;     // GUARDED_BY(mu_)
};

}  // namespace sluice::store

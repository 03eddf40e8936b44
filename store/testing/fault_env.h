// FaultInjectionEnv: a test double that wraps a real Env and can simulate a
// power cut (DropUnsyncedData, DropUnpersisted), a full or failing disk
// (SetWriteError), a write torn part-way (FailAfterBytes / TearNextWrite:
// a prefix, or any subset of its 512-byte sectors), and silent corruption:
// bits flipped in data as it is written or as it is read back
// (FlipBitsOnWrite / FlipBitsOnRead), in the files of one kind. For
// exhaustive sweeps it counts every mutating call and can fail the k-th
// (FailCall: ENOSPC from it on, EIO at it only, or a crash right after it).
// Only tests use it.
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
// Directory entries are modelled too: a file created (OpenFile with create,
// MapPersistent of a missing file), renamed or removed since the last
// successful SyncDir of its directory is put back by the power cut: a
// created file disappears, a removed one comes back with its synced content,
// a rename is undone (the old name comes back; the new name disappears, or
// gets back the synced content of the file it replaced). A rename between two
// directories is durable only once both are synced. Renaming a whole
// directory (the set-aside log, wal -> wal.corrupt-N) moves what is tracked
// inside it along.
//
// A Preallocate that meets ENOSPC (SetWriteError(kNoSpace), FailAfterBytes
// with kNoSpace, or FailCall kNoSpaceFrom) extends the file part-way, to a
// size that is not a multiple of 4096, and fails, as ext4 did (a segment
// file of 8,989,696 bytes after a crash on a full disk); that extension
// survives a power cut (file system metadata, journalled). One that needs no
// new space succeeds even then, as fallocate over allocated extents does.
//
// Not modelled: CreateDirs (directories are durable once made, as if their
// parent had been synced), MapPersistent's sizing of a new file (durable at
// once, and not counted as a mutating call), reordering of unsynced writes
// within one file, and directory operations reaching the disk in another
// order than they were made. SetWriteError applies to file and region data
// only: directory operations go on while it is armed (FailCall and a spent
// FailAfterBytes stop them too). Truncation to the synced size bypasses the
// wrapped Env (std::filesystem): the double only works on real files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/mutex.h"
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

  // --- Sweeps, in the spirit of SQLite's I/O error tests. Every mutating
  // call is counted: Write, WriteAndSync, Sync and Preallocate of files,
  // OpenFile with create, Rename, Remove, SyncDir, and Write, Flush and Drain
  // of regions. A directory operation is of the kind of the file it names
  // (Rename: the old name); SyncDir of a directory named "wal" is kWal, of
  // "segments" kSegment, of any other kMetadata.
  enum class CallFault : std::uint8_t {
    // The k-th call fails with NoSpace, and so does every later mutating
    // call, of any kind, until ClearFaults(): a full disk stays full. The
    // k-th call, when a write, leaves the first half of its bytes (unsynced);
    // every Preallocate that needs space extends the file part-way (above).
    kNoSpaceFrom = 1,
    // Only the k-th call fails, with IoError. A WriteAndSync so failed
    // leaves all its bytes, unsynced (the write went, the sync did not);
    // any other call changes nothing.
    kIoErrorAt = 2,
    // The k-th call completes; from then on the machine is off: every later
    // mutating call fails with IoError and changes nothing, as after
    // PowerOff(). Then DropUnsyncedData() and ClearFaults() to restart.
    kCrashAfter = 3,
  };
  // Arms `fault` at the `k`-th mutating call (from 1, counted from now on)
  // on files of `kind` (kAny: every call). Replaces a fault armed before.
  void FailCall(CallFault fault, std::uint64_t k, FileKind kind = FileKind::kAny);
  // Mutating calls so far on files of `kind` (kAny: all), failed or not.
  std::uint64_t mutating_calls(FileKind kind = FileKind::kAny) const;
  // The machine goes off now: every later mutating call fails with IoError
  // and changes nothing, until ClearFaults().
  void PowerOff();
  bool powered_off() const;

  // Disarms every fault above (flipped_bits() and the call counts are kept).
  void ClearFaults();

  // The power cut: every file goes back to its content at its last
  // successful sync, every persistent region to its content at its last
  // successful drain (DropUnpersisted(0)), and every directory entry created,
  // renamed or removed since the last successful SyncDir of its directory
  // is put back. Call with no write in flight (the log closed). Faults stay
  // armed: ClearFaults() restarts the machine.
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
  Status SyncDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  IoEngine io_engine() const override { return base_->io_engine(); }
  // The wrapped Env's answer, but 0 bytes free while the disk is full:
  // SetWriteError(kNoSpace), a spent FailAfterBytes with kNoSpace, or a
  // FailCall kNoSpaceFrom whose k-th call has come.
  Result<Space> FileSystemSpace(const std::string& path) override;
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
    // A partial preallocation on ENOSPC: the file keeps at least this size
    // through a power cut (zeros past synced_size).
    std::uint64_t durable_size = 0;
  };

  // A directory entry changed since the last SyncDir of its directory.
  struct DirOp {
    enum class Type : std::uint8_t { kCreate, kRename, kRemove };
    Type type = Type::kCreate;
    std::string path;  // created or removed; for a rename, the old name
    std::string to;    // rename: the new name
    // Remove: the removed file's synced content; rename: that of the file
    // the new name replaced (had_image false: it replaced nothing).
    bool had_image = false;
    std::string image;
    bool directory = false;          // a directory was removed
    std::set<std::string> unsynced;  // directories to sync before it is durable
  };

  // What one mutating call may do, decided by CountCall.
  struct Verdict {
    Status error;        // not OK: the call fails with it
    bool first = false;  // the call the armed FailCall hit (partial effects)
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
  // `which` is write_flips_ or read_flips_.
  std::vector<std::uint64_t> PlanFlips(FlipState FaultInjectionEnv::*which, FileKind kind,
                                       std::uint64_t n);
  void NoteFlip(const std::string& path, std::uint64_t offset, std::uint8_t bit, bool on_write);
  // Saves the pre-image of [offset, offset+n) of `path` before it is written.
  Status RecordWrite(File* shadow, const std::string& path, std::uint64_t offset, std::uint64_t n);
  void MarkSynced(const std::string& path);
  // Saves the pre-image of a region range before it is written.
  void RecordRegionWrite(const PersistentRegion& region, std::uint64_t offset, std::uint64_t n);
  void MarkPersisted(const std::string& path);

  // Counts one mutating call on a file of `kind` and decides its fate under
  // FailCall, PowerOff and a spent FailAfterBytes (SetWriteError and the
  // byte budget of file and region data are Admit's).
  Verdict CountCall(FileKind kind);
  // Whether the disk is full now (see FileSystemSpace).
  bool FullLocked() const SLUICE_REQUIRES(mu_);
  // The content `path` would have after a power cut (its synced bytes).
  Result<std::string> SyncedImage(const std::string& path);
  // Directory entries: recorded after the wrapped Env made the change.
  void RecordCreate(const std::string& path);
  // Moves what is tracked under `from` (a file, or a directory and
  // everything below it) to `to`; also in the pending directory operations
  // before position `ops_end` of dir_ops_.
  void RekeyLocked(const std::string& from, const std::string& to, std::size_t ops_end)
      SLUICE_REQUIRES(mu_);
  static void RekeyOps(std::vector<DirOp>& ops, std::size_t end, const std::string& from,
                       const std::string& to);
  // A partial preallocation of `path` to `size` that a power cut keeps.
  void KeepSize(const std::string& path, std::uint64_t size);
  // Puts back every directory operation not made durable, newest first.
  Status UndoDirOps();

  Env* const base_;
  mutable Mutex mu_;
  std::map<std::string, FileState> files_;
  std::map<std::string, std::vector<Undo>> regions_;  // by path, in write order
  std::uint64_t unpersisted_ = 0;
  StatusCode error_ = StatusCode::kOk;  // armed: every write fails
  bool budget_armed_ = false;
  std::uint64_t budget_ = 0;
  StatusCode budget_code_ = StatusCode::kIoError;
  std::uint64_t sector_seed_ = 0;  // tear the crossing write by sectors
  bool tripped_ = false;           // the budget ran out: the machine is off
  FlipState write_flips_ SLUICE_GUARDED_BY(mu_);
  FlipState read_flips_ SLUICE_GUARDED_BY(mu_);
  std::vector<DirOp> dir_ops_ SLUICE_GUARDED_BY(mu_);  // in order
  // Sweeps.
  std::uint64_t calls_[5] SLUICE_GUARDED_BY(mu_) = {};  // by FileKind
  CallFault call_fault_ SLUICE_GUARDED_BY(mu_) = CallFault::kNoSpaceFrom;
  bool call_armed_ SLUICE_GUARDED_BY(mu_) = false;
  std::uint64_t call_k_ SLUICE_GUARDED_BY(mu_) = 0;
  FileKind call_kind_ = FileKind::kAny;
  std::uint64_t call_seen_ = 0;  // matching calls since armed
  bool disk_full_ = false;       // kNoSpaceFrom came
  bool powered_off_ = false;     // kCrashAfter came, or PowerOff()
  std::vector<FlippedBit> flipped_ SLUICE_GUARDED_BY(mu_);
};

}  // namespace sluice::store

// FaultInjectionEnv: a test double that wraps a real Env and can simulate a
// power cut (DropUnsyncedData, DropUnpersisted), a full or failing disk
// (SetWriteError), and a write torn part-way (FailAfterBytes /
// TearNextWrite). Only tests use it.
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

class FaultInjectionEnv final : public Env {
 public:
  // `base` must outlive this Env and every File opened through it.
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  // --- Faults. Each applies to writes, WriteAndSync, Sync and Preallocate.

  // Every later write fails with `code` (kNoSpace, kIoError) and changes
  // nothing, until ClearFaults(). kOk clears it.
  void SetWriteError(StatusCode code);
  // The next `n` bytes are written normally; the write that crosses the
  // budget persists only its first bytes (up to the budget, unsynced) and
  // fails with `code`, and so does every write after it: a machine that lost
  // power in the middle of a write.
  void FailAfterBytes(std::uint64_t n, StatusCode code = StatusCode::kIoError);
  // FailAfterBytes(keep): the next write keeps only its first `keep` bytes.
  void TearNextWrite(std::uint64_t keep) { FailAfterBytes(keep); }
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

  // How many of `n` bytes may be written now (all of them when no fault is
  // armed), and the error to return when fewer. Consumes the budget.
  std::uint64_t Admit(std::uint64_t n, Status* error);
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
};

}  // namespace sluice::store

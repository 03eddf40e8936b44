// FaultInjectionEnv's model of directory entries (fault_env.h): creates,
// renames and removes are recorded per directory and undone by a power cut
// unless the directory was synced after them.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include "fault_env.h"

namespace sluice::store {

namespace {

// One spelling per path, so that a directory and the entries in it match.
std::string Norm(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string ParentOf(const std::string& path) {
  return std::filesystem::path(Norm(path)).parent_path().string();
}

// Whether `path` is `dir` or below it.
bool Under(const std::string& path, const std::string& dir) {
  return path == dir ||
         (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

FileKind DirKindOf(const std::string& dir) {
  const std::string name = std::filesystem::path(Norm(dir)).filename().string();
  if (name == "wal") return FileKind::kWal;
  if (name == "segments") return FileKind::kSegment;
  return FileKind::kMetadata;
}

}  // namespace

void FaultInjectionEnv::RecordCreate(const std::string& path) {
  DirOp op;
  op.type = DirOp::Type::kCreate;
  op.path = Norm(path);
  op.unsynced = {ParentOf(path)};
  MutexLock lock(mu_);
  dir_ops_.push_back(std::move(op));
}

void FaultInjectionEnv::RekeyOps(std::vector<DirOp>& ops, std::size_t end, const std::string& from,
                                 const std::string& to) {
  const auto moved = [&](std::string& p) {
    if (Under(p, from)) p = to + p.substr(from.size());
  };
  for (std::size_t i = 0; i < end && i < ops.size(); ++i) {
    moved(ops[i].path);
    if (ops[i].type == DirOp::Type::kRename) moved(ops[i].to);
    std::set<std::string> dirs;
    for (std::string d : ops[i].unsynced) {
      moved(d);
      dirs.insert(std::move(d));
    }
    ops[i].unsynced = std::move(dirs);
  }
}

void FaultInjectionEnv::RekeyLocked(const std::string& from, const std::string& to,
                                    std::size_t ops_end) {
  // Tracked under the new name before: the entry it replaced, now gone.
  std::erase_if(files_, [&](const auto& e) { return Under(Norm(e.first), to); });
  std::erase_if(regions_, [&](const auto& e) { return Under(Norm(e.first), to); });
  const auto rekey = [&](auto& map) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : map) {
      if (Under(Norm(k), from)) keys.push_back(k);
    }
    for (const auto& k : keys) {
      auto node = map.extract(k);
      node.key() = to + Norm(k).substr(from.size());
      map.insert(std::move(node));
    }
  };
  rekey(files_);
  rekey(regions_);
  RekeyOps(dir_ops_, ops_end, from, to);
}

Status FaultInjectionEnv::UndoDirOps() {
  namespace fs = std::filesystem;
  std::vector<DirOp> ops;
  {
    MutexLock lock(mu_);
    ops.swap(dir_ops_);
  }
  const auto write_whole = [](const std::string& path, const std::string& image) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
    out.close();
    return out ? Status::Ok() : IoError("fault env: cannot restore " + path);
  };
  for (std::size_t i = ops.size(); i-- > 0;) {
    const DirOp& op = ops[i];
    std::error_code ec;
    switch (op.type) {
      case DirOp::Type::kCreate:
        fs::remove_all(op.path, ec);
        if (ec) return ErrnoStatus("fault env: undoing the creation of " + op.path, ec.value());
        break;
      case DirOp::Type::kRemove:
        if (op.directory) {
          fs::create_directories(op.path, ec);
          if (ec) return ErrnoStatus("fault env: bringing back " + op.path, ec.value());
        } else {
          SLUICE_RETURN_IF_ERROR(write_whole(op.path, op.image));
        }
        break;
      case DirOp::Type::kRename:
        // Whatever was made under the old name since sat in the same
        // unsynced directory, so it goes too.
        fs::remove_all(op.path, ec);
        fs::rename(op.to, op.path, ec);
        if (ec) return ErrnoStatus("fault env: undoing rename to " + op.to, ec.value());
        if (op.had_image) SLUICE_RETURN_IF_ERROR(write_whole(op.to, op.image));
        // Earlier operations named things by the new name.
        RekeyOps(ops, i, op.to, op.path);
        break;
    }
  }
  return Status::Ok();
}

Status FaultInjectionEnv::Rename(const std::string& from, const std::string& to) {
  if (auto v = CountCall(FileKindOf(from)); !v.error.ok()) return v.error;
  DirOp op;
  op.type = DirOp::Type::kRename;
  op.path = Norm(from);
  op.to = Norm(to);
  op.unsynced = {ParentOf(from), ParentOf(to)};
  std::error_code ec;
  if (std::filesystem::is_regular_file(to, ec)) {
    auto image = SyncedImage(to);
    if (!image.ok()) return image.status();
    op.had_image = true;
    op.image = std::move(*image);
  }
  SLUICE_RETURN_IF_ERROR(base_->Rename(from, to));
  MutexLock lock(mu_);
  RekeyLocked(op.path, op.to, dir_ops_.size());
  dir_ops_.push_back(std::move(op));
  return Status::Ok();
}

Status FaultInjectionEnv::Remove(const std::string& path) {
  if (auto v = CountCall(FileKindOf(path)); !v.error.ok()) return v.error;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return base_->Remove(path);
  DirOp op;
  op.type = DirOp::Type::kRemove;
  op.path = Norm(path);
  op.unsynced = {ParentOf(path)};
  op.directory = std::filesystem::is_directory(path, ec);
  if (!op.directory) {
    auto image = SyncedImage(path);
    if (!image.ok()) return image.status();
    op.had_image = true;
    op.image = std::move(*image);
  }
  SLUICE_RETURN_IF_ERROR(base_->Remove(path));
  MutexLock lock(mu_);
  std::erase_if(files_, [&](const auto& e) { return Under(Norm(e.first), op.path); });
  dir_ops_.push_back(std::move(op));
  return Status::Ok();
}

Status FaultInjectionEnv::SyncDir(const std::string& path) {
  if (auto v = CountCall(DirKindOf(path)); !v.error.ok()) return v.error;
  SLUICE_RETURN_IF_ERROR(base_->SyncDir(path));
  const std::string dir = Norm(path);
  MutexLock lock(mu_);
  for (auto& op : dir_ops_) op.unsynced.erase(dir);
  std::erase_if(dir_ops_, [](const DirOp& op) { return op.unsynced.empty(); });
  return Status::Ok();
}

}  // namespace sluice::store

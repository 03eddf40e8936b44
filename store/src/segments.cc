#include "segments.h"

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <set>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/kill_point.h"
#include "store_logs.h"

namespace sluice::store {
namespace {

std::string SegmentHeader(std::uint32_t id) {
  std::string h;
  PutFixed32(h, kSegmentMagic);
  PutFixed32(h, kSegmentVersion);
  PutFixed32(h, id);
  PutFixed32(h, MaskCrc(Crc32c(h.data(), h.size())));
  h.resize(kPage, '\0');
  return h;
}

bool AllZero(std::string_view s) {
  return s.find_first_not_of('\0') == std::string_view::npos;
}

Result<std::string> ReadAt(File& f, std::uint64_t offset, std::size_t n) {
  std::string buf(n, '\0');
  SLUICE_ASSIGN_OR_RETURN(auto got, f.Read(offset, {reinterpret_cast<std::byte*>(buf.data()), n}));
  buf.resize(got);
  return buf;
}

// "seg-00000012.dat" -> 12; 0 when the name is not a segment's.
std::uint32_t ParseSegmentName(const std::string& name) {
  unsigned id = 0;
  char tail = 0;
  if (name.size() != 16 || std::sscanf(name.c_str(), "seg-%8u.da%c", &id, &tail) != 2 ||
      tail != 't') {
    return 0;
  }
  return id;
}

}  // namespace

std::string Segments::PathIn(const std::string& dir, std::uint32_t id) {
  char name[32];
  std::snprintf(name, sizeof name, "/seg-%08u.dat", id);
  return dir + name;
}

std::string Segments::PathOf(std::uint32_t id) const { return PathIn(options_.dir, id); }

Result<std::unique_ptr<Segments>> Segments::Open(Env* env, const SegmentOptions& options,
                                                 std::vector<FoundBlock>* found,
                                                 SegmentRecovery* recovery,
                                                 const SegmentStart* start) {
  std::unique_ptr<Segments> s(new Segments(env, options));
  SLUICE_RETURN_IF_ERROR(env->CreateDirs(options.dir));
  // A store made before segments.log existed has segments nobody logged:
  // those are adopted, never taken for leftovers.
  const bool had_log = env->Exists(options.dir + "/segments.log");
  std::map<std::uint32_t, bool>& logged = s->logged_;  // id -> created and not removed
  auto accept = [&](std::string_view e) SLUICE_NO_THREAD_SAFETY_ANALYSIS {  // from Open
    SegmentEvent event;
    std::uint32_t id = 0;
    if (!DecodeSegmentLogEntry(e, event, id)) return false;
    logged[id] = event == SegmentEvent::kCreated;
    if (event == SegmentEvent::kCreated) s->max_created_ = std::max(s->max_created_, id);
    return true;
  };
  auto log = start ? LogFile::OpenFrom(env, options.dir, "segments.log", kSegmentLogFormat,
                                       start->log_bytes, accept)
                   : LogFile::Open(env, options.dir, "segments.log", kSegmentLogFormat, accept,
                                   nullptr);
  if (!log.ok()) return log.status().WithContext(options.dir + "/segments.log");
  s->log_ = std::move(*log);
  // Segments up to the checkpoint's highest created id were logged created
  // before it, even when only the entries after it were read.
  const std::uint32_t known_created = start ? start->max_created : 0;
  s->max_created_ = std::max(s->max_created_, known_created);
  SLUICE_ASSIGN_OR_RETURN(auto names, env->ListDir(options.dir));
  SegmentRecovery rec;
  std::set<std::uint32_t> present;
  // Entries the log should get but could not (a full disk): the next Open
  // tries again, so nothing is lost by going on without them.
  auto log_life = [&](SegmentEvent event, std::uint32_t id) {
    if (Status st = s->LogLife(event, id); !st.ok()) {
      rec.notes.push_back("segments.log not updated for segment " + std::to_string(id) + " (" +
                          st.message() + "); retried at the next start");
    }
  };
  bool appendable = false;
  for (const auto& name : names) {
    const std::uint32_t id = ParseSegmentName(name);
    if (id == 0) continue;
    const auto life = logged.find(id);
    if (life != logged.end() && !life->second) {
      // Logged removed, then a crash before the file went: finish it.
      // Removing frees space, so this works on a full disk too.
      SLUICE_RETURN_IF_ERROR(env->Remove(s->PathOf(id)));
      SLUICE_RETURN_IF_ERROR(env->SyncDir(options.dir));
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(auto f, env->OpenFile(s->PathOf(id), {}));
    if (start && id < start->segment) {
      // Covered by the checkpoint: neither read nor appended to. One cut
      // short is said, as a scan would; its blocks past the cut fail their
      // check when read.
      if (auto size = f->Size(); size.ok() && *size < options.segment_size) {
        ++rec.truncated;
        rec.notes.push_back(s->PathOf(id) + ": " + std::to_string(*size) + " bytes, not " +
                            std::to_string(options.segment_size) +
                            " (segment_size): truncated? blocks past the end are lost");
      }
      present.insert(id);
      s->readers_[id] = std::move(f);
      ++rec.segments;
      continue;
    }
    const std::uint64_t from =
        start && id == start->segment ? std::max<std::uint64_t>(kPage, start->page * kPage) : kPage;
    SLUICE_ASSIGN_OR_RETURN(auto scan, s->Scan(id, *f, found, &rec, from));
    if (!scan.header_ok && life == logged.end() && had_log && id > known_created) {
      // Created, never logged, no valid header: an interrupted creation.
      f.reset();
      SLUICE_RETURN_IF_ERROR(env->Remove(s->PathOf(id)));
      SLUICE_RETURN_IF_ERROR(env->SyncDir(options.dir));
      ++rec.leftover_files;
      rec.notes.push_back(s->PathOf(id) + ": left by an interrupted segment creation (" +
                          std::to_string(scan.size) + " bytes, no header); deleted");
      continue;
    }
    // Not logged but valid: made before the log existed, or a crash came
    // between the file becoming durable and its entry.
    if (life == logged.end() && id > known_created) log_life(SegmentEvent::kCreated, id);
    present.insert(id);
    s->readers_[id] = std::move(f);
    s->current_ = id;
    s->tail_ = scan.tail;
    appendable = scan.appendable;
    ++rec.segments;
  }
  for (const auto& [id, alive] : logged) {
    if (!alive || present.count(id) != 0) continue;
    // Said once: logged removed from here on, so the loss is counted at
    // this Open and the id may be used again.
    ++rec.missing_segments;
    rec.notes.push_back(s->PathOf(id) + ": missing, though the store never removed it: the " +
                        "blocks in it are lost, except records the write buffer still holds");
    log_life(SegmentEvent::kRemoved, id);
  }
  if (!present.empty() && s->current_ < *present.rbegin()) {
    // Every segment at or after the checkpoint's is gone: none is appended
    // to, and new ids go above every one present.
    s->current_ = *present.rbegin();
    appendable = false;
  }
  if (s->current_ != 0 && appendable) {
    SLUICE_ASSIGN_OR_RETURN(auto w, env->OpenFile(s->PathOf(s->current_), {.direct = true}));
    s->writer_ = std::move(w);
  } else if (s->current_ != 0) {
    s->tail_ = options.segment_size;  // the next block starts a new segment
  }
  if (recovery) *recovery = std::move(rec);
  return s;
}

Result<Segments::ScanResult> Segments::Scan(std::uint32_t id, File& file,
                                            std::vector<FoundBlock>* found,
                                            SegmentRecovery* rec, std::uint64_t from,
                                            std::uint64_t until) {
  const std::string path = PathOf(id);
  SLUICE_ASSIGN_OR_RETURN(auto full_size, file.Size());
  const std::uint64_t file_size = full_size;
  // A walk that stops short of the end sees the file as ending there.
  const std::uint64_t size = std::min(file_size, until);
  ScanResult result;
  result.size = file_size;
  SLUICE_ASSIGN_OR_RETURN(auto head, ReadAt(file, 0, kPage));
  if (head != SegmentHeader(id)) {
    // An unreadable segment header: the file is not trusted at all. Its
    // blocks are still in the write buffer if they were not yet released,
    // otherwise they are lost and counted. (The caller deletes it instead
    // when it is the leftover of an interrupted creation.)
    rec->quarantined_pages += size / kPage;
    rec->notes.push_back(path + ": bad segment header, segment ignored");
    return result;  // never appended to
  }
  result.header_ok = true;
  std::uint64_t off = from;
  std::uint64_t end = from;  // just past the last valid block
  // After damage the walk cannot trust a page of zeros to mean "end of
  // segment" (block bodies may hold such pages), so it looks at every page
  // to the end for the next valid header.
  bool after_damage = false;
  bool at_zeros = false;  // the walk ended on a page of zeros, not at the end of the file
  while (off + kPage <= size) {
    auto page = ReadAt(file, off, kPage);
    if (!page.ok()) return page.status();
    if (AllZero(*page)) {
      at_zeros = !after_damage;
      if (!after_damage) break;
      off += kPage;
      continue;
    }
    std::size_t need = 0;
    auto h = ParseBlockHeader(*page, need);
    if (!h.ok() && need > 0 && off + need <= size) {
      page = ReadAt(file, off, need);
      if (!page.ok()) return page.status();
      h = ParseBlockHeader(*page, need);
    }
    const std::uint64_t len = h.ok() ? PaddedBlockSize(h->header_len + h->body_len) : 0;
    if (!h.ok() || off + len > size) {
      after_damage = true;
      ++rec->quarantined_pages;
      rec->notes.push_back(
          path + " at offset " + std::to_string(off) + ": " +
          (h.ok() ? std::string("block runs past the end") : h.status().message()));
      off += kPage;
      continue;
    }
    if (found) {
      found->push_back({{id, static_cast<std::uint32_t>(off / kPage),
                         static_cast<std::uint32_t>(len / kPage)},
                        std::move(*h)});
    }
    ++rec->blocks;
    off += len;
    end = off;
  }
  // Segments are made whole (reserved to segment_size and synced) before
  // their header is written, so one that ends in its blocks, short of
  // segment_size, lost its end: blocks past it are gone unless the write
  // buffer still has them. Said (a segment made with another segment_size
  // earns the note too).
  if (!after_damage && !at_zeros && size < options_.segment_size && until == UINT64_MAX) {
    ++rec->truncated;
    rec->notes.push_back(path + ": " + std::to_string(size) + " bytes, ending in its blocks, not " +
                         std::to_string(options_.segment_size) +
                         " (segment_size): truncated? blocks past the end are lost");
  }
  // New blocks go after everything seen, damaged pages included, so that
  // nothing is written over bytes recovery could not explain; and only into
  // a whole segment.
  result.tail = after_damage ? (size + kPage - 1) / kPage * kPage : end;
  result.appendable = file_size == options_.segment_size && result.tail < file_size;
  return result;
}

Status Segments::StartSegment(std::uint32_t id) {
  const std::string path = PathOf(id);
  SLUICE_ASSIGN_OR_RETURN(auto w, env_->OpenFile(path, {.create = true, .direct = true}));
  // Until it is logged created, a failure leaves a file no block was ever
  // written to: deleted here, to give its space back, or at the next Open.
  auto unmake = [&](Status st) {
    w.reset();
    (void)env_->Remove(path);
    return st;
  };
  Status st = w->Preallocate(options_.segment_size, Preallocation::kReserve);
  if (!st.ok()) return unmake(st);
  KillPoint("segment_create");
  const std::string header = SegmentHeader(id);
  AlignedBuffer buf = AllocateAligned(kPage);
  std::memcpy(buf.get(), header.data(), kPage);
  const WriteSlice slice{0, {buf.get(), kPage}};
  st = w->WriteAndSync({&slice, 1});
  if (st.ok()) st = env_->SyncDir(options_.dir);
  if (st.ok()) KillPoint("segment_create");
  if (st.ok()) st = LogLife(SegmentEvent::kCreated, id);
  if (!st.ok()) return unmake(st);
  SLUICE_ASSIGN_OR_RETURN(auto r, env_->OpenFile(path, {}));
  {
    MutexLock lock(mu_);
    readers_[id] = std::move(r);
  }
  writer_ = std::move(w);
  current_ = id;
  tail_ = kPage;
  return Status::Ok();
}

Result<BlockAddress> Segments::Append(std::string_view block) {
  SLUICE_CHECK(block.size() % kPage == 0 && !block.empty());
  if (block.size() > options_.segment_size - kPage) {
    return InvalidArgument("block of " + std::to_string(block.size()) +
                           " bytes does not fit a segment");
  }
  if (current_ == 0 || writer_ == nullptr || tail_ + block.size() > options_.segment_size) {
    SLUICE_RETURN_IF_ERROR(StartSegment(current_ + 1));
  }
  if (tail_ % kPage != 0) {
    return Corruption("segment " + std::to_string(current_) + ": tail " + std::to_string(tail_) +
                    " is not page-aligned");
  }
  AlignedBuffer buf = AllocateAligned(block.size());
  std::memcpy(buf.get(), block.data(), block.size());
  const WriteSlice slice{tail_, {buf.get(), block.size()}};
  Status s = writer_->WriteAndSync({&slice, 1});
  if (!s.ok()) {
    // The bytes may be partly on disk. Skip past them so that nothing is
    // ever written over a torn block's header; recovery quarantines it.
    tail_ += block.size();
    return s;
  }
  BlockAddress a{current_, static_cast<std::uint32_t>(tail_ / kPage),
                 static_cast<std::uint32_t>(block.size() / kPage)};
  tail_ += block.size();
  return a;
}

Result<std::vector<BlockAddress>> Segments::AppendMany(std::span<const AlignedBlock> blocks) {
  std::vector<BlockAddress> out;
  out.reserve(blocks.size());
  for (const AlignedBlock& b : blocks) {
    SLUICE_CHECK(b.size % kPage == 0 && b.size != 0);
    if (b.size > options_.segment_size - kPage) {
      return InvalidArgument("block of " + std::to_string(b.size) +
                             " bytes does not fit a segment");
    }
  }
  std::size_t i = 0;
  while (i < blocks.size()) {
    if (current_ == 0 || writer_ == nullptr || tail_ + blocks[i].size > options_.segment_size) {
      SLUICE_RETURN_IF_ERROR(StartSegment(current_ + 1));
    }
    // As many as fit the current segment: one write each from their own
    // memory, one sync.
    std::vector<WriteSlice> slices;
    std::uint64_t at = tail_;
    std::size_t n = i;
    while (n < blocks.size() && at + blocks[n].size <= options_.segment_size) {
      slices.push_back({at, {blocks[n].bytes.get(), blocks[n].size}});
      at += blocks[n].size;
      ++n;
    }
    Status s = writer_->WriteAndSync(slices);
    if (!s.ok()) {
      tail_ = at;  // as Append: never write over a torn block's header
      return s;
    }
    for (std::size_t k = i; k < n; ++k) {
      out.push_back({current_, static_cast<std::uint32_t>(tail_ / kPage),
                     static_cast<std::uint32_t>(blocks[k].size / kPage)});
      tail_ += blocks[k].size;
    }
    i = n;
  }
  return out;
}

Result<std::string> Segments::Read(const BlockAddress& a) const {
  File* f = nullptr;
  {
    MutexLock lock(mu_);
    auto it = readers_.find(a.segment);
    if (it == readers_.end()) {
      return NotFound("segment " + std::to_string(a.segment) + " is gone");
    }
    f = it->second.get();
  }
  SLUICE_ASSIGN_OR_RETURN(auto bytes,
                          ReadAt(*f, std::uint64_t{a.page} * kPage, std::size_t{a.pages} * kPage));
  if (bytes.size() != std::size_t{a.pages} * kPage) {
    return Corruption(PathOf(a.segment) + ": short read of block at page " +
                      std::to_string(a.page));
  }
  return bytes;
}

Status Segments::Remove(std::uint32_t segment) {
  SLUICE_CHECK(segment != current_);
  // Logged first: if that fails (a full disk), the segment stays known and
  // a later Remove tries again.
  SLUICE_RETURN_IF_ERROR(LogLife(SegmentEvent::kRemoved, segment));
  {
    MutexLock lock(mu_);
    readers_.erase(segment);
  }
  SLUICE_RETURN_IF_ERROR(env_->Remove(PathOf(segment)));
  return env_->SyncDir(options_.dir);
}

Status Segments::LogLife(SegmentEvent event, std::uint32_t id) {
  MutexLock lock(log_mu_);
  SLUICE_RETURN_IF_ERROR(log_->Append(EncodeSegmentLogEntry(event, id))
                             .WithContext(options_.dir + "/segments.log"));
  if (event == SegmentEvent::kCreated) max_created_ = std::max(max_created_, id);
  return Status::Ok();
}

Status Segments::ScanBefore(const SegmentStart& start, std::vector<FoundBlock>* found,
                            SegmentRecovery* rec) {
  std::vector<std::uint32_t> ids;
  {
    MutexLock lock(mu_);
    for (const auto& [id, f] : readers_) {
      if (id <= start.segment) ids.push_back(id);
    }
  }
  for (std::uint32_t id : ids) {
    SLUICE_ASSIGN_OR_RETURN(auto f, env_->OpenFile(PathOf(id), {}));
    auto scan = Scan(id, *f, found, rec, kPage,
                     id == start.segment ? std::uint64_t{start.page} * kPage : UINT64_MAX);
    if (!scan.ok()) return scan.status();
  }
  return Status::Ok();
}

std::uint32_t Segments::CheckLive(const std::vector<std::uint32_t>& live, SegmentRecovery* rec) {
  std::uint32_t missing = 0;
  for (std::uint32_t id : live) {
    if (Has(id)) continue;
    const auto life = logged_.find(id);
    if (life != logged_.end() && !life->second) continue;  // removed by the store since
    ++missing;
    rec->notes.push_back(PathOf(id) + ": missing, though the store never removed it: the " +
                         "blocks in it are lost, except records the write buffer still holds");
    if (Status st = LogLife(SegmentEvent::kRemoved, id); !st.ok()) {
      rec->notes.push_back("segments.log not updated for segment " + std::to_string(id) + " (" +
                           st.message() + "); retried at the next start");
    }
  }
  rec->missing_segments += missing;
  return missing;
}

std::optional<SegmentLife> Segments::Life() const {
  MutexLock log_lock(log_mu_);
  if (log_->rewrite_pending()) return std::nullopt;
  SegmentLife life;
  life.log_bytes = log_->size();
  life.max_created = max_created_;
  MutexLock lock(mu_);
  for (const auto& [id, f] : readers_) life.live.push_back(id);
  return life;
}

std::uint64_t Segments::bytes_on_disk() const {
  MutexLock lock(mu_);
  return readers_.size() * options_.segment_size;
}

bool Segments::Has(std::uint32_t segment) const {
  MutexLock lock(mu_);
  return readers_.count(segment) != 0;
}

std::uint32_t Segments::current_segment() const { return current_; }

}  // namespace sluice::store

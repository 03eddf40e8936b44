// The write-ahead log: group commit on one thread, preallocated O_DIRECT
// files recycled by renaming, recovery per wal_format.h.
//
// Threads: appenders only touch the queue (mu_). Everything below "writer
// state" belongs to the commit thread, and to Open() before it starts.
#include "wal.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <thread>
#include <vector>

#include "base/kill_point.h"
#include "base/mutex.h"
#include "wal_format.h"

namespace sluice::store {

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t AlignDown(std::uint64_t v) { return v / kWalBlockSize * kWalBlockSize; }
std::uint64_t AlignUp(std::uint64_t v) { return AlignDown(v + kWalBlockSize - 1); }

struct Pending {
  std::uint8_t type = 0;
  std::vector<std::byte> payload;
  WriteBuffer::DoneFn done;
  Clock::time_point queued_at;
  std::uint64_t expect_seq = 0;  // AppendAt: the number it must get; 0: any
};

class WalImpl final : public WriteBuffer {
 public:
  WalImpl(Env* env, const WalOptions& options)
      : env_(env), opt_(options), tail_(AllocateAligned(kWalBlockSize)) {
    std::memset(tail_.get(), 0, kWalBlockSize);
  }
  ~WalImpl() override { (void)Close(); }

  Status Recover(const ReplayFn& replay);
  std::size_t PassOver(const std::vector<std::uint64_t>& numbers);
  void Start() {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "sluice-commit");
      CommitLoop();
    });
  }

  void Append(std::uint8_t type, std::span<const std::byte> payload, DoneFn done) override {
    Queue(0, type, payload, std::move(done));
  }

  void AppendAt(std::uint64_t seq, std::uint8_t type, std::span<const std::byte> payload,
                DoneFn done) override {
    SLUICE_CHECK(seq != 0);
    Queue(seq, type, payload, std::move(done));
  }

  void Queue(std::uint64_t expect_seq, std::uint8_t type, std::span<const std::byte> payload,
             DoneFn done) {
    SLUICE_CHECK(type != 0 && payload.size() <= opt_.file_size / 4);
    const std::uint64_t size = WalFrameSize(payload.size());
    MutexLock lock(mu_);
    // Bounded queue: wait for room rather than drop. One record always fits
    // an empty queue, whatever its size.
    space_cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) {
      return closing_ || queued_bytes_ == 0 || queued_bytes_ + size <= MaxQueuedBytes();
    });
    if (closing_) {
      lock.Unlock();
      done(Aborted("wal: closed"), 0);
      return;
    }
    queue_.push_back(Pending{type, {payload.begin(), payload.end()}, std::move(done), Clock::now(),
                             expect_seq});
    queued_bytes_ += size;
    if (queue_.size() == 1 || queued_bytes_ >= opt_.max_group_bytes) work_cv_.NotifyOne();
  }

  void Release(std::uint64_t upto) override {
    std::uint64_t cur = release_upto_.load();
    while (cur < upto && !release_upto_.compare_exchange_weak(cur, upto)) {
    }
  }

  Status Close() override {
    {
      MutexLock lock(mu_);
      closing_ = true;
    }
    work_cv_.NotifyAll();
    space_cv_.NotifyAll();
    if (thread_.joinable()) thread_.join();
    file_.reset();
    MutexLock lock(mu_);
    return last_status_;
  }

  WriteBufferStats stats() const override {
    return WriteBufferStats{records_.load(), bytes_.load(), groups_.load(), torn_tail_bytes_,
                    first_held_.load(), passed_over_};
  }

 private:
  struct LiveFile {
    std::uint64_t number = 0;
    std::uint64_t first_seq = 0;
  };

  std::uint64_t MaxQueuedBytes() const { return 4 * opt_.max_group_bytes; }
  std::string PathOf(std::uint64_t number) const { return opt_.dir + "/" + WalFileName(number); }

  void CommitLoop();
  void CommitGroup(std::vector<Pending>& group);
  Status CommitToFile(std::span<Pending> records);
  Status Repair();
  Status Roll();
  Status InitFile(std::uint64_t number);
  Status ReplayPastBadHeader(std::uint64_t number, std::vector<std::byte>& bytes,
                             const ReplayFn& replay);
  std::byte* Buffer(std::size_t size);

  Env* const env_;
  const WalOptions opt_;

  Mutex mu_;
  CondVar work_cv_;   // commit thread: records queued, or closing
  CondVar space_cv_;  // appenders: room in the queue, or closing
  std::deque<Pending> queue_ SLUICE_GUARDED_BY(mu_);
  std::uint64_t queued_bytes_ SLUICE_GUARDED_BY(mu_) = 0;  // framed sizes
  bool closing_ SLUICE_GUARDED_BY(mu_) = false;
  Status last_status_ SLUICE_GUARDED_BY(mu_);  // of the last commit
  std::thread thread_;

  std::atomic<std::uint64_t> release_upto_{0};
  std::atomic<std::uint64_t> first_held_{0};  // live_.front().first_seq
  std::atomic<std::uint64_t> records_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> groups_{0};
  std::uint64_t torn_tail_bytes_ = 0;  // set once in Open
  std::uint64_t passed_over_ = 0;      // set once in Open

  // --- Writer state.
  std::deque<LiveFile> live_;  // oldest first; back() is the file being written
  std::unique_ptr<File> file_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t block_start_ = kWalBlockSize;  // file offset of the tail block
  std::size_t tail_len_ = 0;                   // valid bytes in the tail block
  AlignedBuffer tail_;                         // the tail block, zeros past tail_len_
  // Past the tail, bytes up to here may hold frames of a failed or torn
  // write; they are zeroed durably before anything else is written.
  std::uint64_t dirty_end_ = 0;
  AlignedBuffer buf_;
  std::size_t buf_cap_ = 0;
};

std::byte* WalImpl::Buffer(std::size_t size) {
  if (size > buf_cap_) {
    buf_cap_ = std::max<std::size_t>(AlignUp(size), 2 * buf_cap_);
    buf_ = AllocateAligned(buf_cap_);
  }
  return buf_.get();
}

void WalImpl::CommitLoop() {
  MutexLock lock(mu_);
  for (;;) {
    work_cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) { return closing_ || !queue_.empty(); });
    if (queue_.empty()) return;  // closing, and everything committed
    // The oldest record waits at most max_commit_delay for company.
    const Clock::time_point deadline = queue_.front().queued_at + opt_.max_commit_delay;
    while (!closing_ && queued_bytes_ < opt_.max_group_bytes && Clock::now() < deadline) {
      work_cv_.WaitUntil(lock, deadline);
    }
    std::vector<Pending> group;
    std::uint64_t bytes = 0;
    while (!queue_.empty()) {
      const std::uint64_t size = WalFrameSize(queue_.front().payload.size());
      if (!group.empty() && bytes + size > opt_.max_group_bytes) break;
      bytes += size;
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_bytes_ -= bytes;
    space_cv_.NotifyAll();
    lock.Unlock();
    CommitGroup(group);
    lock.Lock();
  }
}

// Writes the group, rolling to a new file where it does not fit, and runs
// every callback once. A failure fails the rest of the group, in order, so
// that acknowledged records always form a prefix.
void WalImpl::CommitGroup(std::vector<Pending>& group) {
  Status st;
  std::size_t i = 0;
  while (i < group.size()) {
    const std::uint64_t avail = opt_.file_size - (block_start_ + tail_len_);
    std::size_t j = i;
    for (std::uint64_t used = 0; j < group.size(); ++j) {
      used += WalFrameSize(group[j].payload.size());
      if (used > avail) break;
    }
    if (j == i) {
      st = Roll();
      if (!st.ok()) break;
      continue;
    }
    // AppendAt: commit only the prefix numbered as it asks.
    std::size_t m = i;
    while (m < j && (group[m].expect_seq == 0 || group[m].expect_seq == next_seq_ + (m - i))) ++m;
    if (m == i) {
      st = Unavailable("wal: record to be numbered " + std::to_string(group[i].expect_seq) +
                       ", the log is at " + std::to_string(next_seq_));
      break;
    }
    j = m;
    const std::uint64_t first = next_seq_;
    st = CommitToFile(std::span(group).subspan(i, j - i));
    if (!st.ok()) break;
    // Stats first: a caller woken by its callback sees them up to date.
    records_ += j - i;
    for (std::size_t k = i; k < j; ++k) bytes_ += group[k].payload.size();
    for (std::size_t k = i; k < j; ++k) group[k].done(Status::Ok(), first + (k - i));
    i = j;
  }
  for (; i < group.size(); ++i) group[i].done(st, 0);
  MutexLock lock(mu_);
  last_status_ = st;
}

// One write + sync of whole blocks: the tail block as kept in memory, the
// new frames, zeros to the block end. Seqs from next_seq_ on.
Status WalImpl::CommitToFile(std::span<Pending> records) {
  if (dirty_end_ != 0) SLUICE_RETURN_IF_ERROR(Repair());
  std::size_t used = tail_len_;
  for (const auto& r : records) used += WalFrameSize(r.payload.size());
  const std::size_t padded = AlignUp(used);
  std::byte* buf = Buffer(padded);
  std::memcpy(buf, tail_.get(), tail_len_);
  std::size_t pos = tail_len_;
  for (std::size_t k = 0; k < records.size(); ++k) {
    const std::size_t size = WalFrameSize(records[k].payload.size());
    EncodeWalFrame(next_seq_ + k, static_cast<std::uint32_t>(k), records[k].type,
                   records[k].payload, {buf + pos, size});
    pos += size;
  }
  std::memset(buf + used, 0, padded - used);
  const WriteSlice slice{block_start_, {buf, padded}};
  if (Status st = file_->WriteAndSync({&slice, 1}); !st.ok()) {
    // Some of it may be on disk: it must not be replayed after later records.
    dirty_end_ = std::max<std::uint64_t>(dirty_end_, block_start_ + padded);
    return st.WithContext("wal " + file_->path());
  }
  ++groups_;
  next_seq_ += records.size();
  const std::uint64_t end = block_start_ + used;
  const std::uint64_t new_block = AlignDown(end);
  tail_len_ = static_cast<std::size_t>(end - new_block);
  std::memcpy(tail_.get(), buf + (new_block - block_start_), tail_len_);
  std::memset(tail_.get() + tail_len_, 0, kWalBlockSize - tail_len_);
  block_start_ = new_block;
  return Status::Ok();
}

// Durably rewrites [tail block, dirty_end_) as the tail block and zeros, so
// that bytes of a failed or torn write can never be read as records.
Status WalImpl::Repair() {
  SLUICE_CHECK(dirty_end_ > block_start_ && dirty_end_ <= opt_.file_size);
  const std::size_t size = static_cast<std::size_t>(dirty_end_ - block_start_);
  std::byte* buf = Buffer(size);
  std::memcpy(buf, tail_.get(), kWalBlockSize);
  std::memset(buf + kWalBlockSize, 0, size - kWalBlockSize);
  const WriteSlice slice{block_start_, {buf, size}};
  if (Status st = file_->WriteAndSync({&slice, 1}); !st.ok()) {
    return st.WithContext("wal repair " + file_->path());
  }
  dirty_end_ = 0;
  return Status::Ok();
}

// Makes `number` the file being written: preallocated, header with
// first_seq = next_seq_, synced, directory entry synced.
Status WalImpl::InitFile(std::uint64_t number) {
  const std::string path = PathOf(number);
  SLUICE_ASSIGN_OR_RETURN(auto file,
                          env_->OpenFile(path, FileOptions{.create = true, .direct = true}));
  SLUICE_RETURN_IF_ERROR(file->Preallocate(opt_.file_size, Preallocation::kWriteZeros));
  KillPoint("log_roll");
  AlignedBuffer block = AllocateAligned(kWalBlockSize);
  EncodeWalHeader({number, next_seq_}, {block.get(), kWalBlockSize});
  const WriteSlice slice{0, {block.get(), kWalBlockSize}};
  SLUICE_RETURN_IF_ERROR(file->WriteAndSync({&slice, 1}));
  SLUICE_RETURN_IF_ERROR(env_->SyncDir(opt_.dir));
  file_ = std::move(file);
  live_.push_back({number, next_seq_});
  first_held_.store(live_.front().first_seq);
  block_start_ = kWalBlockSize;
  tail_len_ = 0;
  std::memset(tail_.get(), 0, kWalBlockSize);
  dirty_end_ = 0;
  return Status::Ok();
}

// Switches to the next file: the oldest one renamed when everything in it
// is released (its zeros or stale frames are harmless, wal_format.h), else
// a new one while fewer than max_files exist.
Status WalImpl::Roll() {
  if (dirty_end_ != 0) SLUICE_RETURN_IF_ERROR(Repair());
  const std::uint64_t number = live_.back().number + 1;
  const std::string path = PathOf(number);
  // A previous attempt may have left the file half made; InitFile finishes it.
  if (!env_->Exists(path)) {
    const bool recyclable = live_.size() >= 2 && live_[1].first_seq - 1 <= release_upto_.load();
    if (recyclable) {
      SLUICE_RETURN_IF_ERROR(env_->Rename(PathOf(live_.front().number), path));
      live_.pop_front();
      first_held_.store(live_.front().first_seq);
    } else if (live_.size() >= opt_.max_files) {
      return NoSpace("wal: " + std::to_string(live_.size()) +
                     " files in use (max_files) and none released");
    }
  }
  return InitFile(number).WithContext("wal roll to " + path);
}

// The newest file's header does not check. A crash while creating or
// recycling the file leaves nothing in it: its frame area holds zeros, or
// stale frames numbered below what the log holds. But frames that go on from
// the log's last sequence number (or, with no earlier file, any valid first
// frame) mean the header was damaged after they were written: they are
// acknowledged records. They are replayed, as far as they are intact, and the
// log is reported damaged, so that the store writes them to blocks and sets
// the log aside instead of writing over them.
Status WalImpl::ReplayPastBadHeader(std::uint64_t number, std::vector<std::byte>& bytes,
                                    const ReplayFn& replay) {
  const std::string path = PathOf(number);
  auto reuse = [&] {
    // With no earlier file, numbering starts where a fresh log's would:
    // above everything the caller holds in blocks.
    if (live_.empty()) next_seq_ = std::max<std::uint64_t>(opt_.first_seq, 1);
    return InitFile(number);
  };
  const std::uint64_t first_seq = FirstFrameSeqField(bytes);
  if (first_seq == 0 || (!live_.empty() && first_seq != next_seq_)) return reuse();
  EncodeWalHeader({number, first_seq}, {bytes.data(), kWalBlockSize});
  WalFileContents before_damage;
  auto contents = ParseWalFile(bytes, path, &before_damage);
  const auto& records = contents.ok() ? contents->records : before_damage.records;
  if (records.empty()) return reuse();
  for (const auto& record : records) {
    SLUICE_RETURN_IF_ERROR(replay(record).WithContext("wal replay of " + path));
  }
  return Corruption(path + ": header damaged; the " + std::to_string(records.size()) +
                    " records after it were replayed");
}

// The oldest files the caller needs no replay of (needs_replay_above): each
// is entered as live from its header, the next file's header bounding its
// records. Returns how many, a prefix of `numbers`.
std::size_t WalImpl::PassOver(const std::vector<std::uint64_t>& numbers) {
  if (!opt_.needs_replay_above || numbers.size() < 2) return 0;
  std::vector<std::uint64_t> first_seqs;  // of the headers that check, oldest first
  for (const std::uint64_t n : numbers) {
    auto header = ReadWalFileHeader(env_, opt_.dir, n);
    if (!header.ok()) break;
    if (!first_seqs.empty() && header->first_seq < first_seqs.back()) break;
    first_seqs.push_back(header->first_seq);
  }
  if (first_seqs.size() < 2) return 0;
  const std::uint64_t upto = opt_.needs_replay_above(first_seqs[0]);
  std::size_t passed = 0;
  // File i holds first_seqs[i] .. first_seqs[i + 1] - 1; the last one read
  // has no bound and is always read.
  while (passed + 1 < first_seqs.size() && first_seqs[passed + 1] - 1 <= upto) {
    live_.push_back({numbers[passed], first_seqs[passed]});
    passed_over_ += first_seqs[passed + 1] - first_seqs[passed];
    ++passed;
  }
  if (passed > 0) {
    next_seq_ = first_seqs[passed];
    first_held_.store(live_.front().first_seq);
  }
  return passed;
}

Status WalImpl::Recover(const ReplayFn& replay) {
  SLUICE_RETURN_IF_ERROR(env_->CreateDirs(opt_.dir));
  SLUICE_ASSIGN_OR_RETURN(auto names, env_->ListDir(opt_.dir));
  std::vector<std::uint64_t> numbers;
  for (const auto& name : names) {
    std::uint64_t n = 0;
    if (ParseWalFileName(name, &n)) numbers.push_back(n);
  }
  std::sort(numbers.begin(), numbers.end());

  const std::size_t passed = PassOver(numbers);
  WalFileContents last;
  for (std::size_t idx = passed; idx < numbers.size(); ++idx) {
    const std::string path = PathOf(numbers[idx]);
    const bool is_last = idx + 1 == numbers.size();
    SLUICE_ASSIGN_OR_RETURN(auto whole, env_->ReadWholeFile(path));
    const std::span<const std::byte> bytes = whole->bytes();
    auto header = DecodeWalHeader(bytes);
    if (!header.ok() || header->file_number != numbers[idx]) {
      if (is_last) {
        std::vector<std::byte> copy(bytes.begin(), bytes.end());
        return ReplayPastBadHeader(numbers[idx], copy, replay);
      }
      return header.ok() ? Corruption(path + ": header names file " +
                                      std::to_string(header->file_number))
                         : header.status().WithContext(path);
    }
    WalFileContents before_damage;
    auto contents = ParseWalFile(bytes, path, &before_damage);
    if (!contents.ok()) {
      // Damage before the last write: the records before it are intact and
      // acknowledged. They are replayed, so that the caller can keep them
      // (the store writes them to blocks) before it sets the log aside.
      if (live_.empty() || before_damage.header.first_seq == next_seq_) {
        for (const auto& record : before_damage.records) {
          SLUICE_RETURN_IF_ERROR(replay(record).WithContext("wal replay of " + path));
        }
      }
      return contents.status();
    }
    if (!live_.empty() && contents->header.first_seq != next_seq_) {
      return Corruption(path + ": first seq " + std::to_string(contents->header.first_seq) +
                        ", expected " + std::to_string(next_seq_) +
                        " (records missing between files)");
    }
    for (const auto& record : contents->records) {
      SLUICE_RETURN_IF_ERROR(replay(record).WithContext("wal replay of " + path));
    }
    next_seq_ = contents->header.first_seq + contents->records.size();
    live_.push_back({numbers[idx], contents->header.first_seq});
    first_held_.store(live_.front().first_seq);
    // Offsets only: the records point into bytes unmapped after this pass.
    if (is_last) last = {contents->header, {}, contents->valid_end, contents->torn_end};
  }
  if (live_.empty()) {
    next_seq_ = std::max<std::uint64_t>(opt_.first_seq, 1);
    return InitFile(1);
  }

  // A crashed process may have left what no sync made durable: a file whose
  // creation stopped before its directory entry was synced (InitFile cut
  // short after the header), or frames of a write that never reached its
  // sync, sitting whole in the page cache. Both read back as valid. Records
  // appended now, and acknowledged, would be built on them, and a power cut
  // would take the file's entry (every record in it) or the frames (and,
  // with the gap, every record after them) away. So before anything is
  // appended, every file replayed from is synced, and then the directory.
  for (const LiveFile& f : live_) {
    SLUICE_ASSIGN_OR_RETURN(auto file, env_->OpenFile(PathOf(f.number), FileOptions{}));
    SLUICE_RETURN_IF_ERROR(file->Sync().WithContext("wal sync at recovery " + PathOf(f.number)));
  }
  SLUICE_RETURN_IF_ERROR(env_->SyncDir(opt_.dir).WithContext("wal sync at recovery " + opt_.dir));

  // Continue in the last file right after its last valid record.
  SLUICE_ASSIGN_OR_RETURN(auto file,
                          env_->OpenFile(PathOf(live_.back().number), FileOptions{.direct = true}));
  file_ = std::move(file);
  // A no-op unless the file was cut short.
  SLUICE_RETURN_IF_ERROR(file_->Preallocate(opt_.file_size, Preallocation::kWriteZeros));
  block_start_ = AlignDown(last.valid_end);
  tail_len_ = static_cast<std::size_t>(last.valid_end - block_start_);
  SLUICE_RETURN_IF_ERROR(file_->Read(block_start_, {tail_.get(), kWalBlockSize}).status());
  std::memset(tail_.get() + tail_len_, 0, kWalBlockSize - tail_len_);
  torn_tail_bytes_ = last.torn_end - last.valid_end;
  if (last.torn_end > last.valid_end) {
    dirty_end_ = std::max<std::uint64_t>(AlignUp(last.torn_end), block_start_ + kWalBlockSize);
    SLUICE_RETURN_IF_ERROR(Repair());
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<WriteBuffer>> OpenWal(Env* env, const WalOptions& options,
                                             const WriteBuffer::ReplayFn& replay) {
  if (options.dir.empty()) return InvalidArgument("wal: dir is empty");
  if (options.file_size < 4 * kWalBlockSize || options.file_size % kWalBlockSize != 0) {
    return InvalidArgument("wal: file_size must be a multiple of 4096, at least 16 KiB");
  }
  if (options.max_group_bytes == 0) return InvalidArgument("wal: max_group_bytes is 0");
  if (options.max_files < 2) return InvalidArgument("wal: max_files must be at least 2");
  auto wal = std::make_unique<WalImpl>(env, options);
  SLUICE_RETURN_IF_ERROR(wal->Recover(replay).WithContext("wal open " + options.dir));
  wal->Start();
  return std::unique_ptr<WriteBuffer>(std::move(wal));
}

}  // namespace sluice::store

// `sluice lake`: plan (list, filter, shard), clean up what a killed run left
// (incomplete multipart uploads), then convert with a pool of workers.
//
// Why a rerun is always safe: the Parquet bytes are a pure function of the
// .slp bytes and the options, every write is a conditional put, and a source
// is deleted only after its target was confirmed. So a run killed anywhere
// leaves each object either not converted, converted (found identical next
// time), or converted and its source gone (not listed next time).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "base/kill_point.h"
#include "base/mutex.h"
#include "lake_internal.h"
#include "s3_source.h"

namespace sluice::sync {
namespace {

using Clock = std::chrono::steady_clock;

struct Task {
  std::string source_key;
  std::string target_key;
  std::uint64_t size = 0;  // source bytes, as listed
  bool convert = true;     // .slp -> .parquet; false: copy a .parquet as it is
};

// What the workers share; counters are read by the progress snapshots.
struct Shared {
  const LakeOptions* options = nullptr;
  const std::vector<Task>* tasks = nullptr;
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> done{0}, bytes_done{0}, points{0}, bytes_written{0};
  std::atomic<std::uint64_t> converted{0}, already_there{0}, copied{0}, failed{0}, deleted{0};
  std::atomic<unsigned> running{0};
  Mutex mu;
  CondVar cv;
  std::vector<std::pair<std::string, std::string>> errors;  // key, status
};

// Runs `f` until it succeeds, fails permanently, or `attempts` are used up;
// retryable failures back off 0.5 s, 1 s, 2 s, ... (at most 30 s).
template <typename F>
auto WithRetry(unsigned attempts, F&& f) -> decltype(f()) {
  auto delay = std::chrono::milliseconds(500);
  for (unsigned i = 1;; ++i) {
    auto r = f();
    if (r.ok() || !IsRetryable(r.status()) || i >= attempts) return r;
    std::this_thread::sleep_for(delay);
    delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(30));
  }
}

Status RetryStatus(unsigned attempts, const std::function<Status()>& f) {
  auto r = WithRetry(attempts, [&]() -> Result<bool> {
    Status s = f();
    if (!s.ok()) return s;
    return true;
  });
  return r.ok() ? Status::Ok() : r.status();
}

// One object, start to finish. Counts into `shared` only on success.
Status ProcessOne(const Task& t, Sink& source, Sink& target, Shared& shared) {
  const LakeOptions& o = *shared.options;
  if (t.size > o.max_object_bytes) {
    return InvalidArgument("object of " + std::to_string(t.size) + " bytes exceeds the limit of " +
                           std::to_string(o.max_object_bytes));
  }
  SLUICE_ASSIGN_OR_RETURN(auto got,
                          WithRetry(o.attempts, [&] { return source.Get(t.source_key); }));
  std::string body(reinterpret_cast<const char*>(got.data()), got.size());
  const std::uint64_t read = got.size();
  std::vector<std::byte>().swap(got);
  std::uint64_t points = 0;
  if (t.convert) {
    SLUICE_ASSIGN_OR_RETURN(auto converted, ConvertSlpToParquet(std::move(body), o.parquet));
    points = converted.points;
    body = std::move(converted.parquet);
  }
  const auto bytes = std::as_bytes(std::span(body));
  const std::string sha = detail::Hex(detail::DigestOf(bytes).sha256);

  // Look first: after a killed run most targets are there already, and a
  // HEAD is cheaper than sending the object to have the put refused.
  bool identical = false;
  auto head = WithRetry(o.attempts, [&] { return target.Head(t.target_key); });
  if (head.ok()) {
    if (head->size == bytes.size() && head->sha256 == sha) {
      identical = true;
    } else if (head->size != bytes.size() || !head->sha256.empty()) {
      return AlreadyExists("target '" + t.target_key + "' already holds a different object (" +
                           std::to_string(head->size) + " bytes, SHA-256 '" + head->sha256 +
                           "'; ours: " + std::to_string(bytes.size()) + " bytes, SHA-256 " + sha +
                           "); left unchanged");
    }
    // Same size and no recorded SHA-256 (written by another tool): the put
    // below lets the sink judge by what it has (the ETag).
  } else if (head.status().code() != StatusCode::kNotFound) {
    return head.status();
  }
  if (!identical) {
    PutRequest put;
    put.key = t.target_key;
    put.bytes = bytes;
    put.expected_sha256 = sha;
    SLUICE_ASSIGN_OR_RETURN(auto r, WithRetry(o.attempts, [&] { return target.Put(put); }));
    identical = r.outcome == PutOutcome::kAlreadyIdentical;
  }
  KillPoint("lake_after_put");
  if (t.convert && o.delete_source) {
    SLUICE_RETURN_IF_ERROR(RetryStatus(o.attempts, [&] { return source.Delete(t.source_key); })
                               .WithContext("delete source after its Parquet was confirmed"));
    shared.deleted.fetch_add(1);
    KillPoint("lake_after_delete");
  }
  if (!t.convert) {
    shared.copied.fetch_add(1);
  } else if (identical) {
    shared.already_there.fetch_add(1);
  } else {
    shared.converted.fetch_add(1);
  }
  shared.points.fetch_add(points);
  shared.bytes_written.fetch_add(bytes.size());
  (void)read;
  return Status::Ok();
}

void Work(Shared& shared, std::unique_ptr<Sink> source, std::unique_ptr<Sink> target) {
  const auto& tasks = *shared.tasks;
  for (std::size_t i = shared.next.fetch_add(1); i < tasks.size(); i = shared.next.fetch_add(1)) {
    const Task& t = tasks[i];
    const Status st = ProcessOne(t, *source, *target, shared);
    if (!st.ok()) {
      shared.failed.fetch_add(1);
      MutexLock lock(shared.mu);
      shared.errors.emplace_back(t.source_key, st.ToString());
    }
    shared.bytes_done.fetch_add(t.size);
    shared.done.fetch_add(1);
  }
  MutexLock lock(shared.mu);
  shared.running.fetch_sub(1);
  shared.cv.NotifyAll();
}

}  // namespace

Result<LakeStats> RunLake(const LakeOptions& options, const LakeProgressFn& progress) {
  const auto start = Clock::now();
  SLUICE_RETURN_IF_ERROR(options.Validate());
  auto from = ParseLakeLocation(options.from);
  if (!from.ok()) return from.status().WithContext("--from");
  auto to = ParseLakeLocation(options.to);
  if (!to.ok()) return to.status().WithContext("--to");
  SLUICE_ASSIGN_OR_RETURN(auto places, detail::ComparePlaces(*from, *to));
  SLUICE_RETURN_IF_ERROR(detail::EnsureTargetDir(options, *to));
  auto source = detail::OpenLakeSink(options, *from);
  if (!source.ok()) return source.status().WithContext("source " + from->ToString());
  auto target = detail::OpenLakeSink(options, *to);
  if (!target.ok()) return target.status().WithContext("target " + to->ToString());

  // Plan: every input object of this shard, grouped by the key it produces.
  LakeStats stats;
  const std::vector<std::string> prefixes =
      options.prefixes.empty() ? std::vector<std::string>{""} : options.prefixes;
  struct Inputs {
    std::optional<ListedObject> slp, parquet;
  };
  std::map<std::string, Inputs> by_target;
  std::set<std::string> seen;  // prefixes may overlap
  for (const auto& prefix : prefixes) {
    Status visit_error;
    const Status listed = WithRetry(options.attempts, [&]() -> Result<bool> {
      Status s = (*source)->List(prefix, [&](const ListedObject& o) {
        if (!seen.insert(o.key).second) return true;
        ++stats.listed;
        auto target_key = LakeTargetKey(o.key);
        if (!target_key.ok()) {
          ++stats.not_inputs;
          return true;
        }
        if (LakeShardOf(*target_key, options.shard_count) != options.shard_index) {
          ++stats.other_shards;
          return true;
        }
        auto& in = by_target[*target_key];
        (o.key.ends_with(".slp") ? in.slp : in.parquet) = o;
        return true;
      });
      if (!s.ok()) return s;
      return true;
    }).status();
    if (!listed.ok()) return listed.WithContext("list " + from->ToString());
  }
  std::vector<Task> tasks;
  std::uint64_t bytes_total = 0;
  for (auto& [target_key, in] : by_target) {
    if (in.slp) {
      tasks.push_back({in.slp->key, target_key, in.slp->size, true});
      if (in.parquet) ++stats.skipped_parquet;
    } else if (places == detail::LakePlaces::kSame) {
      ++stats.skipped_parquet;
      continue;
    } else {
      tasks.push_back({in.parquet->key, target_key, in.parquet->size, false});
    }
    bytes_total += tasks.back().size;
  }
  by_target.clear();

  // What a killed run left: multipart uploads of this shard's target keys.
  // Another run of the same shard at the same time would lose its upload
  // here (and fail that object); shards are meant to run once each.
  std::set<std::string> aborted;
  for (const auto& prefix : prefixes) {
    std::vector<IncompleteUpload> uploads;
    const Status listed = WithRetry(options.attempts, [&]() -> Result<bool> {
      uploads.clear();
      Status s = (*target)->ListIncompleteUploads(prefix, [&](const IncompleteUpload& u) {
        if (u.key.ends_with(".parquet") &&
            LakeShardOf(u.key, options.shard_count) == options.shard_index &&
            !aborted.contains(u.upload_id)) {
          uploads.push_back(u);
        }
        return true;
      });
      if (!s.ok()) return s;
      return true;
    }).status();
    if (!listed.ok()) return listed.WithContext("list incomplete uploads in " + to->ToString());
    for (const auto& u : uploads) {
      SLUICE_RETURN_IF_ERROR(
          RetryStatus(options.attempts, [&] { return (*target)->AbortIncompleteUpload(u); }));
      aborted.insert(u.upload_id);
      ++stats.aborted_uploads;
    }
  }

  Shared shared;
  shared.options = &options;
  shared.tasks = &tasks;
  const unsigned n = static_cast<unsigned>(
      std::max<std::size_t>(1, std::min<std::size_t>(options.workers, tasks.size())));
  std::vector<std::pair<std::unique_ptr<Sink>, std::unique_ptr<Sink>>> sinks;
  sinks.emplace_back(std::move(*source), std::move(*target));
  for (unsigned i = 1; i < n; ++i) {
    SLUICE_ASSIGN_OR_RETURN(auto s, detail::OpenLakeSink(options, *from));
    SLUICE_ASSIGN_OR_RETURN(auto t, detail::OpenLakeSink(options, *to));
    sinks.emplace_back(std::move(s), std::move(t));
  }
  const auto snapshot = [&] {
    LakeProgress p;
    p.objects_total = tasks.size();
    p.objects_done = shared.done.load();
    p.bytes_total = bytes_total;
    p.bytes_done = shared.bytes_done.load();
    p.points = shared.points.load();
    p.bytes_written = shared.bytes_written.load();
    p.elapsed_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
    return p;
  };
  std::vector<std::thread> threads;
  shared.running = n;
  for (auto& [s, t] : sinks) {
    threads.emplace_back(Work, std::ref(shared), std::move(s), std::move(t));
  }
  {
    MutexLock lock(shared.mu);
    while (shared.running.load() > 0) {
      shared.cv.WaitFor(lock, std::chrono::milliseconds(200));
      if (progress && shared.running.load() > 0) {
        lock.Unlock();
        progress(snapshot());
        lock.Lock();
      }
    }
  }
  for (auto& t : threads) t.join();
  if (progress) progress(snapshot());

  stats.converted = shared.converted;
  stats.already_there = shared.already_there;
  stats.copied = shared.copied;
  stats.failed = shared.failed;
  stats.deleted_sources = shared.deleted;
  stats.points = shared.points;
  stats.bytes_read = shared.bytes_done;
  stats.bytes_written = shared.bytes_written;
  std::sort(shared.errors.begin(), shared.errors.end());
  for (const auto& [key, status] : shared.errors) {
    if (stats.errors.size() >= 100) break;
    stats.errors.push_back(key + ": " + status);
  }
  stats.elapsed_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  return stats;
}

}  // namespace sluice::sync

#include "wal_reader.h"

#include <algorithm>

#include "batch_format.h"

namespace sluice::store {

void WalReader::Drop() {
  number_ = 0;
  records_.clear();
  std::vector<std::byte>().swap(bytes_);
}

// A copy, not Env::ReadWholeFile: the commit thread may be writing the
// file, or recycling it, while its parsed records are served, and a
// mapping would show those later bytes under views already checked.
Status WalReader::Load(std::uint64_t number) {
  Drop();
  const std::string path = dir_ + "/" + WalFileName(number);
  SLUICE_ASSIGN_OR_RETURN(auto file, env_->OpenFile(path, FileOptions{.read_only = true}));
  SLUICE_ASSIGN_OR_RETURN(auto size, file->Size());
  bytes_.resize(static_cast<std::size_t>(size));
  SLUICE_ASSIGN_OR_RETURN(auto got, file->Read(0, bytes_));
  bytes_.resize(got);
  WalFileContents before_damage;
  auto contents = ParseWalFile(bytes_, path, &before_damage);
  // A file being written may show a write in progress; what precedes it is
  // intact and is all the caller may ask for.
  WalFileContents& c = contents.ok() ? *contents : before_damage;
  if (c.header.file_number != number) return Status::Ok();  // recycled meanwhile: nothing
  records_ = std::move(c.records);
  number_ = number;
  return Status::Ok();
}

Result<WalReadResult> WalReader::Read(std::uint64_t from, std::uint64_t upto,
                                      std::size_t max_batches, std::uint64_t max_records) {
  WalReadResult out;
  if (from > upto) return out;
  const bool cached = !records_.empty() && records_.front().seq <= from &&
                      records_.back().seq >= from;
  if (!cached) {
    // The file whose first sequence number is the greatest not above `from`.
    SLUICE_ASSIGN_OR_RETURN(auto names, env_->ListDir(dir_));
    std::vector<std::pair<std::uint64_t, std::uint64_t>> files;  // first_seq, number
    for (const auto& name : names) {
      std::uint64_t n = 0;
      if (!ParseWalFileName(name, &n)) continue;
      auto h = ReadWalFileHeader(env_, dir_, n);
      if (!h.ok()) continue;  // recycled meanwhile, or not a log file now
      files.emplace_back(h->first_seq, n);
    }
    std::sort(files.begin(), files.end());
    std::uint64_t pick = 0;
    std::uint64_t next_first = 0;  // first seq of the file after the pick
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (files[i].first <= from) {
        pick = files[i].second;
        next_first = i + 1 < files.size() ? files[i + 1].first : 0;
      }
    }
    if (pick == 0) {
      // Older than every file: recycled. Missing up to the oldest file.
      const std::uint64_t oldest = files.empty() ? upto + 1 : files.front().first;
      out.missing_from = from;
      out.missing_to = std::min(upto, oldest - 1);
      return out;
    }
    SLUICE_RETURN_IF_ERROR(Load(pick));
    if (records_.empty() || records_.back().seq < from) {
      // `from` is durable but not in its file: only possible when the file
      // was recycled and its successor starts later. Skip to that start.
      if (next_first > from) {
        out.missing_from = from;
        out.missing_to = std::min(upto, next_first - 1);
      }
      return out;
    }
  }
  auto it = std::lower_bound(records_.begin(), records_.end(), from,
                             [](const WriteBufferRecord& r, std::uint64_t s) { return r.seq < s; });
  std::uint64_t records = 0;
  for (; it != records_.end() && it->seq <= upto; ++it) {
    if (out.batches.size() >= max_batches || (records >= max_records && !out.batches.empty())) {
      break;
    }
    out.scanned_to = it->seq;
    if (it->type == static_cast<std::uint8_t>(WalRecordType::kDirect) && direct_) {
      // A direct batch: its whole flush group, once, at its first marker;
      // the group's later markers are passed over (write-buffer batches in
      // between are not: they hold their own records). A consumer that
      // confirmed the first marker and not the last gets the group again
      // after a restart: a duplicate bounded by one flush.
      if (it->seq > direct_group_first_ && it->seq <= direct_group_last_) continue;
      auto marker = DecodeDirectMarker(
          {reinterpret_cast<const char*>(it->payload.data()), it->payload.size()});
      if (!marker.ok()) {
        ++out.undecodable;
        continue;
      }
      SLUICE_ASSIGN_OR_RETURN(auto group, direct_(it->seq));
      if (!group) {
        ++out.undecodable;  // never acknowledged: its blocks did not all reach the disk
        continue;
      }
      direct_group_first_ = it->seq;
      direct_group_last_ = group->last_seq;
      records += group->records.size();
      out.batches.push_back(DurableBatch{it->seq, marker->arrival_ns, it->payload.size(),
                                         std::make_shared<const Batch>(std::move(group->records))});
      continue;
    }
    if (it->type != static_cast<std::uint8_t>(WalRecordType::kBatch)) {
      ++out.undecodable;
      continue;
    }
    auto batch = DecodeBatch({reinterpret_cast<const char*>(it->payload.data()),
                              it->payload.size()},
                             max_value_bytes_);
    if (!batch.ok()) {
      ++out.undecodable;
      continue;
    }
    records += batch->records.size();
    out.batches.push_back(DurableBatch{it->seq, batch->arrival_ns, it->payload.size(),
                                       std::make_shared<const Batch>(std::move(batch->records))});
  }
  return out;
}

}  // namespace sluice::store

#include "registry.h"


#include "base/coding.h"
#include "base/crc32c.h"

namespace sluice::store {
namespace {

bool ValidType(std::uint8_t t) { return t >= 1 && t <= 4; }

Status CheckName(std::string_view name, std::string_view unit) {
  if (name.empty() || name.size() > kMaxSeriesNameBytes) {
    return InvalidArgument("series name must be 1.." + std::to_string(kMaxSeriesNameBytes) +
                           " bytes");
  }
  if (name.find('\0') != std::string_view::npos) {
    return InvalidArgument("series name contains a NUL byte");
  }
  if (unit.size() > kMaxUnitBytes) {
    return InvalidArgument("unit of series '" + std::string(name) + "' is longer than " +
                           std::to_string(kMaxUnitBytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeRegistryEntry(const SeriesInfo& info) {
  std::string payload;
  PutVarint64(payload, info.id.value);
  payload.push_back(static_cast<char>(info.type));
  PutVarint64(payload, info.name.size());
  payload += info.name;
  PutVarint64(payload, info.unit.size());
  payload += info.unit;
  return payload;
}

std::optional<SeriesInfo> DecodeRegistryEntry(std::string_view payload, std::uint32_t expected_id) {
  ByteReader in(payload);
  std::uint64_t id = 0, name_len = 0, unit_len = 0;
  std::uint8_t type = 0;
  std::string_view name, unit;
  if (!in.GetVarint64(id) || !in.GetByte(type) || !in.GetVarint64(name_len) ||
      !in.GetBytes(name_len, name) || !in.GetVarint64(unit_len) || !in.GetBytes(unit_len, unit) ||
      in.remaining() != 0 || id != expected_id || !ValidType(type) ||
      !CheckName(name, unit).ok()) {
    return std::nullopt;
  }
  return SeriesInfo{SeriesId{expected_id}, std::string(name), static_cast<ValueType>(type),
                    std::string(unit)};
}

std::vector<SeriesInfo> ParseRegistry(std::string_view image, RegistryRecovery& recovery) {
  std::vector<SeriesInfo> out;
  const auto entries = ParseLogImage(image, kRegistryFormat, recovery);
  for (std::string_view e : entries) {
    auto info = DecodeRegistryEntry(e, static_cast<std::uint32_t>(out.size() + 1));
    if (!info) break;
    out.push_back(std::move(*info));
  }
  for (std::size_t i = out.size(); i < entries.size(); ++i) {
    recovery.discarded_bytes += 8 + entries[i].size();
  }
  recovery.entries = out.size();
  return out;
}

Result<std::unique_ptr<Registry>> Registry::Open(Env* env, const std::string& dir,
                                                 RegistryRecovery* recovery) {
  std::unique_ptr<Registry> r(new Registry());
  auto log = LogFile::Open(
      env, dir, "series.log", kRegistryFormat,
      [&](std::string_view e) SLUICE_NO_THREAD_SAFETY_ANALYSIS {  // from Open
        auto info = DecodeRegistryEntry(e, static_cast<std::uint32_t>(r->series_.size() + 1));
        if (!info) return false;
        r->series_.push_back(std::move(*info));
        return true;
      },
      recovery);
  if (!log.ok()) return log.status();
  r->log_ = std::move(*log);
  for (const auto& s : r->series_) r->by_name_.emplace(s.name, s.id.value);
  return r;
}

Result<SeriesId> Registry::Register(std::string_view name, ValueType type, std::string_view unit) {
  const SeriesSpec spec{name, type, unit};
  return std::move(RegisterBatch({&spec, 1}).front());
}

namespace {

Status Mismatch(const SeriesInfo& s, const SeriesSpec& want) {
  return InvalidArgument("series '" + s.name + "' is registered as " + ValueTypeName(s.type) +
                         " [" + s.unit + "], not " + ValueTypeName(want.type) + " [" +
                         std::string(want.unit) + "]");
}

}  // namespace

std::vector<Result<SeriesId>> Registry::RegisterBatch(std::span<const SeriesSpec> specs) {
  std::vector<Result<SeriesId>> out(specs.size(), Result<SeriesId>(SeriesId{}));
  std::vector<SeriesInfo> added;
  std::vector<std::string> payloads;
  std::unordered_map<std::string_view, std::size_t> in_batch;  // name -> index in `added`
  WriterLock lock(mu_);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const SeriesSpec& spec = specs[i];
    if (Status s = CheckName(spec.name, spec.unit); !s.ok()) {
      out[i] = s;
      continue;
    }
    if (!ValidType(static_cast<std::uint8_t>(spec.type))) {
      out[i] = InvalidArgument("series '" + std::string(spec.name) + "': unknown value type");
      continue;
    }
    const SeriesInfo* known = nullptr;
    if (auto it = by_name_.find(std::string(spec.name)); it != by_name_.end()) {
      known = &series_[it->second - 1];
    } else if (auto b = in_batch.find(spec.name); b != in_batch.end()) {
      known = &added[b->second];
    }
    if (known != nullptr) {
      if (known->type != spec.type || known->unit != spec.unit) out[i] = Mismatch(*known, spec);
      else out[i] = known->id;
      continue;
    }
    added.push_back({SeriesId{static_cast<std::uint32_t>(series_.size() + added.size() + 1)},
                     std::string(spec.name), spec.type, std::string(spec.unit)});
    in_batch.emplace(spec.name, added.size() - 1);  // the caller's bytes: stable
    payloads.push_back(EncodeRegistryEntry(added.back()));
    out[i] = added.back().id;
  }
  if (added.empty()) return out;
  if (Status s = log_->AppendBatch(payloads); !s.ok()) {
    // None of the new ones is registered; known ones keep their ids.
    const std::string what = added.size() == 1
                                 ? "registering series '" + added.front().name + "'"
                                 : "registering " + std::to_string(added.size()) + " series";
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (out[i].ok() && out[i]->value > series_.size()) out[i] = s.WithContext(what);
    }
    return out;
  }
  for (SeriesInfo& info : added) {
    by_name_.emplace(info.name, info.id.value);
    series_.push_back(std::move(info));
  }
  return out;
}

std::optional<SeriesInfo> Registry::Find(std::string_view name) const {
  ReaderLock lock(mu_);
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return series_[it->second - 1];
}

std::optional<SeriesInfo> Registry::Get(SeriesId id) const {
  ReaderLock lock(mu_);
  if (id.value == 0 || id.value > series_.size()) return std::nullopt;
  return series_[id.value - 1];
}

std::size_t Registry::TypesOf(const Batch& batch, std::vector<ValueType>& types) const {
  ReaderLock lock(mu_);
  types.reserve(types.size() + batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::uint32_t id = batch[i].series.value;
    if (id == 0 || id > series_.size()) return i;
    types.push_back(series_[id - 1].type);
  }
  return batch.size();
}

std::vector<SeriesInfo> Registry::List() const {
  ReaderLock lock(mu_);
  return series_;
}

std::size_t Registry::size() const {
  ReaderLock lock(mu_);
  return series_.size();
}

}  // namespace sluice::store

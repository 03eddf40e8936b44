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

namespace {

constexpr std::size_t kNameChunkBytes = 64 << 10;
static_assert(kNameChunkBytes >= kMaxSeriesNameBytes);

// The high 32 bits are kept in the table's slot, the low ones pick it.
std::uint64_t NameHash(std::string_view name) { return std::hash<std::string_view>{}(name); }

}  // namespace

Result<std::unique_ptr<Registry>> Registry::Open(Env* env, const std::string& dir,
                                                 RegistryRecovery* recovery) {
  std::unique_ptr<Registry> r(new Registry());
  auto log = LogFile::Open(
      env, dir, "series.log", kRegistryFormat,
      [&](std::string_view e) SLUICE_NO_THREAD_SAFETY_ANALYSIS {  // from Open
        auto info = DecodeRegistryEntry(e, static_cast<std::uint32_t>(r->series_.size() + 1));
        if (!info) return false;
        r->Add(info->name, info->type, info->unit);
        return true;
      },
      recovery);
  if (!log.ok()) return log.status();
  r->log_ = std::move(*log);
  return r;
}

SeriesInfo Registry::InfoOf(std::uint32_t id) const {
  const Slot& s = series_[id - 1];
  return {SeriesId{id}, std::string(NameOf(s)), s.type, units_[s.unit]};
}

std::uint32_t Registry::FindId(std::string_view name) const {
  if (by_name_.empty()) return 0;
  const std::uint64_t h = NameHash(name);
  const std::size_t mask = by_name_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const std::uint64_t e = by_name_[i];
    if (e == 0) return 0;
    const auto id = static_cast<std::uint32_t>(e);
    if ((e >> 32) == (h >> 32) && NameOf(series_[id - 1]) == name) return id;
  }
}

void Registry::InsertId(std::uint64_t hash, std::uint32_t id) {
  const std::size_t mask = by_name_.size() - 1;
  std::size_t i = hash & mask;
  while (by_name_[i] != 0) i = (i + 1) & mask;
  by_name_[i] = (hash >> 32 << 32) | id;
}

void Registry::Add(std::string_view name, ValueType type, std::string_view unit) {
  if (names_left_ < name.size()) {
    names_.push_back(std::make_unique_for_overwrite<char[]>(kNameChunkBytes));
    names_left_ = kNameChunkBytes;
  }
  char* at = names_.back().get() + (kNameChunkBytes - names_left_);
  std::copy(name.begin(), name.end(), at);
  names_left_ -= name.size();
  std::uint32_t unit_id = 0;
  if (!unit.empty()) {
    auto [u, fresh] = unit_ids_.try_emplace(std::string(unit), units_.size());
    if (fresh) units_.emplace_back(unit);
    unit_id = u->second;
  }
  series_.push_back({at, unit_id, static_cast<std::uint16_t>(name.size()), type});
  if (4 * series_.size() > 3 * by_name_.size()) {
    // Grow: every id again, into twice the slots.
    std::vector<std::uint64_t> old = std::exchange(
        by_name_, std::vector<std::uint64_t>(std::max<std::size_t>(64, 2 * by_name_.size())));
    for (std::uint64_t e : old) {
      if (e == 0) continue;
      const auto known = static_cast<std::uint32_t>(e);
      InsertId(NameHash(NameOf(series_[known - 1])), known);
    }
  }
  InsertId(NameHash(name), static_cast<std::uint32_t>(series_.size()));
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
    if (const std::uint32_t id = FindId(spec.name); id != 0) {
      const Slot& known = series_[id - 1];
      if (known.type != spec.type || units_[known.unit] != spec.unit) {
        out[i] = Mismatch(InfoOf(id), spec);
      } else {
        out[i] = SeriesId{id};
      }
      continue;
    }
    if (auto b = in_batch.find(spec.name); b != in_batch.end()) {
      const SeriesInfo& known = added[b->second];
      if (known.type != spec.type || known.unit != spec.unit) out[i] = Mismatch(known, spec);
      else out[i] = known.id;
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
  // No reserve: an exact one per batch would reallocate on every
  // registration of one series (quadratic); push_back grows geometrically.
  for (const SeriesInfo& info : added) Add(info.name, info.type, info.unit);
  return out;
}

std::optional<SeriesInfo> Registry::Find(std::string_view name) const {
  ReaderLock lock(mu_);
  const std::uint32_t id = FindId(name);
  if (id == 0) return std::nullopt;
  return InfoOf(id);
}

std::optional<SeriesRef> Registry::Lookup(std::string_view name) const {
  ReaderLock lock(mu_);
  const std::uint32_t id = FindId(name);
  if (id == 0) return std::nullopt;
  return SeriesRef{SeriesId{id}, series_[id - 1].type};
}

std::optional<SeriesInfo> Registry::Get(SeriesId id) const {
  ReaderLock lock(mu_);
  if (id.value == 0 || id.value > series_.size()) return std::nullopt;
  return InfoOf(id.value);
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
  std::vector<SeriesInfo> out;
  out.reserve(series_.size());
  for (std::uint32_t id = 1; id <= series_.size(); ++id) out.push_back(InfoOf(id));
  return out;
}

std::size_t Registry::size() const {
  ReaderLock lock(mu_);
  return series_.size();
}

}  // namespace sluice::store

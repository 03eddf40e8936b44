// The series registry: name -> id, type and unit, kept durable in
// <dir>/series.log, a LogFile (log_file.h) with magic "SLSR", version 1 and
// entries
//
//   payload := id:varint  type:u8  name_len:varint name  unit_len:varint unit
//
// Ids are dense and start at 1: the n-th entry has id n; an entry breaking
// that ends the valid prefix. docs/format/registry.md says the same in prose.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "log_file.h"
#include "store/env.h"
#include "store/types.h"

namespace sluice::store {

inline constexpr std::uint32_t kRegistryMagic = 0x52534c53;  // "SLSR" little-endian
inline constexpr std::uint32_t kRegistryVersion = 1;
inline constexpr std::size_t kMaxSeriesNameBytes = 1024;
inline constexpr std::size_t kMaxUnitBytes = 64;

using RegistryRecovery = LogRecovery;

inline constexpr LogFileFormat kRegistryFormat{kRegistryMagic, kRegistryVersion,
                                               4 * kMaxSeriesNameBytes};

// Parses a registry file image; pure, so that it can be fuzzed.
// Returns the valid entries and what was discarded.
std::vector<SeriesInfo> ParseRegistry(std::string_view image, RegistryRecovery& recovery);
// Decodes one entry; nullopt when malformed or not the id `expected_id`.
std::optional<SeriesInfo> DecodeRegistryEntry(std::string_view payload, std::uint32_t expected_id);
std::string EncodeRegistryEntry(const SeriesInfo& info);  // the payload

class Registry {
 public:
  static Result<std::unique_ptr<Registry>> Open(Env* env, const std::string& dir,
                                                RegistryRecovery* recovery)
      // Fills in the new object before any other thread can see it.
      SLUICE_NO_THREAD_SAFETY_ANALYSIS;

  // Durable before it returns.
  Result<SeriesId> Register(std::string_view name, ValueType type, std::string_view unit);
  // Store::RegisterSeriesBatch: the new series of `specs` in one append
  // (one sync); a slot per spec.
  std::vector<Result<SeriesId>> RegisterBatch(std::span<const SeriesSpec> specs);

  std::optional<SeriesInfo> Find(std::string_view name) const;
  // Find without copying the name and unit: the ingest path's lookup.
  std::optional<SeriesRef> Lookup(std::string_view name) const;
  std::optional<SeriesInfo> Get(SeriesId id) const;
  // The value type of each record's series, in `types` (appended), under
  // one lock and copying no names: the append and replay paths. Returns the
  // index of the first record whose series is not registered (its type not
  // appended), or batch.size().
  std::size_t TypesOf(const Batch& batch, std::vector<ValueType>& types) const;
  std::vector<SeriesInfo> List() const;
  std::size_t size() const;

 private:
  Registry() = default;

  // A series as kept in memory: its name in names_, its unit by index in
  // units_. 16 bytes, and the name's bytes once, with no allocation of its
  // own: at 100,000 series of 30-byte names the registry holds about 55 B
  // a series (name, slot, hash table) instead of two std::string copies
  // and a hash-map node (175 B).
  struct Slot {
    const char* name;
    std::uint32_t unit;
    std::uint16_t name_len;
    ValueType type;
  };
  std::string_view NameOf(const Slot& s) const { return {s.name, s.name_len}; }
  SeriesInfo InfoOf(std::uint32_t id) const SLUICE_REQUIRES_SHARED(mu_);
  // The id of `name`, 0 when not registered.
  std::uint32_t FindId(std::string_view name) const SLUICE_REQUIRES_SHARED(mu_);
  // Adds the next id's series to memory (not to the log).
  void Add(std::string_view name, ValueType type, std::string_view unit) SLUICE_REQUIRES(mu_);
  void InsertId(std::uint64_t hash, std::uint32_t id) SLUICE_REQUIRES(mu_);

  mutable SharedMutex mu_;
  std::unique_ptr<LogFile> log_ SLUICE_GUARDED_BY(mu_);  // for appends
  std::vector<Slot> series_ SLUICE_GUARDED_BY(mu_);      // index id-1
  // Names, back to back in chunks that never move (a Slot points in).
  std::vector<std::unique_ptr<char[]>> names_ SLUICE_GUARDED_BY(mu_);
  std::size_t names_left_ SLUICE_GUARDED_BY(mu_) = 0;  // free bytes of the last chunk
  // Distinct units (a handful), index 0 the empty one.
  std::vector<std::string> units_ SLUICE_GUARDED_BY(mu_) = {std::string()};
  std::unordered_map<std::string, std::uint32_t> unit_ids_ SLUICE_GUARDED_BY(mu_);
  // Name -> id, open addressing with linear probing: each slot the name's
  // hash in the high 32 bits and the id in the low 32, 0 when empty. At
  // most three quarters full.
  std::vector<std::uint64_t> by_name_ SLUICE_GUARDED_BY(mu_);
};

}  // namespace sluice::store

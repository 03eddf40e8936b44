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

  mutable SharedMutex mu_;
  std::unique_ptr<LogFile> log_ SLUICE_GUARDED_BY(mu_);  // for appends
  std::vector<SeriesInfo> series_ SLUICE_GUARDED_BY(mu_);  // index id-1
  std::unordered_map<std::string, std::uint32_t> by_name_ SLUICE_GUARDED_BY(mu_);
};

}  // namespace sluice::store

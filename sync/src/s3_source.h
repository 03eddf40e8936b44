// Pieces both sinks share: reading a Put's source (memory or file) by offset,
// and the digests computed over it. (Named s3_* for file ownership reasons
// while the sinks were written in parallel with the rest of sync/; it is not
// S3-specific and could be renamed sink_source.h.)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "sync/sink.h"

namespace sluice::sync::detail {

// Random access to the bytes of one Put. Reads must be repeatable: an upload
// hashes the source first and sends it afterwards (a second pass).
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  virtual std::uint64_t size() const = 0;
  // Fills `out` entirely from `offset`; a short file is kIoError (the file
  // shrank after open: somebody is modifying it).
  virtual Status ReadAt(std::uint64_t offset, std::span<std::byte> out) = 0;
  // "file /x/y" or "memory": for error messages.
  virtual std::string name() const = 0;
};

// Opens the source a PutRequest names (file when set, else bytes).
Result<std::unique_ptr<ObjectSource>> OpenSource(const PutRequest& request);

struct Digests {
  std::array<std::uint8_t, 32> sha256{};
  std::array<std::uint8_t, 16> md5{};
};

// Incremental SHA-256 + MD5 (OpenSSL EVP; MD5 only because S3's Content-MD5
// and single-part ETag use it, never for integrity on its own).
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void Update(std::span<const std::byte> data);
  Digests Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digests DigestOf(std::span<const std::byte> data);
// Digests of `length` bytes from `offset`, read in chunks.
Result<Digests> DigestRange(ObjectSource& source, std::uint64_t offset, std::uint64_t length);

std::string Hex(std::span<const std::uint8_t> bytes);
std::string Base64(std::span<const std::uint8_t> bytes);
// True for exactly 64 lowercase hex digits.
bool IsSha256Hex(std::string_view s);

}  // namespace sluice::sync::detail

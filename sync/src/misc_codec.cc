#include "misc_codec.h"

#include "int_codec.h"

namespace sluice::sync::codec {

void EncodeBools(std::span<const std::uint8_t> v, std::string* out) {
  std::size_t at = out->size();
  out->resize(at + (v.size() + 7) / 8, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != 0) (*out)[at + i / 8] = static_cast<char>((*out)[at + i / 8] | (1 << (i % 8)));
  }
}

Status DecodeBools(std::string_view data, std::size_t count, std::vector<std::uint8_t>* out) {
  if (data.size() != (count / 8) + (count % 8 != 0)) {
    return Corruption("bool bitmap: length is not ceil(count / 8)");
  }
  out->resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    (*out)[i] = (static_cast<std::uint8_t>(data[i / 8]) >> (i % 8)) & 1;
  }
  // Padding bits must be zero, so that each value set has one encoding.
  if (count % 8 != 0 && (static_cast<std::uint8_t>(data.back()) >> (count % 8)) != 0) {
    return Corruption("bool bitmap: padding bits set");
  }
  return Status::Ok();
}

void EncodeBytes(std::span<const std::string> v, std::string* out) {
  std::vector<std::uint64_t> lengths;
  lengths.reserve(v.size());
  for (const auto& s : v) lengths.push_back(s.size());
  PutIntStream(out, lengths, SmallestPacking(lengths));
  for (const auto& s : v) out->append(s);
}

Status DecodeBytes(std::string_view data, std::size_t count, std::vector<std::string>* out) {
  ByteReader in(data);
  std::vector<std::uint64_t> lengths;
  SLUICE_RETURN_IF_ERROR(GetIntStream(in, count, &lengths));
  std::uint64_t total = 0;
  for (std::uint64_t n : lengths) {
    if (n > in.remaining() - total) return Corruption("bytes: lengths exceed data");
    total += n;
  }
  if (total != in.remaining()) return Corruption("bytes: trailing bytes");
  out->clear();
  out->reserve(count);
  for (std::uint64_t n : lengths) {
    std::string_view s;
    (void)in.GetBytes(n, s);
    out->emplace_back(s);
  }
  return Status::Ok();
}

}  // namespace sluice::sync::codec

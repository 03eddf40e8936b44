// Any bytes read from a segment page give a block header or Corruption; a
// header that parses bounds every chunk decode, which never crashes and
// gives records or Corruption.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "block_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::store;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::size_t need = 0;
  auto header = ParseBlockHeader(bytes, need);
  if (!header.ok()) {
    SLUICE_CHECK(header.status().code() == sluice::StatusCode::kCorruption || need > size);
    return 0;
  }
  SLUICE_CHECK(header->header_len <= size);
  std::string_view body = bytes.substr(header->header_len);
  if (body.size() > header->body_len) body = body.substr(0, header->body_len);
  (void)VerifyBlockBody(body, *header);
  for (const auto& entry : header->series) {
    auto records = DecodeSeriesChunk(body, *header, entry);
    if (records.ok()) SLUICE_CHECK(records->size() == entry.count);
  }
  return 0;
}

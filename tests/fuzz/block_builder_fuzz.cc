// Records built from any bytes, added to a BlockBuilder, come back bit for
// bit: from the finished block through the decoder, and from the builder
// itself (BlockBuilder::Read). The input chooses series ids (any uint32,
// 0 and UINT32_MAX included), timestamps (any int64 delta), and values of
// each type: decimals of every scale, raw float bits (NaN, -0.0), int64
// extremes, bools, bytes.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "block_format.h"

namespace {

using namespace sluice::store;

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  std::uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint64_t Bytes(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | Byte();
    return v;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

bool SameBits(const Value& a, const Value& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a)) {
    return std::bit_cast<std::uint64_t>(*x) == std::bit_cast<std::uint64_t>(std::get<double>(b));
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const auto window = static_cast<std::int64_t>(in.Bytes(8));
  const std::uint32_t shard = in.Byte();
  const PartitionId partition{window, shard, in.Byte() % 2 == 1};
  // A direct block (of a flush group of large values) or a regular one.
  const std::uint8_t kind = in.Byte();
  const bool direct = kind % 2 == 1;
  BlockBuilder b(partition, direct);
  if (direct) b.SetGroup(1, 1 + kind / 2 % 8);
  // A series' type is fixed by its id, as the registry fixes it.
  const auto type_of = [](std::uint32_t id) { return static_cast<ValueType>(1 + id % 4); };
  std::map<std::uint32_t, std::vector<Record>> want;
  std::deque<Record> kept;
  std::int64_t ts = partition.window_start_ns;
  std::size_t bytes = 0;
  for (int n = 0; n < 4096 && !in.empty() && bytes < (1 << 20); ++n) {
    const std::uint8_t how = in.Byte();
    // Few distinct ids mostly (many points a series), any id sometimes.
    const auto id = static_cast<std::uint32_t>(how & 0x80 ? in.Bytes(4) : in.Byte() % 8);
    ts = static_cast<std::int64_t>(static_cast<std::uint64_t>(ts) +
                                   (how & 0x40 ? in.Bytes(8) : in.Bytes(2)));
    Value v;
    switch (type_of(id)) {
      case ValueType::kFloat64:
        if (how & 0x20) {
          v = std::bit_cast<double>(in.Bytes(8));
        } else {
          const auto m = static_cast<std::int64_t>(in.Bytes(4)) - (1 << 30);
          v = static_cast<double>(m) / std::pow(10.0, in.Byte() % 18);
        }
        break;
      case ValueType::kInt64:
        v = static_cast<std::int64_t>(in.Bytes(how & 0x20 ? 8 : 2));
        break;
      case ValueType::kBool:
        v = (in.Byte() & 1) != 0;
        break;
      case ValueType::kBytes: {
        std::string s(in.Byte(), '\0');
        for (char& c : s) c = static_cast<char>(in.Byte());
        v = std::move(s);
        break;
      }
    }
    // Kept where it never moves: a direct builder refers to bytes values
    // until Finish.
    const Record& r = kept.emplace_back(Record{SeriesId{id}, ts, std::move(v)});
    const auto* text = std::get_if<std::string>(&r.value);
    bytes += 16 + (text != nullptr ? text->size() : 0);
    b.Add(r, type_of(id), static_cast<std::uint64_t>(n) + 1);
    want[id].push_back(r);
  }
  if (b.empty()) return 0;
  const std::string block = b.Finish();
  std::size_t need = 0;
  auto header = ParseBlockHeader(block, need);
  SLUICE_CHECK(header.ok());
  SLUICE_CHECK(header->series.size() == want.size());
  SLUICE_CHECK(header->direct == direct);
  if (direct) SLUICE_CHECK(header->group_seq == 1 && header->group_blocks == 1 + kind / 2 % 8);
  const std::string_view body =
      std::string_view(block).substr(header->header_len, header->body_len);
  SLUICE_CHECK(VerifyBlockBody(body, *header).ok());
  const std::vector<SeriesId> listed = b.Series();
  SLUICE_CHECK(listed.size() == want.size());
  std::size_t k = 0;
  for (const auto& [id, records] : want) {
    SLUICE_CHECK(listed[k++].value == id);
    const BlockSeriesEntry* entry = nullptr;
    for (const auto& e : header->series) {
      if (e.series.value == id) entry = &e;
    }
    SLUICE_CHECK(entry != nullptr);
    auto got = DecodeSeriesChunk(body, *header, *entry);
    SLUICE_CHECK(got.ok());
    const std::vector<Record> read = b.Read(SeriesId{id});
    SLUICE_CHECK(got->size() == records.size() && read.size() == records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      SLUICE_CHECK((*got)[i].timestamp_ns == records[i].timestamp_ns);
      SLUICE_CHECK(SameBits((*got)[i].value, records[i].value));
      SLUICE_CHECK(read[i].timestamp_ns == records[i].timestamp_ns);
      SLUICE_CHECK(SameBits(read[i].value, records[i].value));
    }
  }
  return 0;
}

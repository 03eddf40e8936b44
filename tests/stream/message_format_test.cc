// Message values of the stream lane, checked against the code protoc
// generates from proto/stream_record.proto.
#include "message_format.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "stream_record.pb.h"

namespace sluice::stream {

TEST_CASE("a JSON record carries series, timestamp, value, type and unit") {
  std::string out;
  AppendJsonRecord({"plant/\"l1\"/temp", store::ValueType::kFloat64, "degC"},
                   {{1}, 1'700'000'000'123'456'789, 21.375}, out);
  CHECK(out ==
        "{\"series\":\"plant/\\\"l1\\\"/temp\",\"timestamp\":\"2023-11-14T22:13:20.123456789Z\","
        "\"timestamp_ns\":1700000000123456789,\"value\":21.375,\"type\":\"float64\","
        "\"unit\":\"degC\"}");
  out.clear();
  AppendJsonRecord({"x", store::ValueType::kFloat64, ""},
                   {{1}, -1, std::numeric_limits<double>::quiet_NaN()}, out);
  CHECK(out.find("\"timestamp\":\"1969-12-31T23:59:59.999999999Z\"") != std::string::npos);
  CHECK(out.find("\"value\":null") != std::string::npos);
  out.clear();
  AppendJsonRecord({"b", store::ValueType::kBytes, ""}, {{1}, 0, std::string("\x00\xff" "ab", 4)}, out);
  CHECK(out.find("\"value\":\"AP9hYg==\"") != std::string::npos);
  out.clear();
  AppendJsonRecord({"i", store::ValueType::kInt64, ""}, {{1}, 0, std::int64_t{-9007199254740993}}, out);
  CHECK(out.find("\"value\":-9007199254740993") != std::string::npos);
}

TEST_CASE("a protobuf Record decodes with the generated code, zero values included") {
  const store::Value values[] = {0.0, -2.5, std::int64_t{0}, std::int64_t{-42}, false, true,
                                 std::string(""), std::string("\x01\x02", 2)};
  for (const auto& v : values) {
    const store::ValueType t = store::TypeOf(v);
    std::string out;
    AppendProtoRecord({"s/1", t, t == store::ValueType::kFloat64 ? "bar" : ""}, {{3}, -5, v}, out);
    sluice::stream::v1::Record r;
    REQUIRE(r.ParseFromString(out));
    CHECK(r.series() == "s/1");
    CHECK(r.timestamp_ns() == -5);
    CHECK(static_cast<int>(r.type()) == static_cast<int>(t));
    switch (t) {
      case store::ValueType::kFloat64:
        CHECK(r.value_case() == sluice::stream::v1::Record::kFloat64Value);
        CHECK(r.float64_value() == std::get<double>(v));
        CHECK(r.unit() == "bar");
        break;
      case store::ValueType::kInt64:
        CHECK(r.value_case() == sluice::stream::v1::Record::kInt64Value);
        CHECK(r.int64_value() == std::get<std::int64_t>(v));
        break;
      case store::ValueType::kBool:
        CHECK(r.value_case() == sluice::stream::v1::Record::kBoolValue);
        CHECK(r.bool_value() == std::get<bool>(v));
        break;
      case store::ValueType::kBytes:
        CHECK(r.value_case() == sluice::stream::v1::Record::kBytesValue);
        CHECK(r.bytes_value() == std::get<std::string>(v));
        break;
    }
  }
}

TEST_CASE("a protobuf RecordBatch decodes with the generated code for every type") {
  std::vector<store::Record> recs;
  for (int i = 0; i < 300; ++i) recs.push_back({{1}, 1'000'000'000LL * i - 7, i * 1.5});
  std::vector<const store::Record*> ptrs;
  for (const auto& r : recs) ptrs.push_back(&r);
  std::string out;
  AppendProtoBatch({"f", store::ValueType::kFloat64, "u"}, ptrs, out);
  sluice::stream::v1::RecordBatch b;
  REQUIRE(b.ParseFromString(out));
  REQUIRE(b.timestamp_ns_size() == 300);
  REQUIRE(b.float64_values_size() == 300);
  CHECK(b.timestamp_ns(299) == 299'000'000'000LL - 7);
  CHECK(b.float64_values(7) == 10.5);
  CHECK(b.unit() == "u");

  std::vector<store::Record> ints = {{{1}, 1, std::int64_t{-1}}, {{1}, 2, std::int64_t{1} << 62}};
  std::vector<store::Record> bools = {{{1}, 1, true}, {{1}, 2, false}};
  std::vector<store::Record> bytes = {{{1}, 1, std::string("a")}, {{1}, 2, std::string()}};
  auto encode = [](store::ValueType t, const std::vector<store::Record>& rs) {
    std::vector<const store::Record*> p;
    for (const auto& r : rs) p.push_back(&r);
    std::string o;
    AppendProtoBatch({"s", t, ""}, p, o);
    sluice::stream::v1::RecordBatch m;
    REQUIRE(m.ParseFromString(o));
    return m;
  };
  auto mi = encode(store::ValueType::kInt64, ints);
  REQUIRE(mi.int64_values_size() == 2);
  CHECK(mi.int64_values(0) == -1);
  CHECK(mi.int64_values(1) == std::int64_t{1} << 62);
  auto mb = encode(store::ValueType::kBool, bools);
  REQUIRE(mb.bool_values_size() == 2);
  CHECK(mb.bool_values(0));
  CHECK_FALSE(mb.bool_values(1));
  auto my = encode(store::ValueType::kBytes, bytes);
  REQUIRE(my.bytes_values_size() == 2);
  CHECK(my.bytes_values(0) == "a");
  CHECK(my.bytes_values(1).empty());
}

TEST_CASE("topic templates take {site} and {gateway} and refuse anything Kafka would") {
  CHECK(*ExpandTopic("sluice.{site}.{gateway}", "plant-a", "gw_7") == "sluice.plant-a.gw_7");
  CHECK(ExpandTopic("x.{host}", "a", "b").status().message().find("{host}") != std::string::npos);
  CHECK_FALSE(ExpandTopic("x.{site", "a", "b").ok());
  CHECK_FALSE(ExpandTopic("x}", "a", "b").ok());
  CHECK_FALSE(ExpandTopic("", "a", "b").ok());
  CHECK_FALSE(ExpandTopic("..", "a", "b").ok());
  CHECK_FALSE(ExpandTopic("a b", "a", "b").ok());
  CHECK_FALSE(ExpandTopic(std::string(250, 'a'), "a", "b").ok());
}

TEST_CASE("series patterns follow fnmatch without flags") {
  CHECK(SeriesMatches("*", "plant/l1/temp"));
  CHECK(SeriesMatches("plant/*/temp", "plant/l1/temp"));
  CHECK(SeriesMatches("plant/l?/temp", "plant/l1/temp"));
  CHECK_FALSE(SeriesMatches("plant/l2/*", "plant/l1/temp"));
}

}  // namespace sluice::stream

// Message values of the stream lane, checked against the code protoc
// generates from proto/stream_record.proto.
#include "message_format.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <string>

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

namespace sluice::stream {
namespace {

// What gmtime_r and snprintf say, the reference for FormatTimestamp.
std::string ReferenceTimestamp(std::int64_t ns) {
  std::int64_t secs = ns / 1'000'000'000, frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

}  // namespace

TEST_CASE("timestamps are formatted as gmtime_r would, across the whole int64 range") {
  CHECK(FormatTimestamp(1'714'564'800'123'456'789) == "2024-05-01T12:00:00.123456789Z");
  CHECK(FormatTimestamp(0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(FormatTimestamp(-1) == "1969-12-31T23:59:59.999999999Z");
  CHECK(FormatTimestamp(951'782'400'000'000'000) == "2000-02-29T00:00:00.000000000Z");
  for (std::int64_t ns : {INT64_MIN, INT64_MAX, INT64_MIN + 1, std::int64_t{-86'400'000'000'000},
                          std::int64_t{4'107'542'400'000'000'000}}) {
    CAPTURE(ns);
    CHECK(FormatTimestamp(ns) == ReferenceTimestamp(ns));
  }
  // A day and a bit at a time over the range, and every day around leap years.
  for (std::int64_t ns = INT64_MIN; ns < INT64_MAX - 90'061'000'000'007;
       ns += 90'061'000'000'007) {
    REQUIRE(FormatTimestamp(ns) == ReferenceTimestamp(ns));
  }
  for (std::int64_t d = 10950; d < 11700; ++d) {  // 2000 .. 2002
    const std::int64_t ns = d * 86'400'000'000'000 + 3'723'000'000'017;
    REQUIRE(FormatTimestamp(ns) == ReferenceTimestamp(ns));
  }
}

}  // namespace sluice::stream

namespace sluice::stream {

// Found by stream_fuzz: a series name that is not UTF-8 (a Sparkplug B metric
// name can be any bytes) made protobuf values that readers refuse (proto3
// strings must be UTF-8) and JSON that is not JSON.
TEST_CASE("series names and units that are not UTF-8 are written with U+FFFD in every format") {
  const std::string name("plant/\xba\xba/temp\xe2\x82", 15), unit("deg\xff", 4);
  const std::string fixed_name = "plant/\xef\xbf\xbd\xef\xbf\xbd/temp\xef\xbf\xbd\xef\xbf\xbd";
  const store::Record r{{1}, 5, 1.5};
  const SeriesMeta meta{name, store::ValueType::kFloat64, unit};
  std::string json;
  AppendJsonRecord(meta, r, json);
  CHECK(json.find("\"series\":\"" + fixed_name + "\"") != std::string::npos);
  CHECK(json.find("\"unit\":\"deg\xef\xbf\xbd\"") != std::string::npos);
  std::string proto;
  AppendProtoRecord(meta, r, proto);
  sluice::stream::v1::Record p;
  REQUIRE(p.ParseFromString(proto));
  CHECK(p.series() == fixed_name);
  CHECK(p.unit() == "deg\xef\xbf\xbd");
  std::string batch;
  const store::Record* one[] = {&r};
  AppendProtoBatch(meta, one, batch);
  sluice::stream::v1::RecordBatch b;
  REQUIRE(b.ParseFromString(batch));
  CHECK(b.series() == fixed_name);
  // Well-formed names pass as they are, 4-byte sequences and all.
  const std::string ok = "Halle/\xc3\xa4/\xe2\x82\xac/\xf0\x9f\x8c\xa1";
  std::string again;
  AppendProtoRecord({ok, store::ValueType::kFloat64, ""}, r, again);
  REQUIRE(p.ParseFromString(again));
  CHECK(p.series() == ok);
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf"}) {
    std::string out;
    AppendProtoRecord({bad, store::ValueType::kFloat64, ""}, r, out);
    REQUIRE(p.ParseFromString(out));
    CHECK(p.series().find("\xef\xbf\xbd") != std::string::npos);
  }
}

// Found by stream_fuzz: -7.106698579612652e+20 came out as the 22 digits
// -710669857961265201152, which JSON integer parsers refuse (simdjson) or
// read as an integer.
TEST_CASE("a float64 JSON value always reads as a floating-point number") {
  const std::pair<double, const char*> cases[] = {{-7.106698579612652e+20, "-710669857961265201152.0"},
                                                  {21.0, "21.0"},
                                                  {0.0, "0.0"},
                                                  {-0.0, "-0.0"},
                                                  {1e300, "1e+300"},
                                                  {21.375, "21.375"},
                                                  {8.25e-322, "8.25e-322"}};
  for (const auto& [d, text] : cases) {
    std::string out;
    AppendJsonRecord({"s", store::ValueType::kFloat64, ""}, {{1}, 0, d}, out);
    CAPTURE(out);
    CHECK(out.find(std::string("\"value\":") + text + ",") != std::string::npos);
  }
}

}  // namespace sluice::stream

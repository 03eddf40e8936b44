#include <doctest/doctest.h>

#include "gateway/ingest/payload_decoders.h"
#include "sparkplug_test_util.h"

namespace sluice::gateway {
namespace {

using testing::AddMetric;
using testing::EdgeNode;
namespace sp = sluice::sparkplug;

// Births one metric and returns its decoded sample.
Sample DecodeOne(const sp::Payload::Metric& metric) {
  SparkplugDecoder d({});
  EdgeNode n(d);
  sp::Payload p;
  *p.add_metrics() = metric;
  auto s = n.Birth(p);
  REQUIRE_MESSAGE(s.ok(), s.status.ToString());
  REQUIRE(n.samples.size() == 1);
  return n.samples[0];
}

sp::Payload::Metric Int(sp::DataType type, std::uint32_t v) {
  sp::Payload::Metric m;
  m.set_name("m");
  m.set_alias(1);
  m.set_datatype(type);
  m.set_int_value(v);
  return m;
}

sp::Payload::Metric Long(sp::DataType type, std::uint64_t v) {
  sp::Payload::Metric m = Int(type, 0);
  m.set_long_value(v);
  return m;
}

std::int64_t AsInt(const Sample& s) {
  REQUIRE(s.type == store::ValueType::kInt64);
  return std::get<std::int64_t>(s.value);
}

std::string AsBytes(const Sample& s) {
  REQUIRE(s.type == store::ValueType::kBytes);
  return std::get<std::string>(s.value);
}

DecodeStatus BirthStatus(const sp::Payload::Metric& metric) {
  SparkplugDecoder d({});
  EdgeNode n(d);
  sp::Payload p;
  *p.add_metrics() = metric;
  return n.Birth(p);
}

}  // namespace

TEST_CASE("signed Sparkplug integers are sign-extended from their width") {
  CHECK(AsInt(DecodeOne(Int(sp::Int8, 0xFF))) == -1);        // 8-bit two's complement
  CHECK(AsInt(DecodeOne(Int(sp::Int8, 0xFFFFFF80))) == -128);  // 32-bit two's complement
  CHECK(AsInt(DecodeOne(Int(sp::Int8, 127))) == 127);
  CHECK(AsInt(DecodeOne(Int(sp::Int16, 0xFFFF8000))) == -32768);
  CHECK(AsInt(DecodeOne(Int(sp::Int32, 0x80000000))) == INT32_MIN);
  CHECK(AsInt(DecodeOne(Long(sp::Int64, 0xFFFFFFFFFFFFFFFF))) == -1);
  CHECK(AsInt(DecodeOne(Long(sp::Int32, 7))) == 7);  // long_value accepted too
}

TEST_CASE("unsigned Sparkplug integers keep their value, UInt64 above int64 is refused") {
  CHECK(AsInt(DecodeOne(Int(sp::UInt8, 255))) == 255);
  CHECK(AsInt(DecodeOne(Int(sp::UInt16, 65535))) == 65535);
  CHECK(AsInt(DecodeOne(Int(sp::UInt32, 0xFFFFFFFF))) == 4294967295);
  CHECK(AsInt(DecodeOne(Long(sp::UInt64, INT64_MAX))) == INT64_MAX);
  auto s = BirthStatus(Long(sp::UInt64, 1ull << 63));
  CHECK(s.reason == MalformedReason::kBadValue);
  CHECK(testing::Contains(s.status.message(), "above the int64 range"));
}

TEST_CASE("Float, Double, Boolean and DateTime map to float64, bool and int64") {
  sp::Payload::Metric f = Int(sp::Float, 0);
  f.set_float_value(1.25f);
  const Sample fs = DecodeOne(f);
  CHECK(fs.type == store::ValueType::kFloat64);
  CHECK(std::get<double>(fs.value) == 1.25);

  sp::Payload::Metric d = Int(sp::Double, 0);
  d.set_double_value(-2.5e300);
  CHECK(std::get<double>(DecodeOne(d).value) == -2.5e300);

  sp::Payload::Metric b = Int(sp::Boolean, 0);
  b.set_boolean_value(true);
  const Sample bs = DecodeOne(b);
  CHECK(bs.type == store::ValueType::kBool);
  CHECK(std::get<bool>(bs.value) == true);

  CHECK(AsInt(DecodeOne(Long(sp::DateTime, 1'700'000'000'123))) == 1'700'000'000'123);
}

TEST_CASE("String, Text and UUID become bytes, Bytes and File keep their bytes") {
  for (sp::DataType t : {sp::String, sp::Text, sp::UUID}) {
    sp::Payload::Metric m = Int(t, 0);
    m.set_string_value("hello");
    CHECK(AsBytes(DecodeOne(m)) == "hello");
  }
  for (sp::DataType t : {sp::Bytes, sp::File}) {
    sp::Payload::Metric m = Int(t, 0);
    m.set_bytes_value(std::string("\0\x01\x02", 3));
    CHECK(AsBytes(DecodeOne(m)) == std::string("\0\x01\x02", 3));
  }
}

TEST_CASE("DataSet and Template values are kept as their serialized protobuf") {
  sp::Payload::Metric ds = Int(sp::DataSet, 0);
  auto* set = ds.mutable_dataset_value();
  set->set_num_of_columns(1);
  set->add_columns("c");
  set->add_types(sp::Int32);
  set->add_rows()->add_elements()->set_int_value(4);
  sp::Payload::DataSet back;
  REQUIRE(back.ParseFromString(AsBytes(DecodeOne(ds))));
  CHECK(back.rows(0).elements(0).int_value() == 4);

  sp::Payload::Metric tm = Int(sp::Template, 0);
  tm.mutable_template_value()->set_template_ref("Motor");
  sp::Payload::Template tback;
  REQUIRE(tback.ParseFromString(AsBytes(DecodeOne(tm))));
  CHECK(tback.template_ref() == "Motor");
}

TEST_CASE("array datatypes are kept as their packed bytes") {
  sp::Payload::Metric m = Int(sp::Int16Array, 0);
  m.set_bytes_value(std::string("\x01\x00\xff\xff", 4));
  CHECK(AsBytes(DecodeOne(m)).size() == 4);
}

TEST_CASE("a value field that does not fit the datatype is refused") {
  sp::Payload::Metric m = Int(sp::Double, 0);
  m.set_string_value("1.5");
  CHECK(BirthStatus(m).reason == MalformedReason::kBadValue);
  CHECK(BirthStatus(Int(sp::PropertySet, 0)).reason == MalformedReason::kBadValue);
  CHECK(BirthStatus(Int(static_cast<sp::DataType>(99), 0)).reason == MalformedReason::kBadValue);
  sp::Payload::Metric untyped = Int(sp::Int32, 1);
  untyped.clear_datatype();
  CHECK(BirthStatus(untyped).reason == MalformedReason::kBadValue);
}

TEST_CASE("null metrics give no sample and are counted") {
  sp::Payload::Metric m = Int(sp::Int32, 0);
  m.clear_value();
  m.set_is_null(true);
  SparkplugDecoder d({});
  testing::EdgeNode n(d);
  sp::Payload p;
  *p.add_metrics() = m;
  auto s = n.Birth(p);
  REQUIRE(s.ok());
  CHECK(s.nulls == 1);
  CHECK(n.samples.empty());
}

}  // namespace sluice::gateway

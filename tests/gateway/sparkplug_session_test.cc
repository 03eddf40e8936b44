#include <doctest/doctest.h>

#include "gateway/ingest/payload_decoders.h"
#include "sparkplug_test_util.h"

namespace sluice::gateway {
namespace {

using testing::AddAliasMetric;
using testing::AddMetric;
using testing::Contains;
using testing::EdgeNode;
namespace sp = sluice::sparkplug;

sp::Payload TwoMetricBirth() {
  sp::Payload p;
  auto* temp = AddMetric(p, "Line/Temp", 1, sp::Double);
  temp->set_double_value(20.5);
  auto* props = temp->mutable_properties();
  props->add_keys("engUnit");
  props->add_values()->set_string_value("degC");
  AddMetric(p, "Line/Count", 2, sp::Int32)->set_int_value(5);
  return p;
}

sp::Payload TempData(double v) {
  sp::Payload p;
  auto* m = AddAliasMetric(p, 1);
  m->set_double_value(v);
  m->set_timestamp(1'700'000'001'000);
  return p;
}

// The rebirth request as the edge node will read it.
void CheckIsRebirth(const OutboundMessage& out, std::string_view topic) {
  CHECK(out.topic == topic);
  sp::Payload p;
  REQUIRE(p.ParseFromString(out.payload));
  REQUIRE(p.metrics_size() == 1);
  CHECK(p.metrics(0).name() == "Node Control/Rebirth");
  CHECK(p.metrics(0).datatype() == sp::Boolean);
  CHECK(p.metrics(0).boolean_value() == true);
}

}  // namespace

TEST_CASE("an NBIRTH defines metrics and its values are stored, control metrics are not") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  REQUIRE(n.Birth(TwoMetricBirth()).ok());
  REQUIRE(n.samples.size() == 2);
  CHECK(n.samples[0].series == "g1/n1/Line/Temp");
  CHECK(n.samples[0].unit == "degC");  // the birth's engUnit property
  CHECK(n.samples[0].timestamp_ns == 1'700'000'000'000'000'000);  // payload timestamp
  CHECK(n.samples[1].series == "g1/n1/Line/Count");
  CHECK(std::get<std::int64_t>(n.samples[1].value) == 5);
  CHECK(d.node_count() == 1);
  CHECK(d.stats().node_births == 1);
  CHECK(n.publish.empty());
}

TEST_CASE("NDATA metrics sent by alias resolve to their birth names and types") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  REQUIRE(n.Birth(TwoMetricBirth()).ok());
  n.samples.clear();
  REQUIRE(n.Send("NDATA", TempData(22.25)).ok());
  REQUIRE(n.samples.size() == 1);
  CHECK(n.samples[0].series == "g1/n1/Line/Temp");
  CHECK(std::get<double>(n.samples[0].value) == 22.25);
  CHECK(n.samples[0].type == store::ValueType::kFloat64);
  CHECK(n.samples[0].timestamp_ns == 1'700'000'001'000'000'000);  // the metric's own
}

TEST_CASE("seq wraps from 255 to 0 without a gap") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  REQUIRE(n.Birth(TwoMetricBirth()).ok());
  for (int i = 0; i < 300; ++i) REQUIRE(n.Send("NDATA", TempData(i)).ok());
  CHECK(d.stats().seq_gaps == 0);
  CHECK(n.publish.empty());
}

TEST_CASE("a seq gap keeps the data and asks the node for a rebirth") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  REQUIRE(n.Birth(TwoMetricBirth()).ok());
  n.samples.clear();
  n.SkipSeq(3);
  REQUIRE(n.Send("NDATA", TempData(1)).ok());
  CHECK(n.samples.size() == 1);
  CHECK(d.stats().seq_gaps == 1);
  REQUIRE(n.publish.size() == 1);
  CheckIsRebirth(n.publish[0], "spBv1.0/g1/NCMD/n1");
}

TEST_CASE("an unknown alias is refused and asks for a rebirth, at most once per hold-off") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  REQUIRE(n.Birth(TwoMetricBirth()).ok());
  n.samples.clear();
  sp::Payload unknown;
  AddAliasMetric(unknown, 1)->set_double_value(1);
  AddAliasMetric(unknown, 99)->set_double_value(2);
  auto s = n.Send("NDATA", unknown);
  CHECK(s.reason == MalformedReason::kUnknownMetric);
  CHECK(Contains(s.status.message(), "topic 'spBv1.0/g1/NDATA/n1': unknown_metric: alias 99"));
  CHECK(n.samples.empty());  // all or nothing: alias 1 of the same message is not kept
  REQUIRE(n.publish.size() == 1);
  CheckIsRebirth(n.publish[0], "spBv1.0/g1/NCMD/n1");

  n.now_ns += SparkplugDecoder::kRebirthHoldoffNs / 2;
  CHECK(n.Send("NDATA", unknown).reason == MalformedReason::kUnknownMetric);
  CHECK(n.publish.size() == 1);
  n.now_ns += SparkplugDecoder::kRebirthHoldoffNs;
  CHECK(n.Send("NDATA", unknown).reason == MalformedReason::kUnknownMetric);
  CHECK(n.publish.size() == 2);
  CHECK(d.stats().rebirth_requests == 2);

  // The rebirth answers it: the new birth's aliases are known again.
  sp::Payload birth = TwoMetricBirth();
  AddMetric(birth, "Line/New", 99, sp::Double)->set_double_value(0);
  REQUIRE(n.Birth(birth, 1).ok());
  CHECK(n.Send("NDATA", unknown).ok());
}

TEST_CASE("data before any birth is refused and asks for a rebirth") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  auto s = n.Send("NDATA", TempData(1));
  CHECK(s.reason == MalformedReason::kNotBorn);
  REQUIRE(n.publish.size() == 1);
  CheckIsRebirth(n.publish[0], "spBv1.0/g1/NCMD/n1");
  CHECK(n.Send("NDATA", TempData(1)).reason == MalformedReason::kNotBorn);
  CHECK(n.publish.size() == 1);  // held off
  CHECK(d.node_count() == 0);    // no state for a node that never was born
}

TEST_CASE("DBIRTH and DDATA give device series, DDEATH forgets the device") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  REQUIRE(n.Birth(TwoMetricBirth()).ok());
  sp::Payload dbirth;
  AddMetric(dbirth, "Motor/Speed", 10, sp::Float)->set_float_value(1.5f);
  REQUIRE(n.Send("DBIRTH", dbirth, "d7").ok());
  n.samples.clear();
  sp::Payload ddata;
  AddAliasMetric(ddata, 10)->set_float_value(3.0f);
  REQUIRE(n.Send("DDATA", ddata, "d7").ok());
  REQUIRE(n.samples.size() == 1);
  CHECK(n.samples[0].series == "g1/n1/d7/Motor/Speed");
  CHECK(std::get<double>(n.samples[0].value) == 3.0);

  CHECK(n.Send("DDATA", ddata, "other").reason == MalformedReason::kNotBorn);
  REQUIRE(n.Send("DDEATH", sp::Payload{}, "d7").ok());
  CHECK(d.stats().device_deaths == 1);
  CHECK(n.Send("DDATA", ddata, "d7").reason == MalformedReason::kNotBorn);
}

TEST_CASE("a new NBIRTH forgets the devices of the previous session") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  REQUIRE(n.Birth(TwoMetricBirth()).ok());
  sp::Payload dbirth;
  AddMetric(dbirth, "X", 10, sp::Boolean)->set_boolean_value(true);
  REQUIRE(n.Send("DBIRTH", dbirth, "d1").ok());
  REQUIRE(n.Birth(TwoMetricBirth(), 1).ok());
  sp::Payload ddata;
  AddAliasMetric(ddata, 10)->set_boolean_value(false);
  CHECK(n.Send("DDATA", ddata, "d1").reason == MalformedReason::kNotBorn);
}

TEST_CASE("NDEATH with the current bdSeq ends the session, a stale one does not") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  REQUIRE(n.Birth(TwoMetricBirth(), 7).ok());
  sp::Payload stale;
  AddMetric(stale, "bdSeq", 0, sp::Int64)->set_long_value(6);
  REQUIRE(n.Send("NDEATH", stale).ok());
  CHECK(d.stats().stale_deaths == 1);
  CHECK(n.Send("NDATA", TempData(1)).ok());

  sp::Payload death;
  AddMetric(death, "bdSeq", 0, sp::Int64)->set_long_value(7);
  REQUIRE(n.Send("NDEATH", death).ok());
  CHECK(d.stats().node_deaths == 1);
  CHECK(d.node_count() == 0);
  CHECK(n.Send("NDATA", TempData(1)).reason == MalformedReason::kNotBorn);
}

TEST_CASE("edge node and metric limits are enforced and counted") {
  SparkplugDecoder d(SparkplugLimits{1, 3});
  EdgeNode a(d, "g", "a");
  EdgeNode b(d, "g", "b");
  REQUIRE(a.Birth(sp::Payload{}).ok());  // bdSeq and Node Control/Rebirth: 2 metrics
  CHECK(b.Birth(sp::Payload{}).reason == MalformedReason::kStateLimit);
  CHECK(d.node_count() == 1);

  sp::Payload two;
  AddMetric(two, "x", 1, sp::Double)->set_double_value(1);
  AddMetric(two, "y", 2, sp::Double)->set_double_value(1);
  CHECK(a.Birth(two).reason == MalformedReason::kStateLimit);  // 4 > 3
  CHECK(d.stats().limit_refusals == 2);
}

TEST_CASE("topics outside the namespace, bad protobufs and commands are handled") {
  SparkplugDecoder d({});
  EdgeNode n(d);
  CHECK(n.SendBytes("spBv1.0/g1/NBIRTH/n1", "\xff\xff\xff").reason ==
        MalformedReason::kBadProtobuf);
  CHECK(n.SendBytes("spBv1.0/g1/NBIRTH/n1/extra", "").reason == MalformedReason::kBadTopic);
  CHECK(n.SendBytes("spBv1.0/g1/DDATA/n1", "").reason == MalformedReason::kBadTopic);
  CHECK(n.SendBytes("spBv1.0/g1/XDATA/n1", "").reason == MalformedReason::kBadTopic);
  CHECK(n.SendBytes("spBv1.0//NDATA/n1", "").reason == MalformedReason::kBadTopic);
  CHECK(n.SendBytes("spBv1.0/g1/NCMD/n1", "\xff").ok());  // not data: ignored
  CHECK(n.SendBytes("spBv1.0/STATE/host", "{}").ok());
  CHECK(n.samples.empty());
}

TEST_CASE("a rule's template and receive timestamps apply to Sparkplug metrics") {
  RuleOptions r;
  r.topic = "spBv1.0/{grp}/+/{edge}/#";
  r.format = PayloadFormat::kSparkplugB;
  r.series = "{grp}.{edge}.{device}.{metric}";
  r.timestamp = TimestampSource::kReceive;
  SparkplugDecoder d({});
  EdgeNode n(d, r, "plant", "e1");
  REQUIRE(n.Birth(TwoMetricBirth()).ok());
  REQUIRE(n.samples.size() == 2);
  CHECK(n.samples[0].series == "plant.e1..Line/Temp");
  CHECK(n.samples[0].timestamp_ns == n.now_ns);
}

}  // namespace sluice::gateway

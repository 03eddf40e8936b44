// /metrics of a running gateway, read by a strict parser of the Prometheus
// text exposition format 0.0.4 written here from the specification (not
// from our writer): every line a HELP or TYPE comment or a valid sample;
// valid names; labels quoted and escaped; TYPE before a family's samples;
// one family per name; histograms with sorted, cumulative buckets ending in
// +Inf equal to _count, and a _sum.
#include <doctest/doctest.h>

#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "admin_test_util.h"
#include "base/clock.h"

namespace sluice::gateway {
namespace {

using testing::AppFixture;
using testing::Get;

struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Family {
  std::string type;  // counter, gauge, histogram, summary, untyped
  bool help = false;
  std::string help_text;  // as written (escapes kept)
  std::vector<ParsedSample> samples;
};

struct Exposition {
  std::map<std::string, Family> families;
  std::vector<std::string> errors;  // "line N: why"
};

bool IsNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }
bool ValidMetricName(std::string_view n) {
  if (n.empty() || !IsNameStart(n[0])) return false;
  for (char c : n)
    if (!IsNameChar(c)) return false;
  return true;
}
bool ValidLabelName(std::string_view n) {
  if (n.empty() || n[0] == ':' || !IsNameStart(n[0]) || n.starts_with("__")) return false;
  for (char c : n)
    if (c == ':' || !IsNameChar(c)) return false;
  return true;
}

// A float as the format allows: Go's ParseFloat syntax plus NaN, +Inf, -Inf.
bool ParseValue(const std::string& s, double& out) {
  if (s == "NaN") {
    out = NAN;
    return true;
  }
  if (s == "+Inf" || s == "Inf") {
    out = INFINITY;
    return true;
  }
  if (s == "-Inf") {
    out = -INFINITY;
    return true;
  }
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != 'E' &&
        c != '+' && c != '-')
      return false;
  }
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// The family a sample name belongs to (histogram and summary suffixes).
std::string FamilyOf(const std::string& name, const std::map<std::string, Family>& families) {
  if (families.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.ends_with(s)) {
      const std::string base = name.substr(0, name.size() - s.size());
      const auto it = families.find(base);
      if (it != families.end() && (it->second.type == "histogram" || it->second.type == "summary"))
        return base;
    }
  }
  return "";
}

Exposition Parse(const std::string& text) {
  Exposition e;
  std::set<std::string> seen_series;
  std::string current;  // family whose samples may follow
  int n = 0;
  auto fail = [&](const std::string& why) {
    e.errors.push_back("line " + std::to_string(n) + ": " + why);
  };
  if (!text.empty() && text.back() != '\n')
    e.errors.push_back("the text does not end with a newline");
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    const std::string line =
        text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream in(line.substr(1));
      std::string kind, name;
      in >> kind >> name;
      if (kind != "HELP" && kind != "TYPE") continue;  // other comments are allowed
      if (!ValidMetricName(name)) {
        fail("bad metric name in " + kind + ": '" + name + "'");
        continue;
      }
      Family& f = e.families[name];
      if (kind == "HELP") {
        if (f.help) fail("second HELP for " + name);
        f.help = true;
        const std::string help = line.substr(std::min(line.size(), 7 + name.size() + 1));
        f.help_text = help;
        for (std::size_t i = 0; i < help.size(); ++i) {
          if (help[i] == '\\' &&
              (i + 1 >= help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n')))
            fail("bad escape in HELP of " + name);
          if (help[i] == '\\') ++i;
        }
      } else {
        std::string type, extra;
        in >> type >> extra;
        if (!f.type.empty()) fail("second TYPE for " + name);
        if (!f.samples.empty()) fail("TYPE after samples of " + name);
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped")
          fail("unknown type '" + type + "' for " + name);
        if (!extra.empty()) fail("text after the type of " + name);
        f.type = type;
        current = name;
      }
      continue;
    }
    // name [{labels}] value [timestamp]
    std::size_t i = 0;
    while (i < line.size() && IsNameChar(line[i])) ++i;
    ParsedSample s;
    s.name = line.substr(0, i);
    if (!ValidMetricName(s.name)) {
      fail("bad sample name in '" + line + "'");
      continue;
    }
    if (i < line.size() && line[i] == '{') {
      ++i;
      bool ok = true;
      while (ok && i < line.size() && line[i] != '}') {
        std::size_t k = i;
        while (k < line.size() && line[k] != '=') ++k;
        const std::string label = line.substr(i, k - i);
        if (!ValidLabelName(label)) {
          fail("bad label name '" + label + "'");
          ok = false;
          break;
        }
        if (k + 1 >= line.size() || line[k + 1] != '"') {
          fail("label value not quoted in '" + line + "'");
          ok = false;
          break;
        }
        std::string value;
        std::size_t j = k + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            if (j + 1 >= line.size()) break;
            const char c = line[++j];
            if (c == 'n')
              value += '\n';
            else if (c == '\\' || c == '"')
              value += c;
            else {
              fail("bad escape \\" + std::string(1, c) + " in a label value");
              ok = false;
              break;
            }
          } else if (line[j] == '\n') {
            ok = false;
          } else {
            value += line[j];
          }
        }
        if (!ok) break;
        if (j >= line.size()) {
          fail("unterminated label value in '" + line + "'");
          ok = false;
          break;
        }
        if (s.labels.count(label)) {
          fail("label '" + label + "' twice in '" + line + "'");
          ok = false;
          break;
        }
        s.labels[label] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (!ok) continue;
      if (i >= line.size() || line[i] != '}') {
        fail("unterminated labels in '" + line + "'");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      fail("no space before the value in '" + line + "'");
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    std::string value, timestamp, extra;
    rest >> value >> timestamp >> extra;
    if (!ParseValue(value, s.value)) {
      fail("bad value '" + value + "' in '" + line + "'");
      continue;
    }
    if (!extra.empty()) fail("text after the timestamp in '" + line + "'");
    const std::string family = FamilyOf(s.name, e.families);
    if (family.empty() || e.families[family].type.empty()) {
      fail("sample '" + s.name + "' without a TYPE before it");
      continue;
    }
    if (family != current) fail("samples of " + family + " are not together");
    std::string key = s.name + "{";
    for (const auto& [k, v] : s.labels) key += k + "=" + v + ",";
    if (!seen_series.insert(key).second) fail("series twice: " + key);
    e.families[family].samples.push_back(s);
  }
  // Per family: counters are _total and non-negative, histograms complete.
  for (const auto& [name, f] : e.families) {
    if (f.type.empty()) {
      e.errors.push_back(name + ": HELP without TYPE");
      continue;
    }
    if (f.samples.empty()) e.errors.push_back(name + ": a family without samples");
    if (f.type == "counter") {
      if (!name.ends_with("_total")) e.errors.push_back(name + ": a counter not named *_total");
      for (const auto& s : f.samples)
        if (s.value < 0) e.errors.push_back(name + ": negative counter");
    }
    if (f.type != "histogram") continue;
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;  // by other labels
    std::map<std::string, double> counts, sums;
    for (const auto& s : f.samples) {
      auto others = s.labels;
      others.erase("le");
      std::string key;
      for (const auto& [k, v] : others) key += k + "=" + v + ",";
      if (s.name == name + "_bucket") {
        double le = 0;
        if (!s.labels.count("le") || !ParseValue(s.labels.at("le"), le)) {
          e.errors.push_back(name + ": bucket without a numeric le");
          continue;
        }
        buckets[key].emplace_back(le, s.value);
      } else if (s.name == name + "_count") {
        counts[key] = s.value;
      } else if (s.name == name + "_sum") {
        sums[key] = s.value;
      } else {
        e.errors.push_back(name + ": stray sample " + s.name);
      }
    }
    for (const auto& [key, b] : buckets) {
      for (std::size_t i = 1; i < b.size(); ++i) {
        if (!(b[i].first > b[i - 1].first)) e.errors.push_back(name + ": le not increasing");
        if (b[i].second < b[i - 1].second) e.errors.push_back(name + ": buckets not cumulative");
      }
      if (b.empty() || !std::isinf(b.back().first))
        e.errors.push_back(name + ": no +Inf bucket last");
      else if (!counts.count(key) || counts[key] != b.back().second)
        e.errors.push_back(name + ": +Inf bucket differs from _count");
      if (!sums.count(key)) e.errors.push_back(name + ": no _sum");
    }
    if (buckets.empty()) e.errors.push_back(name + ": a histogram without buckets");
  }
  return e;
}

std::string Errors(const Exposition& e) {
  std::string out;
  for (const auto& err : e.errors) out += err + "\n";
  return out;
}

double Value(const Exposition& e, const std::string& family, const std::string& sample,
             const std::map<std::string, std::string>& labels = {}) {
  const auto it = e.families.find(family);
  REQUIRE_MESSAGE(it != e.families.end(), "no family " << family);
  for (const auto& s : it->second.samples) {
    if (s.name == sample && s.labels == labels) return s.value;
  }
  FAIL("no sample " << sample);
  return 0;
}

}  // namespace

TEST_CASE("the strict parser itself refuses what the format forbids") {
  CHECK(Parse("# HELP a_total x\n# TYPE a_total counter\na_total 1\n").errors.empty());
  CHECK_FALSE(Parse("a_total 1\n").errors.empty());                                 // no TYPE
  CHECK_FALSE(Parse("# TYPE a gauge\na{l=x} 1\n").errors.empty());                  // unquoted
  CHECK_FALSE(Parse("# TYPE a gauge\na{l=\"x\\t\"} 1\n").errors.empty());           // bad escape
  CHECK_FALSE(Parse("# TYPE a gauge\na 1\n# TYPE a gauge\n").errors.empty());       // TYPE twice
  CHECK_FALSE(Parse("# TYPE 1a gauge\n1a 1\n").errors.empty());                     // bad name
  CHECK_FALSE(Parse("# TYPE a gauge\na one\n").errors.empty());                     // bad value
  CHECK_FALSE(Parse("# TYPE a counter\na 1\n").errors.empty());                     // not _total
  CHECK_FALSE(Parse("# TYPE a gauge\na 1\na 2\n").errors.empty());                  // series twice
  CHECK_FALSE(Parse("# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n").errors.empty());  // interleaved
  const std::string hist =
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
      "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n";
  CHECK_FALSE(Parse(hist).errors.empty());  // not cumulative
  CHECK_FALSE(
      Parse(
          "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n")
          .errors.empty());  // +Inf != _count
  CHECK_FALSE(
      Parse("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n").errors.empty());
}

TEST_CASE("the gateway's /metrics passes the strict exposition-format parser") {
  AppFixture f;
  // Traffic for every ingest result: decoded, malformed, unmatched.
  const auto offer = [&](const std::string& topic, const std::string& payload) {
    InboundMessage m;
    m.topic = topic;
    m.payload = payload;
    m.qos = 1;
    m.receive_time_ns = WallNs();
    REQUIRE(f.app->pipeline().Offer(std::move(m)) == OfferResult::kQueued);
  };
  for (int i = 0; i < 50; ++i)
    offer("plant/l" + std::to_string(i % 3) + "/temp", std::to_string(20 + i));
  offer("plant/l1/temp", "warm");
  offer("nowhere", "1");
  // Counters settle when the shards are done; wait for them (bounded).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (f.app->stats().pipeline.records_stored < 50 ||
         f.app->stats().pipeline.messages_unmatched < 1 ||
         f.app->stats().pipeline.messages_malformed < 1) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  const auto reply = Get(f.port(), "/metrics");
  REQUIRE(reply.status == 200);
  const Exposition e = Parse(reply.body);
  CHECK_MESSAGE(e.errors.empty(), Errors(e));

  for (const auto& family : e.families) {
    const auto& name = family.first;
    const auto& fam = family.second;
    CAPTURE(name);
    CHECK(name.starts_with("sluice_"));
    CHECK(fam.help);
  }
  // What the issue asks for, by name.
  CHECK(Value(e, "sluice_ingest_messages_total", "sluice_ingest_messages_total",
              {{"result", "decoded"}}) == 50);
  CHECK(Value(e, "sluice_ingest_messages_total", "sluice_ingest_messages_total",
              {{"result", "malformed"}}) == 1);
  CHECK(Value(e, "sluice_ingest_messages_total", "sluice_ingest_messages_total",
              {{"result", "unmatched"}}) == 1);
  CHECK(Value(e, "sluice_ingest_malformed_total", "sluice_ingest_malformed_total",
              {{"reason", "not_a_number"}}) == 1);
  CHECK(Value(e, "sluice_ingest_shed_total", "sluice_ingest_shed_total",
              {{"class", "low"}, {"reason", "qos0"}}) == 0);
  CHECK(Value(e, "sluice_records_stored_total", "sluice_records_stored_total") == 50);
  const double acks =
      Value(e, "sluice_durable_ack_latency_seconds", "sluice_durable_ack_latency_seconds_count");
  CHECK(acks >= 1);
  CHECK(Value(e, "sluice_durable_ack_latency_seconds", "sluice_durable_ack_latency_seconds_bucket",
              {{"le", "+Inf"}}) == acks);
  CHECK(Value(e, "sluice_durable_ack_latency_seconds", "sluice_durable_ack_latency_seconds_sum") >
        0);
  CHECK(Value(e, "sluice_store_disk_used_bytes", "sluice_store_disk_used_bytes") > 0);
  CHECK(e.families.count("sluice_store_disk_budget_bytes"));
  CHECK(e.families.count("sluice_store_write_buffer_bytes"));
  CHECK(Value(e, "sluice_store_partitions", "sluice_store_partitions", {{"state", "open"}}) >= 1);
  CHECK(Value(e, "sluice_store_partitions", "sluice_store_partitions", {{"state", "sealed"}}) == 0);
  CHECK(e.families.count("sluice_sync_backlog_bytes"));
  CHECK(e.families.count("sluice_sync_oldest_unsynced_age_seconds"));
  CHECK(e.families.count("sluice_sync_watermark_timestamp_seconds"));
  CHECK(e.families.count("sluice_sync_watermark_lag_seconds"));
  CHECK(e.families.count("sluice_sync_watermark_late_records_total"));
  CHECK(Value(e, "sluice_sync_upload_errors_total", "sluice_sync_upload_errors_total",
              {{"lane", "live"}, {"kind", "retryable"}}) == 0);
  CHECK(Value(e, "sluice_records_lost_total", "sluice_records_lost_total",
              {{"reason", "evicted_before_sync"}}) == 0);
  CHECK(Value(e, "sluice_store_partitions_removed_total", "sluice_store_partitions_removed_total",
              {{"reason", "evicted_before_sync"}}) == 0);
  CHECK(Value(e, "sluice_ingest_pressure", "sluice_ingest_pressure", {{"level", "open"}}) == 1);
  // Disk and clock faults: the store's file system, refusals, clock steps.
  CHECK(e.families.at("sluice_store_fs_free_bytes").type == "gauge");
  CHECK(e.families.at("sluice_store_fs_total_bytes").type == "gauge");
  CHECK(e.families.at("sluice_store_low_space").type == "gauge");
  CHECK(e.families.at("sluice_store_leftover_files").type == "gauge");
  CHECK(Value(e, "sluice_store_rejected_no_space_total", "sluice_store_rejected_no_space_total") ==
        0);
  CHECK(Value(e, "sluice_store_full", "sluice_store_full") == 0);
  CHECK(e.families.at("sluice_clock_jumps_total").type == "counter");
  CHECK(Value(e, "sluice_clock_jumps_total", "sluice_clock_jumps_total",
              {{"direction", "forward"}}) >= 0);
  CHECK(Value(e, "sluice_clock_jumps_total", "sluice_clock_jumps_total",
              {{"direction", "backward"}}) >= 0);
  CHECK(e.families.at("sluice_durable_ack_latency_seconds").type == "histogram");
  CHECK(e.families.at("sluice_records_stored_total").type == "counter");
}

// --- Golden files --------------------------------------------------------
//
// The observable surface of a gateway with every part on (ingest rules,
// the native endpoint, sync to a directory, the stream lane): each metric
// family's name, TYPE, HELP and the label sets of its samples, and the
// shape of /v1/status (every key path and the kind of its value). They are
// kept in tests/gateway/golden/ and must not change when code moves:
// refactoring metrics or status keeps them identical; a deliberate change
// regenerates them (SLUICE_UPDATE_GOLDEN=1) and shows in the diff.

namespace {

std::string MetricsSurface(const Exposition& e) {
  std::ostringstream o;
  for (const auto& [name, f] : e.families) {
    o << "# TYPE " << name << " " << f.type << "\n# HELP " << name << " " << f.help_text << "\n";
    std::set<std::string> samples;
    for (const auto& s : f.samples) {
      std::string k = s.name + "{";
      for (const auto& [l, v] : s.labels) k += l + "=\"" + v + "\",";
      if (k.back() == ',') k.pop_back();
      samples.insert(k + "}");
    }
    for (const auto& k : samples) o << k << "\n";
  }
  return o.str();
}

void Shape(simdjson::dom::element v, const std::string& path, std::set<std::string>& out) {
  using simdjson::dom::element_type;
  switch (v.type()) {
    case element_type::OBJECT: {
      out.insert(path + " object");
      simdjson::dom::object object;
      REQUIRE(v.get_object().get(object) == simdjson::SUCCESS);
      for (auto field : object) Shape(field.value, path + "/" + std::string(field.key), out);
      break;
    }
    case element_type::ARRAY: out.insert(path + " array"); break;
    case element_type::STRING: out.insert(path + " string"); break;
    case element_type::BOOL: out.insert(path + " bool"); break;
    case element_type::NULL_VALUE: out.insert(path + " null"); break;
    default: out.insert(path + " number"); break;
  }
}

// Compares `actual` with the golden file `name`, or rewrites it.
void Golden(const std::string& name, const std::string& actual) {
  const std::filesystem::path path =
      std::filesystem::path(SLUICE_SOURCE_DIR) / "tests/gateway/golden" / name;
  if (const char* u = std::getenv("SLUICE_UPDATE_GOLDEN"); u != nullptr && std::string(u) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << actual;
    MESSAGE("rewrote " << path.string());
    return;
  }
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path.string() << " is missing; SLUICE_UPDATE_GOLDEN=1 writes it");
  const std::string want((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto lines = [](const std::string& t) {
    std::set<std::string> out;
    std::istringstream s(t);
    for (std::string l; std::getline(s, l);) out.insert(l);
    return out;
  };
  const auto w = lines(want), a = lines(actual);
  std::string diff;
  for (const auto& l : w)
    if (!a.count(l)) diff += "- " + l + "\n";
  for (const auto& l : a)
    if (!w.count(l)) diff += "+ " + l + "\n";
  CHECK_MESSAGE(diff.empty(), name << " differs (- golden, + now); if intended, rerun with "
                                      "SLUICE_UPDATE_GOLDEN=1:\n" << diff);
}

}  // namespace

TEST_CASE("metric names, types, HELP and labels and the /v1/status shape equal the golden files") {
  sluice::testing::TempDir sink("sluice-golden-sink");
  AppFixture f("",
               "[endpoint]\nenabled = true\nport = 0\n"
               "[sync]\nsink = \"dir\"\n[sync.dir]\nroot = \"" + sink.path().string() + "\"\n"
               "[stream.kafka]\nenabled = true\nbootstrap_servers = \"127.0.0.1:1\"\n"
               "topic = \"sluice.{site}\"\nbacklog_disk = \"16MiB\"\n");
  const auto metrics = Get(f.port(), "/metrics");
  REQUIRE(metrics.status == 200);
  const Exposition e = Parse(metrics.body);
  REQUIRE_MESSAGE(e.errors.empty(), Errors(e));
  Golden("metrics.txt", MetricsSurface(e));

  const auto status = Get(f.port(), "/v1/status");
  REQUIRE(status.status == 200);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(status.body).get(doc) == simdjson::SUCCESS);
  std::set<std::string> shape;
  Shape(doc, "", shape);
  std::string text;
  for (const auto& l : shape) text += l + "\n";
  Golden("status_shape.txt", text);
}

}  // namespace sluice::gateway

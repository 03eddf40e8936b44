// stream_bench: the stream lane (stream/kafka_lane.h) against librdkafka's
// mock cluster, run in its own process (tests/stream/kafka_mock_cluster), as
// the lane's tests do. See bench/README.md. Three parts, each with verdicts:
//
//  a. Records/s through the lane against a bare librdkafka producer sending
//     the same message bytes (same key, value, timestamp and headers, built
//     beforehand) with the same producer configuration (the lane's own,
//     stream/src/producer_conf.h). The lane drains records already durable
//     in the store, reading, encoding and confirming as it goes. Best of
//     three runs each, alternating.
//     Target: at least 0.8 of the bare producer.
//  b. The lane while ingest runs: a writer thread appends to the store as
//     fast as it can (batches of --batch records, several in flight) for
//     --seconds, the lane sending all the while. Figure: records delivered
//     per second from the first append until everything durable was
//     delivered. Target (protobuf_batch): at least 500,000 records/s; json,
//     one record per message, reported too.
//  c. Latency at --rate records/s offered (a paced writer): p50 and p99 from
//     a batch's durable acknowledgement (the moment its append ticket
//     completes) to the Kafka delivery report of the last message made from
//     it, as the lane measures them. Target: p99 at most 1 s.
//  d. A stream that is down does not slow ingest: durable records/s of the
//     part b writer for --seconds into a store without the lane, and into
//     one whose lane points at a Kafka that is unreachable (a closed port),
//     with a small backlog budget (128 MiB) so that the budget fills and
//     the oldest unconfirmed batches are given up meanwhile. Best of three
//     each, alternating. Target: at least 0.9 of the store without the lane.
//
//   stream_bench [--records N] [--seconds S] [--rate R] [--batch B] [--series K]
//                [--parts abcd]
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "message_format.h"
#include "mock_cluster.h"
#include "producer_conf.h"
#include "store/store.h"
#include "stream/kafka_lane.h"
#include "temp_dir.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;
using stream::KafkaLane;
using stream::KafkaLaneOptions;
using stream::MessageFormat;

struct Args {
  std::uint64_t records = 1'000'000;  // part a, per run
  double seconds = 6;               // part b, ingest time
  double rate = 100'000;            // part c, offered records/s
  double latency_seconds = 8;       // part c
  std::size_t batch = 1000;         // part b, records per append
  std::size_t series = 100;
  std::string parts = "abcd";       // which parts to run
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "stream_bench: %s\n", why.c_str());
  std::exit(1);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string SeriesName(std::size_t k) { return "bench/dev-" + std::to_string(k) + "/temp"; }

// Record i of the workload: series i mod K, 1 ms apart, a sine-like value.
store::Record MakeRecord(const std::vector<store::SeriesId>& ids, std::uint64_t i,
                         std::int64_t t0) {
  const double v = 20.0 + static_cast<double>(i % 1000) * 0.0125;
  return {ids[i % ids.size()], t0 + static_cast<std::int64_t>(i) * 1'000'000, v};
}

KafkaLaneOptions LaneOptions(const std::string& bootstrap, const std::string& topic,
                             MessageFormat format) {
  KafkaLaneOptions o;
  o.bootstrap_servers = bootstrap;
  o.topic = topic;
  o.format = format;
  o.gateway_id = "bench-gw";
  o.site = "bench";
  return o;  // defaults otherwise: zstd, linger 5 ms, 200,000 unconfirmed
}

// A store in its own temporary folder with the cursor on, and K series.
struct BenchStore {
  testing::TempDir dir{"sluice-stream-bench"};
  std::unique_ptr<store::Store> store;
  std::vector<store::SeriesId> ids;

  // retain 0: no cursor (a store without the lane).
  explicit BenchStore(std::size_t series, std::uint64_t retain = 768ull << 20,
                      std::uint64_t memory = 512ull << 20) {
    store::Options o;
    o.dir = (dir.path() / "store").string();
    o.wal_file_size = 64ull << 20;
    o.cursor_retain_bytes = retain;
    o.cursor_memory_bytes = memory;
    auto s = store::Store::Open(o);
    if (!s.ok()) Die("store: " + s.status().ToString());
    store = std::move(*s);
    for (std::size_t k = 0; k < series; ++k) {
      auto id = store->RegisterSeries(SeriesName(k), store::ValueType::kFloat64, "degC");
      if (!id.ok()) Die("register: " + id.status().ToString());
      ids.push_back(*id);
    }
  }
};

// Appends `batch`, keeping at most `depth` appends in flight; Drain waits
// for all. Counts durable records through the append callbacks.
class Appender {
 public:
  Appender(store::Store* s, std::size_t depth) : store_(s), depth_(depth) {}
  void Append(store::Batch batch) {
    while (pending_.size() >= depth_) Pop();
    const std::size_t n = batch.size();
    pending_.push_back(store_->Append(std::move(batch), [this, n](const Status& st) {
      if (st.ok()) durable_.fetch_add(n, std::memory_order_relaxed);
    }));
  }
  void Drain() {
    while (!pending_.empty()) Pop();
  }
  std::uint64_t durable() const { return durable_.load(std::memory_order_relaxed); }

 private:
  void Pop() {
    Status s = pending_.front().Wait();
    if (!s.ok()) Die("append: " + s.ToString());
    pending_.pop_front();
  }
  store::Store* store_;
  const std::size_t depth_;
  std::deque<store::Ticket> pending_;
  std::atomic<std::uint64_t> durable_{0};
};

// Waits until the lane delivered `records` (and confirmed them); the time
// it happened, or dies after `limit`.
Clock::time_point WaitDelivered(const KafkaLane& lane, std::uint64_t records,
                                std::chrono::seconds limit) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    const auto s = lane.stats();
    if (s.records_delivered >= records) return Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const auto s = lane.stats();
  Die("the lane delivered " + std::to_string(s.records_delivered) + " of " +
      std::to_string(records) + " records in time; last error: " + s.last_error);
}

// --- a. the bare producer ---------------------------------------------------

struct Message {
  std::string key, value;
  std::int64_t timestamp_ms;
};

std::vector<Message> EncodeAll(const std::vector<store::SeriesId>& ids, std::uint64_t n,
                               std::int64_t t0, MessageFormat format) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < ids.size(); ++k) names.push_back(SeriesName(k));
  std::vector<Message> out;
  out.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const store::Record r = MakeRecord(ids, i, t0);
    const std::string& name = names[i % ids.size()];
    const stream::SeriesMeta meta{name, store::ValueType::kFloat64, "degC"};
    Message m{name, {}, r.timestamp_ns / 1'000'000};
    if (format == MessageFormat::kJson) stream::AppendJsonRecord(meta, r, m.value);
    else stream::AppendProtoRecord(meta, r, m.value);
    out.push_back(std::move(m));
  }
  return out;
}

std::atomic<std::uint64_t> bare_delivered{0}, bare_failed{0};

void BareDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) bare_delivered.fetch_add(1);
  else bare_failed.fetch_add(1);
}

// Produces every message as the lane does (produceva, copied value, headers
// gateway and site, the record's timestamp) and waits for every delivery
// report. Records/s.
double BareProducer(const std::string& bootstrap, const std::string& topic,
                    const std::vector<Message>& messages) {
  const KafkaLaneOptions o = LaneOptions(bootstrap, topic, MessageFormat::kJson);
  auto conf = stream::BuildProducerConf(o);
  if (!conf.ok()) Die("conf: " + conf.status().ToString());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &BareDelivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err);
  if (rk == nullptr) Die(std::string("rd_kafka_new: ") + err);
  (void)conf->release();
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  rd_kafka_headers_t* headers = rd_kafka_headers_new(2);
  rd_kafka_header_add(headers, "gateway", -1, o.gateway_id.data(),
                      static_cast<ssize_t>(o.gateway_id.size()));
  rd_kafka_header_add(headers, "site", -1, o.site.data(), static_cast<ssize_t>(o.site.size()));
  bare_delivered = 0;
  bare_failed = 0;
  const auto t0 = Clock::now();
  std::size_t sent = 0;
  for (const Message& m : messages) {
    for (;;) {
      rd_kafka_headers_t* h = rd_kafka_headers_copy(headers);
      rd_kafka_vu_t vu[7];
      vu[0].vtype = RD_KAFKA_VTYPE_RKT;
      vu[0].u.rkt = rkt;
      vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
      vu[1].u.i32 = RD_KAFKA_PARTITION_UA;
      vu[2].vtype = RD_KAFKA_VTYPE_KEY;
      vu[2].u.mem.ptr = const_cast<char*>(m.key.data());
      vu[2].u.mem.size = m.key.size();
      vu[3].vtype = RD_KAFKA_VTYPE_VALUE;
      vu[3].u.mem.ptr = const_cast<char*>(m.value.data());
      vu[3].u.mem.size = m.value.size();
      vu[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      vu[4].u.i = RD_KAFKA_MSG_F_COPY;
      vu[5].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
      vu[5].u.i64 = m.timestamp_ms;
      vu[6].vtype = RD_KAFKA_VTYPE_HEADERS;
      vu[6].u.headers = h;
      rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_NO_ERROR;
      if (rd_kafka_error_t* e = rd_kafka_produceva(rk, vu, 7)) {
        code = rd_kafka_error_code(e);
        rd_kafka_error_destroy(e);
      }
      if (code == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      rd_kafka_headers_destroy(h);
      if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) Die(rd_kafka_err2str(code));
      rd_kafka_poll(rk, 10);
    }
    if (++sent % 1024 == 0) rd_kafka_poll(rk, 0);  // delivery reports, as the lane serves them
  }
  while (bare_delivered.load() + bare_failed.load() < messages.size()) rd_kafka_poll(rk, 10);
  const double s = Seconds(Clock::now() - t0);
  if (bare_failed.load() != 0) Die("bare producer: failed deliveries");
  rd_kafka_headers_destroy(headers);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return static_cast<double>(messages.size()) / s;
}

// The lane draining `n` records that are durable before it starts. Records/s.
double LaneDrain(const std::string& bootstrap, const std::string& topic, MessageFormat format,
                 std::uint64_t n, std::size_t series, std::int64_t t0) {
  BenchStore bs(series);
  Appender app(bs.store.get(), 16);
  for (std::uint64_t i = 0; i < n;) {
    store::Batch b;
    for (std::size_t j = 0; j < 1000 && i < n; ++j, ++i) b.push_back(MakeRecord(bs.ids, i, t0));
    app.Append(std::move(b));
  }
  app.Drain();
  const auto start = Clock::now();
  auto lane = KafkaLane::Start(bs.store.get(), LaneOptions(bootstrap, topic, format));
  if (!lane.ok()) Die("lane: " + lane.status().ToString());
  const auto done = WaitDelivered(**lane, n, std::chrono::seconds(300));
  (*lane)->Stop();
  return static_cast<double>(n) / Seconds(done - start);
}

// --- b. under ingest --------------------------------------------------------

// The part b writer: --batch records per append as fast as the store takes
// them, for --seconds, then waits for every append. Records appended.
std::uint64_t WriteFor(Appender& app, const BenchStore& bs, const Args& a, std::int64_t t0) {
  std::uint64_t i = 0;
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(a.seconds));
  while (Clock::now() < until) {
    store::Batch b;
    b.reserve(a.batch);
    for (std::size_t j = 0; j < a.batch; ++j, ++i) b.push_back(MakeRecord(bs.ids, i, t0));
    app.Append(std::move(b));
  }
  app.Drain();
  return i;
}

struct IngestResult {
  double durable_rps = 0;    // appended and durable, per second of ingest
  double delivered_rps = 0;  // delivered, from the first append to the last delivery
  double lag_s = 0;          // from the end of ingest to the last delivery
  std::uint64_t records = 0, messages = 0;
};

IngestResult UnderIngest(const std::string& bootstrap, const std::string& topic,
                         MessageFormat format, const Args& a, std::int64_t t0) {
  BenchStore bs(a.series);
  auto lane = KafkaLane::Start(bs.store.get(), LaneOptions(bootstrap, topic, format));
  if (!lane.ok()) Die("lane: " + lane.status().ToString());
  Appender app(bs.store.get(), 8);
  const auto start = Clock::now();
  const std::uint64_t i = WriteFor(app, bs, a, t0);
  const auto ingest_end = Clock::now();
  const auto done = WaitDelivered(**lane, i, std::chrono::seconds(300));
  IngestResult r;
  r.records = i;
  r.durable_rps = static_cast<double>(app.durable()) / Seconds(ingest_end - start);
  r.delivered_rps = static_cast<double>(i) / Seconds(done - start);
  r.lag_s = Seconds(done - ingest_end);
  r.messages = (*lane)->stats().messages_delivered;
  (*lane)->Stop();
  return r;
}

// --- c. latency at an offered rate -----------------------------------------

struct LatencyResult {
  double offered_rps = 0;
  double p50_ms = 0, p99_ms = 0;
};

LatencyResult Latency(const std::string& bootstrap, const std::string& topic,
                      MessageFormat format, const Args& a, std::int64_t t0) {
  BenchStore bs(a.series);
  auto lane = KafkaLane::Start(bs.store.get(), LaneOptions(bootstrap, topic, format));
  if (!lane.ok()) Die("lane: " + lane.status().ToString());
  Appender app(bs.store.get(), 64);
  // One append per millisecond, on an absolute schedule.
  const std::size_t per = static_cast<std::size_t>(a.rate / 1000);
  const std::uint64_t ticks = static_cast<std::uint64_t>(a.latency_seconds * 1000);
  std::uint64_t i = 0;
  const auto start = Clock::now();
  for (std::uint64_t t = 0; t < ticks; ++t) {
    std::this_thread::sleep_until(start + std::chrono::milliseconds(t));
    store::Batch b;
    for (std::size_t j = 0; j < per; ++j, ++i) b.push_back(MakeRecord(bs.ids, i, t0));
    app.Append(std::move(b));
  }
  const double offered = static_cast<double>(i) / Seconds(Clock::now() - start);
  app.Drain();
  WaitDelivered(**lane, i, std::chrono::seconds(120));
  const auto s = (*lane)->stats();
  (*lane)->Stop();
  return {offered, s.latency_p50_us / 1000.0, s.latency_p99_us / 1000.0};
}

// --- d. ingest with the stream down -----------------------------------------

struct DownResult {
  double durable_rps = 0;
  std::uint64_t lost_records = 0, backlog_bytes = 0;
};

// The part b writer for --seconds; with `lane`, the lane runs against an
// unreachable Kafka.
DownResult IngestWithLaneDown(bool lane, const Args& a, std::int64_t t0) {
  BenchStore bs(a.series, lane ? 128ull << 20 : 0, 64ull << 20);
  std::unique_ptr<KafkaLane> down;
  if (lane) {
    auto l = KafkaLane::Start(bs.store.get(),
                              LaneOptions("127.0.0.1:1", "bench.down", MessageFormat::kProtobufBatch));
    if (!l.ok()) Die("lane: " + l.status().ToString());
    down = std::move(*l);
  }
  Appender app(bs.store.get(), 8);
  const auto start = Clock::now();
  WriteFor(app, bs, a, t0);
  DownResult r;
  r.durable_rps = static_cast<double>(app.durable()) / Seconds(Clock::now() - start);
  if (down) {
    const auto s = down->stats();
    r.lost_records = s.cursor.lost_records;
    r.backlog_bytes = s.cursor.backlog_bytes;
    if (s.records_delivered != 0) Die("the lane delivered to a closed port");
    down->Stop();
  }
  return r;
}

const char* Verdict(bool ok) { return ok ? "PASS" : "MISS"; }

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--records") a.records = std::strtoull(v, nullptr, 10);
    else if (k == "--seconds") a.seconds = std::atof(v);
    else if (k == "--rate") a.rate = std::atof(v);
    else if (k == "--batch") a.batch = std::strtoull(v, nullptr, 10);
    else if (k == "--series") a.series = std::strtoull(v, nullptr, 10);
    else if (k == "--parts") a.parts = v;
    else Die("unknown argument " + k);
  }
  sluice::testing::MockKafkaCluster cluster(3);
  const std::int64_t t0 = (sluice::WallNs() / 1'000'000'000) * 1'000'000'000;
  int topic_no = 0;
  auto topic = [&] {
    const std::string t = "bench." + std::to_string(++topic_no);
    if (cluster.Command("topic " + t + " 6 1") != "ok") Die("topic " + t);
    return t;
  };
  std::printf("stream_bench: librdkafka %s, mock cluster of 3 brokers in its own process, topics "
              "of 6 partitions; %zu series, zstd, linger 5 ms, acks=all, idempotent\n",
              rd_kafka_version_str(), a.series);

  std::vector<std::string> verdicts;
  if (a.parts.find('a') != std::string::npos) {
    std::printf("\na. lane vs a bare librdkafka producer of the same messages, %llu records "
                "durable before the lane starts\n",
                static_cast<unsigned long long>(a.records));
    BenchStore ids_only(a.series);  // the same series ids as every bench store
    for (MessageFormat f : {MessageFormat::kJson, MessageFormat::kProtobuf}) {
      const auto messages = EncodeAll(ids_only.ids, a.records, t0, f);
      std::size_t bytes = 0;
      for (const auto& m : messages) bytes += m.value.size();
      // Best of three, alternating, so that a burst of other load on the
      // box does not decide the ratio.
      double bare = 0, lane = 0;
      for (int run = 0; run < 3; ++run) {
        bare = std::max(bare, BareProducer(cluster.bootstrap(), topic(), messages));
        lane = std::max(lane, LaneDrain(cluster.bootstrap(), topic(), f, a.records, a.series, t0));
      }
      const double ratio = lane / bare;
      std::printf("  %-9s %4.0f B/message  bare producer %9.0f records/s  lane %9.0f records/s  "
                  "ratio %.2f\n",
                  sluice::stream::MessageFormatName(f),
                  static_cast<double>(bytes) / static_cast<double>(messages.size()), bare, lane,
                  ratio);
      char line[160];
      std::snprintf(line, sizeof line, "a. lane / bare producer, %s: %.2f (target >= 0.80)",
                    sluice::stream::MessageFormatName(f), ratio);
      verdicts.push_back(std::string(Verdict(ratio >= 0.8)) + "  " + line);
    }
  }

  if (a.parts.find('b') != std::string::npos) {
  std::printf("\nb. the lane while ingest runs: a writer appending %zu-record batches at full "
              "speed for %.0f s\n",
              a.batch, a.seconds);
  for (MessageFormat f : {MessageFormat::kProtobufBatch, MessageFormat::kJson}) {
    const auto r = UnderIngest(cluster.bootstrap(), topic(), f, a, t0);
    std::printf("  %-14s ingest %9.0f durable records/s  lane %9.0f records/s delivered "
                "(first append to last delivery)  lag at the end %.2f s  %llu records in %llu "
                "messages\n",
                sluice::stream::MessageFormatName(f), r.durable_rps, r.delivered_rps, r.lag_s,
                static_cast<unsigned long long>(r.records),
                static_cast<unsigned long long>(r.messages));
    if (f == MessageFormat::kProtobufBatch) {
      char line[160];
      std::snprintf(line, sizeof line,
                    "b. protobuf_batch under ingest: %.0f records/s (target >= 500000)",
                    r.delivered_rps);
      verdicts.push_back(std::string(Verdict(r.delivered_rps >= 500000)) + "  " + line);
    }
  }
  }

  if (a.parts.find('c') != std::string::npos) {
  std::printf("\nc. durable acknowledgement to delivery report, %.0f records/s offered for %.0f s "
              "(one append a millisecond)\n",
              a.rate, a.latency_seconds);
  for (MessageFormat f : {MessageFormat::kProtobufBatch, MessageFormat::kJson}) {
    const auto r = Latency(cluster.bootstrap(), topic(), f, a, t0);
    std::printf("  %-14s offered %9.0f records/s  p50 %7.1f ms  p99 %7.1f ms\n",
                sluice::stream::MessageFormatName(f), r.offered_rps, r.p50_ms, r.p99_ms);
    char line[160];
    std::snprintf(line, sizeof line, "c. p99 durable to delivered, %s: %.1f ms (target <= 1000)",
                  sluice::stream::MessageFormatName(f), r.p99_ms);
    verdicts.push_back(std::string(Verdict(r.p99_ms <= 1000)) + "  " + line);
  }
  }
  if (a.parts.find('d') != std::string::npos) {
    std::printf("\nd. ingest while the stream is down (Kafka unreachable), %zu-record batches for "
                "%.0f s, best of three each\n",
                a.batch, a.seconds);
    DownResult none, down;
    for (int run = 0; run < 3; ++run) {
      const DownResult n = IngestWithLaneDown(false, a, t0);
      const DownResult d = IngestWithLaneDown(true, a, t0);
      if (n.durable_rps > none.durable_rps) none = n;
      if (d.durable_rps > down.durable_rps) down = d;
    }
    const double ratio = down.durable_rps / none.durable_rps;
    std::printf("  no lane        ingest %9.0f durable records/s\n", none.durable_rps);
    std::printf("  lane down      ingest %9.0f durable records/s  backlog %llu MiB (budget 128)  "
                "%llu records given up, counted\n",
                down.durable_rps, static_cast<unsigned long long>(down.backlog_bytes >> 20),
                static_cast<unsigned long long>(down.lost_records));
    char line[160];
    std::snprintf(line, sizeof line,
                  "d. ingest with the stream down / without the lane: %.2f (target >= 0.90)", ratio);
    verdicts.push_back(std::string(Verdict(ratio >= 0.9)) + "  " + line);
  }
  std::printf("\nverdicts\n");
  for (const auto& v : verdicts) std::printf("  %s\n", v.c_str());
  return 0;
}

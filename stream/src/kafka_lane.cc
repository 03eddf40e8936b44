// The stream lane's code (kafka_lane_impl.h outlines the class).
#include "kafka_lane_impl.h"

#include "base/clock.h"

namespace sluice::stream {
namespace {

DeliveryError Classify(rd_kafka_resp_err_t e) {
  switch (e) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return DeliveryError::kTransport;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return DeliveryError::kTimedOut;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return DeliveryError::kAuth;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return DeliveryError::kUnknownTopic;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return DeliveryError::kTooLarge;
    case RD_KAFKA_RESP_ERR__FATAL:
      return DeliveryError::kFatal;
    default:
      return DeliveryError::kOther;
  }
}

bool IsPurge(rd_kafka_resp_err_t e) {
  return e == RD_KAFKA_RESP_ERR__PURGE_QUEUE || e == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
}

}  // namespace

Status KafkaLaneImpl::Init() {
  headers_ = rd_kafka_headers_new(2);
  rd_kafka_header_add(headers_, "gateway", -1, opt_.gateway_id.data(),
                      static_cast<ssize_t>(opt_.gateway_id.size()));
  rd_kafka_header_add(headers_, "site", -1, opt_.site.data(),
                      static_cast<ssize_t>(opt_.site.size()));
  SLUICE_RETURN_IF_ERROR(CreateProducer());
  {
    MutexLock lock(stats_mu_);
    latencies_.reserve(kLatencySamples);
  }
  running_ = true;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void KafkaLaneImpl::Stop(std::uint32_t flush_ms) {
  {
    MutexLock lock(stop_mu_);
    if (stop_requested_) {
      if (thread_.joinable()) thread_.join();
      return;
    }
    stop_requested_ = true;
    flush_ms_ = flush_ms;
  }
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  running_ = false;
}

KafkaLaneStats KafkaLaneImpl::stats() const {
  KafkaLaneStats s;
  {
    MutexLock lock(stats_mu_);
    s = stats_;
    if (!latencies_.empty()) {
      std::vector<std::uint64_t> v = latencies_;
      auto at = [&](double q) {
        const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()));
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
        return v[i];
      };
      s.latency_p50_us = at(0.50);
      s.latency_p99_us = at(0.99);
    }
  }
  s.running = running_.load();
  s.topic = topic_;
  s.format = opt_.format;
  s.brokers_down = brokers_down_.load();
  s.cursor = cursor_->stats();
  return s;
}

Status KafkaLaneImpl::CreateProducer() {
  SLUICE_ASSIGN_OR_RETURN(auto conf, BuildProducerConf(opt_));
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaLaneImpl::OnDelivery);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaLaneImpl::OnError);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err);
  if (rk == nullptr) return InvalidArgument(std::string("kafka producer: ") + err);
  (void)conf.release();  // owned by rk now
  rk_ = rk;
  rkt_ = rd_kafka_topic_new(rk_, topic_.c_str(), nullptr);
  if (rkt_ == nullptr) {
    DestroyProducer();
    return InvalidArgument("topic: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
  }
  return Status::Ok();
}

void KafkaLaneImpl::DestroyProducer() {
  if (rk_ == nullptr) return;
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk_, 0);  // the purge's reports, while the slots still exist
  if (rkt_ != nullptr) rd_kafka_topic_destroy(rkt_);
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
  rkt_ = nullptr;
}

void KafkaLaneImpl::Delivered(const rd_kafka_message_t* m) {
  Slot* slot = static_cast<Slot*>(m->_private);
  --slot->remaining;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++messages_delivered_;
    bytes_delivered_ += m->len;
    return;
  }
  slot->failed = true;
  if (IsPurge(m->err)) return;
  NoteError(Classify(m->err), rd_kafka_err2str(m->err), /*delivery=*/true);
}

void KafkaLaneImpl::ClientError(rd_kafka_t* rk, rd_kafka_resp_err_t err, const char* reason) {
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) brokers_down_ = true;
  DeliveryError kind = Classify(err);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof why);
    fatal_ = true;
    NoteError(DeliveryError::kFatal, why, false);
    return;
  }
  NoteError(kind, reason != nullptr ? reason : rd_kafka_err2str(err), false);
}

void KafkaLaneImpl::NoteError(DeliveryError kind, const std::string& what, bool delivery) {
  MutexLock lock(stats_mu_);
  auto& counters = delivery ? stats_.delivery_errors : stats_.client_errors;
  ++counters[static_cast<int>(kind)];
  stats_.last_error = std::string(DeliveryErrorName(kind)) + ": " + what;
  stats_.last_error_ns = WallNs();
  if (kind == DeliveryError::kAuth) stats_.auth_error = what;
}

const SeriesEntry& KafkaLaneImpl::Series(store::SeriesId id) {
  if (id.value >= series_.size()) series_.resize(id.value + 1);
  SeriesEntry& e = series_[id.value];
  if (!e.known) {
    if (auto info = store_->GetSeries(id)) {
      e.known = true;
      e.name = info->name;
      e.unit = info->unit;
      e.type = info->type;
      e.send = std::any_of(opt_.series.begin(), opt_.series.end(),
                           [&](const std::string& g) { return SeriesMatches(g, e.name); });
    }
  }
  return e;
}

bool KafkaLaneImpl::Produce(const std::string& key, const std::string& value,
                            std::int64_t timestamp_ns, Slot* slot) {
  const std::int64_t ms = timestamp_ns >= 0 ? timestamp_ns / 1'000'000 : 0;
  for (;;) {
    rd_kafka_headers_t* h = rd_kafka_headers_copy(headers_);
    rd_kafka_vu_t vu[8];
    vu[0].vtype = RD_KAFKA_VTYPE_RKT;
    vu[0].u.rkt = rkt_;
    vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[1].u.i32 = RD_KAFKA_PARTITION_UA;
    vu[2].vtype = RD_KAFKA_VTYPE_KEY;
    vu[2].u.mem.ptr = const_cast<char*>(key.data());
    vu[2].u.mem.size = key.size();
    vu[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[3].u.mem.ptr = const_cast<char*>(value.data());
    vu[3].u.mem.size = value.size();
    vu[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[4].u.i = RD_KAFKA_MSG_F_COPY;
    vu[5].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    vu[5].u.i64 = ms;
    vu[6].vtype = RD_KAFKA_VTYPE_HEADERS;
    vu[6].u.headers = h;
    vu[7].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vu[7].u.ptr = slot;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (rd_kafka_error_t* e = rd_kafka_produceva(rk_, vu, 8)) {
      err = rd_kafka_error_code(e);
      rd_kafka_error_destroy(e);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++slot->remaining;
      return true;
    }
    rd_kafka_headers_destroy(h);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stop_.load()) {
      rd_kafka_poll(rk_, 10);
      continue;
    }
    slot->failed = true;
    NoteError(Classify(err), rd_kafka_err2str(err), true);
    return false;
  }
}

void KafkaLaneImpl::Run() {
  std::string value;
  while (!stop_.load()) {
    rd_kafka_poll(rk_, 0);
    CollectCompleted();
    if (rewind_) {
      Rewind();
      continue;
    }
    MaybeConfirm(false);
    const std::uint64_t outstanding = in_flight_records_ + done_unconfirmed_records_;
    if (outstanding >= opt_.max_unconfirmed_records) {
      rd_kafka_poll(rk_, 10);
      continue;
    }
    const std::uint64_t budget = opt_.max_unconfirmed_records - outstanding;
    Status s = opt_.format == MessageFormat::kProtobufBatch ? ProduceBatches(budget, value)
                                                            : ProduceRecords(budget, value);
    if (s.code() == StatusCode::kAborted) break;
    if (!s.ok()) {
      NoteError(DeliveryError::kOther, s.message(), false);
      Idle(std::chrono::milliseconds(100));
    }
  }
  // Stopping: deliver what is in flight, within the flush time.
  const auto deadline = Clock::now() + std::chrono::milliseconds(flush_ms_);
  while (!slots_.empty() && Clock::now() < deadline && !rewind_) {
    rd_kafka_poll(rk_, 10);
    CollectCompleted();
  }
  MaybeConfirm(true);
  PublishCounters();
}

Result<std::vector<store::DurableBatch>> KafkaLaneImpl::ReadSome(std::uint64_t budget,
                                                                 std::chrono::milliseconds wait) {
  const std::uint64_t most =
      std::max<std::uint64_t>(1, opt_.max_unconfirmed_records / kReadsPerWindow);
  return cursor_->Read(256, std::min(budget, most),
                       slots_.empty() ? wait : std::chrono::milliseconds(1));
}

Slot& KafkaLaneImpl::NewSlot(const std::vector<store::DurableBatch>& batches) {
  Slot& slot = slots_.emplace_back();
  slot.last_seq = batches.back().seq;
  for (const auto& b : batches) {
    slot.arrivals.push_back(b.durable_ns != 0 ? b.durable_ns : b.arrival_ns);
    slot.read += b.records->size();
  }
  return slot;
}

Status KafkaLaneImpl::ProduceRecords(std::uint64_t budget, std::string& value) {
  SLUICE_ASSIGN_OR_RETURN(auto batches, ReadSome(budget, std::chrono::milliseconds(50)));
  if (batches.empty()) return Status::Ok();
  Slot& slot = NewSlot(batches);
  for (const auto& b : batches) {
    for (const store::Record& r : *b.records) {
      const SeriesEntry& e = Series(r.series);
      if (!e.send) {
        ++records_filtered_;
        continue;
      }
      value.clear();
      const SeriesMeta meta{e.name, e.type, e.unit};
      if (opt_.format == MessageFormat::kJson) AppendJsonRecord(meta, r, value);
      else AppendProtoRecord(meta, r, value);
      if (!Produce(e.name, value, r.timestamp_ns, &slot)) break;
      ++slot.sent;
    }
    if (slot.failed) break;
  }
  Sent(slot);
  return Status::Ok();
}

Status KafkaLaneImpl::ProduceBatches(std::uint64_t budget, std::string& value) {
  std::vector<store::DurableBatch> group;
  std::uint64_t records = 0;
  const auto deadline = Clock::now() + opt_.linger;
  while (records < budget && !stop_.load()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 && !group.empty()) break;
    auto batches = cursor_->Read(256, budget - records,
                                 group.empty() && slots_.empty()
                                     ? std::chrono::milliseconds(50)
                                     : std::max(left, std::chrono::milliseconds(0)));
    if (!batches.ok()) {
      if (group.empty()) return batches.status();
      break;
    }
    if (batches->empty()) {
      if (group.empty()) return Status::Ok();
      if (Clock::now() >= deadline) break;
      continue;
    }
    for (auto& b : *batches) {
      records += b.records->size();
      group.push_back(std::move(b));
    }
    rd_kafka_poll(rk_, 0);
    if (Clock::now() >= deadline) break;
  }
  if (group.empty()) return Status::Ok();
  Slot& slot = NewSlot(group);
  order_.clear();
  for (auto& [id, v] : by_series_) v.clear();
  for (const auto& b : group) {
    for (const store::Record& r : *b.records) {
      auto& list = by_series_[r.series.value];
      if (list.empty()) order_.push_back(r.series);
      list.push_back(&r);
    }
  }
  for (store::SeriesId id : order_) {
    const SeriesEntry& e = Series(id);
    const auto& list = by_series_[id.value];
    if (!e.send) {
      records_filtered_ += list.size();
      continue;
    }
    const SeriesMeta meta{e.name, e.type, e.unit};
    for (std::size_t at = 0; at < list.size() && !slot.failed; at += kMaxBatchRecords) {
      const std::size_t n = std::min(kMaxBatchRecords, list.size() - at);
      value.clear();
      AppendProtoBatch(meta, std::span(list).subspan(at, n), value);
      if (Produce(e.name, value, list[at]->timestamp_ns, &slot)) slot.sent += n;
    }
    if (slot.failed) break;
  }
  Sent(slot);
  return Status::Ok();
}

void KafkaLaneImpl::Sent(Slot& slot) {
  --slot.remaining;
  in_flight_records_ += slot.read;
  records_sent_ += slot.sent;
}

void KafkaLaneImpl::CollectCompleted() {
  const std::int64_t now = WallNs();
  bool delivered = false;
  while (!slots_.empty() && slots_.front().remaining == 0) {
    Slot& s = slots_.front();
    if (s.failed) {
      rewind_ = true;
      break;
    }
    in_flight_records_ -= s.read;
    done_unconfirmed_records_ += s.read;
    records_delivered_ += s.sent;
    confirm_target_ = s.last_seq;
    delivered = true;
    {
      MutexLock lock(stats_mu_);
      for (std::int64_t a : s.arrivals) {
        const std::uint64_t us = now > a ? static_cast<std::uint64_t>(now - a) / 1000 : 0;
        if (latencies_.size() < kLatencySamples) latencies_.push_back(us);
        else latencies_[latency_next_++ % kLatencySamples] = us;
      }
    }
    slots_.pop_front();
  }
  if (delivered) {
    brokers_down_ = false;
    MutexLock lock(stats_mu_);
    stats_.auth_error.clear();
    stats_.last_delivery_ns = now;
  }
  PublishCounters();
}

void KafkaLaneImpl::MaybeConfirm(bool force) {
  if (confirm_target_ <= confirmed_) return;
  const auto now = Clock::now();
  if (!force && now - last_confirm_ < opt_.position_interval &&
      done_unconfirmed_records_ < opt_.max_unconfirmed_records / 2) {
    return;
  }
  if (Status s = cursor_->Confirm(confirm_target_); !s.ok()) {
    NoteError(DeliveryError::kOther, s.message(), false);
    return;
  }
  confirmed_ = confirm_target_;
  done_unconfirmed_records_ = 0;
  last_confirm_ = now;
}

void KafkaLaneImpl::Rewind() {
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.remaining; }) &&
         Clock::now() < deadline) {
    rd_kafka_poll(rk_, 10);
  }
  // Whatever completed before the failure is delivered.
  for (auto it = slots_.begin(); it != slots_.end() && it->remaining == 0 && !it->failed; ++it) {
    done_unconfirmed_records_ += it->read;
    records_delivered_ += it->sent;
    confirm_target_ = it->last_seq;
  }
  MaybeConfirm(true);
  if (fatal_ ||
      rd_kafka_fatal_error(rk_, fatal_why_, sizeof fatal_why_) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    DestroyProducer();
    slots_.clear();
    fatal_ = false;
    Status s;
    while (!stop_.load() && !(s = CreateProducer()).ok()) {
      NoteError(DeliveryError::kFatal, s.message(), false);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (rk_ == nullptr) {  // stopping
      stop_.store(true);
      rewind_ = false;
      return;
    }
    ++producer_restarts_;
  }
  slots_.clear();
  in_flight_records_ = 0;
  cursor_->Rewind();
  rewind_ = false;
  ++rewinds_;
  PublishCounters();
  Idle(std::chrono::milliseconds(500));
}

void KafkaLaneImpl::PublishCounters() {
  MutexLock lock(stats_mu_);
  stats_.records_sent = records_sent_;
  stats_.records_delivered = records_delivered_;
  stats_.records_filtered = records_filtered_;
  stats_.messages_delivered = messages_delivered_;
  stats_.bytes_delivered = bytes_delivered_;
  stats_.in_flight_records = in_flight_records_ + done_unconfirmed_records_;
  stats_.rewinds = rewinds_;
  stats_.producer_restarts = producer_restarts_;
}

Result<std::unique_ptr<KafkaLane>> KafkaLane::Start(store::Store* store,
                                                    const KafkaLaneOptions& options) {
  store::DurableCursor* cursor = store->durable_cursor();
  if (cursor == nullptr) {
    return InvalidArgument("stream lane: the store has no durable-record cursor "
                              "(Options::cursor_retain_bytes is 0)");
  }
  SLUICE_RETURN_IF_ERROR(options.Validate());
  auto topic = ExpandTopic(options.topic, options.site, options.gateway_id);
  if (!topic.ok()) return InvalidArgument("topic: " + topic.status().message());
  auto lane = std::make_unique<KafkaLaneImpl>(store, cursor, options, *topic);
  SLUICE_RETURN_IF_ERROR(lane->Init());
  return std::unique_ptr<KafkaLane>(std::move(lane));
}

}  // namespace sluice::stream

// The QoS 1 and 2 state of one MQTT session on the endpoint, without I/O:
// which packet ids are being stored, which acknowledgements are owed and in
// what order, which QoS 2 flows wait for PUBREL, and enough memory of recent
// acknowledgements to recognise a redelivery. Lives on the network thread.
//
// Packet id slots:
//   kStoring  offered to the pipeline under `tag`, waiting for its outcome
//   kDone     outcome known, PUBACK / PUBREC not yet sent (order, or offline)
//   kReleased QoS 2: PUBREC sent, waiting for PUBREL (then PUBCOMP, freed)
// A QoS 1 slot is freed when its PUBACK is written; its (id, content hash)
// then goes to a ring of the last `receive_maximum` acknowledgements: a
// PUBLISH with DUP set, the same id and the same content is the client
// resending after a PUBACK it never got, and is acknowledged, not stored.
//
// Acknowledgements leave in the order the PUBLISH packets arrived on the
// current connection (MQTT 4.6), whatever order the shards finish in.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

#include "gateway/codec/mqtt_codec.h"

namespace sluice::gateway::endpoint {

class Connection;

class Session {
 public:
  Session(std::string client_id, std::uint32_t number, std::uint32_t receive_maximum)
      : client_id_(std::move(client_id)), number_(number), receive_maximum_(receive_maximum) {}

  const std::string& client_id() const { return client_id_; }
  std::uint32_t number() const { return number_; }

  enum class Verdict : std::uint8_t {
    kNew,            // store it: Begin() once the pipeline took it
    kDuplicate,      // already stored or being stored: its ack is queued
    kResendPubrec,   // QoS 2 already stored and PUBREC sent: send PUBREC again
    kQuotaExceeded,  // more unacknowledged messages than receive_maximum
    kIdInUse,        // QoS 1 PUBLISH with the id of a QoS 2 flow
  };
  // Looks at an arriving QoS 1 or 2 PUBLISH. Only kDuplicate changes state
  // (queues the owed acknowledgement), so a caller may ask again after a
  // refused offer.
  Verdict Classify(std::uint16_t packet_id, std::uint8_t qos, bool dup, std::uint64_t hash);
  // The tag to offer a kNew message with.
  std::uint64_t next_tag() const { return next_tag_; }
  // The pipeline took the message offered with next_tag().
  void Begin(std::uint16_t packet_id, std::uint8_t qos, std::uint64_t hash);
  // The message was not offered but settled at once (shed: `reason`).
  void BeginDone(std::uint16_t packet_id, std::uint8_t qos, std::uint64_t hash,
                 mqtt::ReasonCode reason);
  // Its outcome. False if the tag is unknown (a session reset meanwhile).
  bool Settle(std::uint64_t tag, mqtt::ReasonCode reason);

  // Appends the acknowledgements now due, in arrival order, to `out`.
  // Returns how many were written and how many of them had reason >= 0x80.
  struct Written {
    std::uint32_t acks = 0;
    std::uint32_t negative = 0;
  };
  Written TakeDueAcks(mqtt::ProtocolVersion version, std::string& out);

  // PUBREL: the reason for PUBCOMP (success, or packet identifier not found).
  mqtt::ReasonCode Release(std::uint16_t packet_id);

  // The connection went away: owed acknowledgements stay owed, to be sent
  // when the client resends those messages on its next connection.
  void Detach();

  // Unacknowledged QoS 1/2 messages and QoS 2 flows (MQTT 5 Receive Maximum).
  std::size_t inflight() const { return slots_.size(); }
  // Of them, messages not yet acknowledged at all (3.1.1 reading pauses here).
  std::size_t unacked() const { return slots_.size() - released_; }
  std::uint32_t receive_maximum() const { return receive_maximum_; }

  // Set by the endpoint; the connection using the session, if any.
  Connection* connection = nullptr;
  std::uint32_t expiry_s = 0;        // granted session expiry
  std::int64_t expires_at_ms = 0;    // when offline: steady clock ms; 0: connected

 private:
  enum class State : std::uint8_t { kStoring, kDone, kReleased };
  struct Slot {
    State state = State::kStoring;
    std::uint8_t qos = 1;
    bool queued = false;  // in order_ on the current connection
    mqtt::ReasonCode reason = mqtt::ReasonCode::kSuccess;
    std::uint64_t hash = 0;
    std::uint64_t tag = 0;
  };
  void Queue(std::uint16_t packet_id, Slot& slot);
  void Remember(std::uint16_t packet_id, std::uint64_t hash);

  const std::string client_id_;
  const std::uint32_t number_;
  const std::uint32_t receive_maximum_;
  std::uint64_t next_tag_ = 1;
  std::unordered_map<std::uint16_t, Slot> slots_;
  std::size_t released_ = 0;  // slots in kReleased
  std::unordered_map<std::uint64_t, std::uint16_t> by_tag_;
  std::deque<std::uint16_t> order_;  // ids whose acknowledgement is owed, arrival order
  // The last receive_maximum QoS 1 acknowledgements: id -> content hash.
  // The ring holds (id, stamp); an entry is dropped when its own stamp
  // leaves the ring, not when an older acknowledgement of the id does.
  struct Acked {
    std::uint64_t hash = 0;
    std::uint64_t stamp = 0;
  };
  std::unordered_map<std::uint16_t, Acked> acked_;
  std::deque<std::pair<std::uint16_t, std::uint64_t>> acked_order_;
  std::uint64_t ack_stamp_ = 0;
};

}  // namespace sluice::gateway::endpoint

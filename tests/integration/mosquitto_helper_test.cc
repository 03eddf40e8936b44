// The test broker helper, exercised with two independent clients: Paho C++
// (what the gateway uses) and mosquitto_pub (what a sensor might use).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <mqtt/async_client.h>

#include "base/paho_library.h"
#include "mosquitto.h"
#include "temp_dir.h"

namespace sluice::testing {
namespace {

// Paho clients come and go all through this process: see base/paho_library.h.
const bool kPahoHeld = (sluice::HoldPahoLibrary(), true);

using namespace std::chrono_literals;

int MosquittoPub(const MosquittoBroker& b, const std::string& args) {
  const std::string cmd = "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(b.port()) + " " + args;
  return std::system(cmd.c_str());
}

std::unique_ptr<mqtt::async_client> Subscribe(const MosquittoBroker& b, const std::string& topic) {
  auto c = std::make_unique<mqtt::async_client>(b.uri(), "sluice-helper-test",
                                                mqtt::create_options(MQTTVERSION_5));
  c->start_consuming();
  auto opts = mqtt::connect_options_builder().mqtt_version(MQTTVERSION_5).clean_start(true).finalize();
  c->connect(opts)->wait();
  c->subscribe(topic, 1)->wait();
  return c;
}

}  // namespace

TEST_CASE("the helper starts a private broker that Paho and mosquitto_pub both talk to") {
  TempDir dir("sluice-mosq");
  auto broker = MosquittoBroker::Start(dir.path());
  REQUIRE_MESSAGE(broker.ok(), broker.status().ToString());

  auto sub = Subscribe(**broker, "plant/line-1/#");
  REQUIRE(MosquittoPub(**broker, "-q 1 -t plant/line-1/press-3/temp -m 21.375") == 0);
  auto msg = sub->try_consume_message_for(5s);
  REQUIRE(msg);
  CHECK(msg->get_topic() == "plant/line-1/press-3/temp");
  CHECK(msg->to_string() == "21.375");
  sub->disconnect()->wait();
}

TEST_CASE("with persistence on, retained messages survive a broker restart") {
  TempDir dir("sluice-mosq");
  MosquittoOptions opts;
  opts.persistence = true;
  auto broker = MosquittoBroker::Start(dir.path(), opts);
  REQUIRE_MESSAGE(broker.ok(), broker.status().ToString());
  REQUIRE(MosquittoPub(**broker, "-q 1 -r -t plant/state -m running") == 0);

  REQUIRE((*broker)->Restart().ok());
  auto sub = Subscribe(**broker, "plant/state");
  auto msg = sub->try_consume_message_for(5s);
  REQUIRE(msg);
  CHECK(msg->to_string() == "running");
  CHECK(msg->is_retained());
  sub->disconnect()->wait();
}

TEST_CASE("a stopped broker no longer accepts connections") {
  TempDir dir("sluice-mosq");
  auto broker = MosquittoBroker::Start(dir.path());
  REQUIRE(broker.ok());
  const int port = (*broker)->port();
  REQUIRE((*broker)->Stop().ok());
  CHECK_FALSE(WaitForTcp(port, -1, 200).ok());
}

}  // namespace sluice::testing

#include "base/paho_library.h"

#include <mutex>

#include <MQTTAsync.h>

namespace sluice {

void HoldPahoLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never connected and never destroyed: Paho's handle list keeps it
    // reachable, so it is not a leak, and its memory is a few hundred bytes.
    static MQTTAsync handle = nullptr;
    MQTTAsync_createWithOptions(&handle, "tcp://127.0.0.1:1", "sluice-paho-library-hold",
                                MQTTCLIENT_PERSISTENCE_NONE, nullptr, nullptr);
  });
}

}  // namespace sluice

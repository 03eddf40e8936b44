// The `wire` engine of `sluice simulate` (internal): the fleet published
// through tools/mqtt_load, many PUBLISH packets per write.
#pragma once

#include <atomic>
#include <cstdint>

#include "mqtt_load/mqtt_load.h"
#include "sensor_sim/fleet.h"
#include "sensor_sim/sensor_sim.h"

namespace sluice::sensor_sim {

// Messages of connection c: device d is published on connection
// d mod connections (so its NBIRTH, first on that connection, precedes its
// NDATA); that connection's devices take turns, one message each. `fleet`
// must outlive the generator.
mqtt_load::MessageGenerator FleetGenerator(const SimOptions& o, Fleet& fleet,
                                           std::uint32_t connections);

Result<SimReport> RunWireSimulation(const SimOptions& o, Fleet& fleet,
                                    const std::atomic<bool>* stop);

}  // namespace sluice::sensor_sim

// Keeps Eclipse Paho C's process-wide state alive for the life of the process.
//
// Paho C builds its global state (trace buffer, socket tables, client lists)
// when the first client is created and tears it down when the last one is
// destroyed. A background thread of the destroyed client can still trace
// after that teardown, which silently allocates a fresh trace buffer; the
// next client creation then allocates another over it, and the first one
// leaks (LeakSanitizer reports 124,800 bytes from libpaho-mqtt3as). Any
// process that creates and destroys Paho clients one after another (tests,
// a gateway restarting its connections) calls HoldPahoLibrary() before its
// first client: one idle, never-connected handle then keeps the count above
// zero, so the teardown never runs. Safe to call any number of times from
// any thread.
#pragma once

namespace sluice {

void HoldPahoLibrary();

}  // namespace sluice

// Kill points: named places where a crash test may have the process kill
// itself (SIGKILL), so that kill -9 loops land inside the short windows
// that matter (a segment half made, a log file half rolled, a manifest
// entry written but not synced) and not only where the process spends its
// time. In the spirit of RocksDB's TEST_KILL_RANDOM, but armed at run time.
//
// Disarmed (the default, and always in production): one relaxed load per
// call. Armed by the environment, read once at the first call:
//   SLUICE_KILL_POINTS="segment_create=200,log_roll=500"  names with the odds
//                      of dying at each hit, in thousandths ("*" for every name)
//   SLUICE_KILL_POINT_LOG=/path   the name of the point is appended (one line)
//                      to this file just before the kill, so the test can
//                      count where its kills landed.
#pragma once

namespace sluice {

// Dies here with SIGKILL when `name` is armed and the draw says so.
// REQUIRES: `name` is a string literal (compared by content).
void KillPoint(const char* name);

}  // namespace sluice

// A StoreContext with a test clock and, optionally, a fault-injecting Env.
#pragma once

#include <functional>

#include "store/store.h"

namespace sluice::store {

inline StoreContext TestContext(ClockFn now, Env* env = nullptr) {
  StoreContext c;
  c.env = env;
  c.now_ns = std::move(now);
  return c;
}

}  // namespace sluice::store

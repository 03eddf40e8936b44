// Options for opening a Store. Defaults in-class; Validate() checks bounds.
#pragma once

#include <string>

#include "base/status.h"

namespace sluice::store {

struct Options {
  // Directory holding every file of the store (write buffer, segments,
  // registry). Must be an absolute path. Default: /var/lib/sluice/store.
  std::string dir = "/var/lib/sluice/store";

  // Returns InvalidArgument naming the offending field on the first violation.
  Status Validate() const;
};

}  // namespace sluice::store

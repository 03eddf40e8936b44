#include "store/options.h"

namespace sluice::store {

Status Options::Validate() const {
  if (dir.empty() || dir.front() != '/') {
    return InvalidArgument("dir: must be an absolute path, got '" + dir + "'");
  }
  return Status::Ok();
}

}  // namespace sluice::store

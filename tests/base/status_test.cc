#include "base/status.h"

#include <doctest/doctest.h>

#include <cerrno>

namespace sluice {

TEST_CASE("a default Status is OK and prints as OK") {
  Status s;
  CHECK(s.ok());
  CHECK(s.ToString() == "OK");
}

TEST_CASE("an error Status keeps its code and message, and context prefixes the message") {
  Status s = Corruption("bad CRC").WithContext("wal segment 3 at offset 4096");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK(s.ToString() == "Corruption: wal segment 3 at offset 4096: bad CRC");
}

TEST_CASE("ENOSPC and EDQUOT map to NoSpace, other errnos to IoError") {
  CHECK(ErrnoStatus("write", ENOSPC).code() == StatusCode::kNoSpace);
  CHECK(ErrnoStatus("write", EDQUOT).code() == StatusCode::kNoSpace);
  Status eio = ErrnoStatus("fdatasync /x", EIO);
  CHECK(eio.code() == StatusCode::kIoError);
  CHECK(eio.message().find("fdatasync /x") == 0);
}

TEST_CASE("Result holds either a value or the error") {
  Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(*good == 42);
  CHECK(good.status().ok());
  Result<int> bad = NotFound("series 7");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kNotFound);
}

Status FailsWhen(bool fail) {
  SLUICE_RETURN_IF_ERROR(fail ? Unavailable("busy") : Status::Ok());
  return Status::Ok();
}

TEST_CASE("SLUICE_RETURN_IF_ERROR passes errors up and lets OK through") {
  CHECK(FailsWhen(false).ok());
  CHECK(FailsWhen(true).code() == StatusCode::kUnavailable);
}

}  // namespace sluice

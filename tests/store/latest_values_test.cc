#include "latest_values.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <limits>

namespace sluice::store {

TEST_CASE("the latest value of each series: every type, newest wins, ties replace") {
  LatestValues latest;
  CHECK_FALSE(latest.Get(SeriesId{1}).has_value());
  CHECK_FALSE(latest.Get(SeriesId{100'000}).has_value());

  latest.Offer({SeriesId{1}, 100, 21.5});
  latest.Offer({SeriesId{1}, 50, 99.0});  // older: ignored
  REQUIRE(latest.Get(SeriesId{1}).has_value());
  CHECK(std::get<double>(latest.Get(SeriesId{1})->value) == 21.5);
  CHECK(latest.Get(SeriesId{1})->timestamp_ns == 100);
  latest.Offer({SeriesId{1}, 100, 22.5});  // same time: the later one
  CHECK(std::get<double>(latest.Get(SeriesId{1})->value) == 22.5);

  // Every bit of a double, NaN's payload and -0.0 included.
  const double nan = std::bit_cast<double>(std::uint64_t{0x7ff8'0000'dead'beef});
  latest.Offer({SeriesId{2}, std::numeric_limits<std::int64_t>::min(), nan});
  CHECK(std::bit_cast<std::uint64_t>(std::get<double>(latest.Get(SeriesId{2})->value)) ==
        0x7ff8'0000'dead'beef);
  latest.Offer({SeriesId{3}, 1, -0.0});
  CHECK(std::signbit(std::get<double>(latest.Get(SeriesId{3})->value)));

  latest.Offer({SeriesId{4}, 1, std::int64_t{-7}});
  CHECK(std::get<std::int64_t>(latest.Get(SeriesId{4})->value) == -7);
  latest.Offer({SeriesId{5}, 1, true});
  CHECK(std::get<bool>(latest.Get(SeriesId{5})->value));
  latest.Offer({SeriesId{5}, 2, false});
  CHECK_FALSE(std::get<bool>(latest.Get(SeriesId{5})->value));

  // Bytes, across chunks, replaced by newer bytes and kept against older.
  const std::uint32_t far = 3 * 1024 + 17;
  latest.Offer({SeriesId{far}, 10, std::string("first")});
  latest.Offer({SeriesId{far}, 20, std::string(5000, 'x')});
  latest.Offer({SeriesId{far}, 15, std::string("older")});
  REQUIRE(latest.Get(SeriesId{far}).has_value());
  CHECK(std::get<std::string>(latest.Get(SeriesId{far})->value) == std::string(5000, 'x'));
  CHECK(latest.Get(SeriesId{far})->series.value == far);
  CHECK_FALSE(latest.Get(SeriesId{far - 1}).has_value());
  CHECK_FALSE(latest.Get(SeriesId{far + 1024}).has_value());
  CHECK(latest.bytes() >= 4 * 1024 * 17 + 5000);
}

}  // namespace sluice::store

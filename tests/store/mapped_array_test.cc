#include "mapped_array.h"

#include <doctest/doctest.h>

#include <string>

namespace sluice::store {

TEST_CASE("a mapped array starts zeroed or constructed, moves, and frees what it owns") {
  MappedArray<std::uint64_t> none;
  CHECK(none.empty());
  CHECK(none.bytes() == 0);

  MappedArray<std::uint64_t> numbers(1000);
  REQUIRE(numbers.size() == 1000);
  CHECK(numbers.bytes() == 8192);  // whole pages
  for (std::size_t i = 0; i < numbers.size(); ++i) CHECK(numbers[i] == 0);
  numbers[999] = 42;

  MappedArray<std::uint64_t> moved(std::move(numbers));
  CHECK(numbers.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  CHECK(moved[999] == 42);
  moved = MappedArray<std::uint64_t>(10);  // the old mapping is unmapped
  CHECK(moved.size() == 10);
  CHECK(moved[9] == 0);

  // Non-trivial elements are constructed and destroyed: strings longer
  // than fit inline own heap memory, which LeakSanitizer would report.
  MappedArray<std::string> strings(100);
  for (std::size_t i = 0; i < strings.size(); ++i) {
    CHECK(strings[i].empty());
    strings[i] = std::string(100, static_cast<char>('a' + i % 26));
  }
  MappedArray<std::string> other(std::move(strings));
  CHECK(other[25] == std::string(100, 'z'));
}

}  // namespace sluice::store

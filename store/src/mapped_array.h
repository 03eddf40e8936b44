// An array in anonymous memory mapped for it alone (mmap), unmapped when
// it goes. For memory that comes and goes in large pieces, a block under
// construction above all: malloc would keep what a written block freed in
// its free lists, resident, and the process's footprint would follow the
// most that open blocks ever held rather than what they hold now.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace sluice::store {

template <typename T>
class MappedArray {
 public:
  MappedArray() = default;
  // `n` value-initialized elements. Throws std::bad_alloc as new would.
  // `heap`: from malloc instead, for arrays that live a few milliseconds
  // (a direct block's): unmapping costs every core a TLB flush.
  explicit MappedArray(std::size_t n, bool heap = false) : n_(n), heap_(heap) {
    if (n == 0) return;
    void* p = nullptr;
    if (heap_) {
      p = std::calloc(1, bytes());
      if (p == nullptr) throw std::bad_alloc();
    } else {
      p = mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
    }
    data_ = static_cast<T*>(p);
    // Both read as zeros: trivial types need no constructor.
    if constexpr (!std::is_trivially_default_constructible_v<T>) {
      std::uninitialized_value_construct_n(data_, n_);
    }
  }
  MappedArray(MappedArray&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), n_(std::exchange(o.n_, 0)), heap_(o.heap_) {}
  MappedArray& operator=(MappedArray&& o) noexcept {
    if (this != &o) {
      Release();
      data_ = std::exchange(o.data_, nullptr);
      n_ = std::exchange(o.n_, 0);
      heap_ = o.heap_;
    }
    return *this;
  }
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  ~MappedArray() { Release(); }

  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  // Mapped, rounded up to whole pages (of which only those touched are
  // resident).
  std::size_t bytes() const { return (n_ * sizeof(T) + 4095) / 4096 * 4096; }

 private:
  void Release() {
    if (data_ == nullptr) return;
    std::destroy_n(data_, n_);
    if (heap_) {
      std::free(data_);
    } else {
      munmap(data_, bytes());
    }
    data_ = nullptr;
    n_ = 0;
  }

  T* data_ = nullptr;
  std::size_t n_ = 0;
  bool heap_ = false;
};

}  // namespace sluice::store

// Mutexes, scoped locks and condition variables that clang's thread-safety
// analysis understands (libstdc++'s carry no annotations). Each is a thin
// wrapper over its std:: counterpart and costs nothing more.
//
//   Mutex mu_;
//   CondVar cv_;
//   bool ready_ SLUICE_GUARDED_BY(mu_) = false;
//
//   MutexLock lock(mu_);
//   cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) { return ready_; });
//   lock.Unlock();   // a MutexLock may be released and taken again
//
// SharedMutex takes ReaderLock (shared) and MutexLock-like WriterLock
// (exclusive); CondVarAny waits on either.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "base/thread_annotations.h"

namespace sluice {

class SLUICE_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // For a function that REQUIRES the mutex and lets go of it around a slow
  // step (an fdatasync, say): unlock, work, lock again before returning.
  void lock() SLUICE_ACQUIRE() { mu_.lock(); }
  void unlock() SLUICE_RELEASE() { mu_.unlock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds a Mutex for its scope; Unlock and Lock release and retake it.
class SLUICE_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) SLUICE_ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() SLUICE_RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() SLUICE_RELEASE() { lock_.unlock(); }
  void Lock() SLUICE_ACQUIRE() { lock_.lock(); }

 private:
  friend class CondVar;
  std::unique_lock<std::mutex> lock_;
};

// A condition variable waited on through a MutexLock. Predicates that read
// guarded members are lambdas marked SLUICE_REQUIRES(the mutex): they run
// with it held.
class CondVar {
 public:
  template <typename Pred>
  void Wait(MutexLock& lock, Pred pred) SLUICE_NO_THREAD_SAFETY_ANALYSIS {
    cv_.wait(lock.lock_, pred);
  }
  // False on timeout.
  template <typename Rep, typename Period>
  bool WaitFor(MutexLock& lock, std::chrono::duration<Rep, Period> d) {
    return cv_.wait_for(lock.lock_, d) == std::cv_status::no_timeout;
  }
  // The predicate's value at return.
  template <typename Rep, typename Period, typename Pred>
  bool WaitFor(MutexLock& lock, std::chrono::duration<Rep, Period> d,
               Pred pred) SLUICE_NO_THREAD_SAFETY_ANALYSIS {
    return cv_.wait_for(lock.lock_, d, pred);
  }
  template <typename Clock, typename Duration>
  bool WaitUntil(MutexLock& lock, std::chrono::time_point<Clock, Duration> t) {
    return cv_.wait_until(lock.lock_, t) == std::cv_status::no_timeout;
  }
  template <typename Clock, typename Duration, typename Pred>
  bool WaitUntil(MutexLock& lock, std::chrono::time_point<Clock, Duration> t,
                 Pred pred) SLUICE_NO_THREAD_SAFETY_ANALYSIS {
    return cv_.wait_until(lock.lock_, t, pred);
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

class SLUICE_CAPABILITY("mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock() SLUICE_ACQUIRE() { mu_.lock(); }
  void unlock() SLUICE_RELEASE() { mu_.unlock(); }
  void lock_shared() SLUICE_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() SLUICE_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds a SharedMutex exclusively for its scope.
class SLUICE_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) SLUICE_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() SLUICE_RELEASE() {
    if (held_) mu_.unlock();
  }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  void Unlock() SLUICE_RELEASE() {
    held_ = false;
    mu_.unlock();
  }
  void Lock() SLUICE_ACQUIRE() {
    mu_.lock();
    held_ = true;
  }

 private:
  friend class CondVarAny;
  SharedMutex& mu_;
  bool held_ = true;
};

// Holds a SharedMutex shared for its scope.
class SLUICE_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) SLUICE_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() SLUICE_RELEASE() {
    if (held_) mu_.unlock_shared();
  }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

  void Unlock() SLUICE_RELEASE() {
    held_ = false;
    mu_.unlock_shared();
  }

 private:
  friend class CondVarAny;
  SharedMutex& mu_;
  bool held_ = true;
};

// A condition variable for a SharedMutex, held exclusively or shared.
class CondVarAny {
 public:
  template <typename Pred>
  void Wait(ReaderLock& lock, Pred pred) SLUICE_NO_THREAD_SAFETY_ANALYSIS {
    Shared shared{lock.mu_};
    cv_.wait(shared, pred);
  }
  template <typename Pred>
  void Wait(WriterLock& lock, Pred pred) SLUICE_NO_THREAD_SAFETY_ANALYSIS {
    cv_.wait(lock.mu_, pred);
  }
  // False on timeout.
  template <typename Rep, typename Period>
  bool WaitFor(WriterLock& lock, std::chrono::duration<Rep, Period> d) {
    return cv_.wait_for(lock.mu_, d) == std::cv_status::no_timeout;
  }
  void NotifyAll() { cv_.notify_all(); }

 private:
  // The shared side of a SharedMutex as a Lockable, for condition_variable_any.
  struct Shared {
    SharedMutex& mu;
    void lock() SLUICE_NO_THREAD_SAFETY_ANALYSIS { mu.lock_shared(); }
    void unlock() SLUICE_NO_THREAD_SAFETY_ANALYSIS { mu.unlock_shared(); }
  };
  std::condition_variable_any cv_;
};

}  // namespace sluice

// Status and Result<T>: errors as values.
//
// Every fallible operation in Sluice returns one of these. Exceptions thrown
// by libraries (Paho, toml++) are caught at the adapter and turned into a
// Status; a broken invariant aborts instead (see SLUICE_CHECK).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sluice {

// Fixed set of error codes. Never renumber: codes appear in logs and metrics.
enum class StatusCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument = 1,   // the caller's input is wrong (config, payload, ...)
  kNotFound = 2,
  kAlreadyExists = 3,
  kCorruption = 4,        // persistent bytes failed a magic/length/CRC check
  kIoError = 5,           // the OS refused a read, write or sync
  kNoSpace = 6,           // disk or buffer budget exhausted
  kUnavailable = 7,       // try again later (backpressure, peer down)
  kUnsupported = 8,       // the platform lacks a feature (io_uring, DAX, ...)
  kAborted = 9,           // shut down while waiting
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "Corruption: wal segment 3 at offset 4096: bad CRC".
  std::string ToString() const;

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status NoSpace(std::string m) { return {StatusCode::kNoSpace, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }

// Status from errno: "what: strerror(err)", kNoSpace for ENOSPC/EDQUOT.
Status ErrnoStatus(std::string_view what, int err);

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { Check(); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void Check() const;
  std::variant<T, Status> v_;
};

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr,
                              std::string_view message);

template <typename T>
void Result<T>::Check() const {
  if (std::get<Status>(v_).ok()) {
    CheckFailed(__FILE__, __LINE__, "!status.ok()", "Result built from an OK status");
  }
}

}  // namespace sluice

// Aborts loudly when an invariant is broken. Never compiled out.
#define SLUICE_CHECK(expr)                                        \
  do {                                                            \
    if (!(expr)) ::sluice::CheckFailed(__FILE__, __LINE__, #expr, ""); \
  } while (0)

// Returns the Status from the enclosing function when it is not OK.
#define SLUICE_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::sluice::Status sluice_status_ = (expr); \
    if (!sluice_status_.ok()) return sluice_status_; \
  } while (0)

// Evaluates the expression, a Result<T>: returns its Status from the enclosing
// function when it is not OK, else moves its value into `lhs`, a new
// variable (`auto file`) or an existing one.
//
//   SLUICE_ASSIGN_OR_RETURN(auto file, env->OpenFile(path, {}));
//   SLUICE_ASSIGN_OR_RETURN(size, file->Size());
#define SLUICE_ASSIGN_OR_RETURN(lhs, ...)                                               \
  SLUICE_ASSIGN_OR_RETURN_IMPL_(SLUICE_STATUS_CONCAT_(sluice_result_, __LINE__), lhs, \
                                (__VA_ARGS__))
#define SLUICE_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                                  \
  if (!result.ok()) return result.status();               \
  lhs = std::move(result).value()
#define SLUICE_STATUS_CONCAT_(a, b) SLUICE_STATUS_CONCAT_INNER_(a, b)
#define SLUICE_STATUS_CONCAT_INNER_(a, b) a##b

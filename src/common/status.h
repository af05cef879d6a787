// Status and Result<T>: how every fallible call in covid-etl reports failure.
//
// A Status is either ok or carries an ErrorKind and a message. The kind decides the process exit
// status (see exit_code) and the stage a failed run is reported under; the message is for people
// and must never contain secrets. Result<T> holds a value or a non-ok Status.
// Exceptions thrown by libraries are caught at the adapter that calls them and turned into a
// Status; they never cross an interface. Both types are plain values: copyable, not thread-safe.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace covid {

enum class ErrorKind {
  kOk,
  kUsage,        // bad command line or configuration: exit 64
  kInvalidData,  // the source data failed validation: exit 2
  kExtract,      // network, HTTP status, size limit, unreadable file: exit 3
  kLoad,         // the database: exit 4
  kInternal,     // a bug: exit 70
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status Usage(std::string m) { return {ErrorKind::kUsage, std::move(m)}; }
  static Status InvalidData(std::string m) { return {ErrorKind::kInvalidData, std::move(m)}; }
  static Status Extract(std::string m) { return {ErrorKind::kExtract, std::move(m)}; }
  static Status Load(std::string m) { return {ErrorKind::kLoad, std::move(m)}; }
  static Status Internal(std::string m) { return {ErrorKind::kInternal, std::move(m)}; }

  bool ok() const { return kind_ == ErrorKind::kOk; }
  explicit operator bool() const { return ok(); }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

 private:
  ErrorKind kind_ = ErrorKind::kOk;
  std::string message_;
};

// The process exit status for a failure of this kind (0 for ok).
int exit_code(ErrorKind kind);

// "extract", "validate", "load", "usage" or "internal": the stage a failure belongs to.
const char* stage_name(ErrorKind kind);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be ok

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace covid

#define COVID_RETURN_IF_ERROR(expr)      \
  do {                                   \
    ::covid::Status covid_s_ = (expr);   \
    if (!covid_s_.ok()) return covid_s_; \
  } while (0)

// Result<T>: a value or an Error that a user can cause and read.
//
//   Result<Event> r = decode_json(bytes);
//   if (!r) { log(r.error().code, r.error().message); return; }
//   use(*r);
//
// An Error carries a machine-readable `code` (snake_case, stable, documented
// in docs/events.md) and a `message`: one sentence a blood bank technician
// understands. Errors a user can cause are values, never exceptions. Status is
// Result<void>. Both are cheap to move and not thread-safe to share mutably.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace hemoledger {

struct Error {
  std::string code;     // machine-readable, e.g. "unit_quarantined"
  std::string message;  // a plain sentence for a person

  bool operator==(const Error&) const = default;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Error make_error(std::string code, std::string message) {
  return Error{std::move(code), std::move(message)};
}

}  // namespace hemoledger

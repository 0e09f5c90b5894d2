// Errors are values inside the process: one Error type with canonical codes. Each
// dialect renders them in its own wire shape; exceptions appear only at the edges.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <utility>

namespace roster::core {

enum class ErrorCode {
  kInvalidArgument,
  kUnauthenticated,
  kPermissionDenied,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kAborted,  // optimistic-concurrency conflict; callers retry
  // The write's condition did not hold: the resource is no longer at the version the
  // client read (If-Match). Nothing was changed; HTTP 412 in every dialect.
  kVersionMismatch,
  kResourceExhausted,
  kUnavailable,
  kInternal,
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // safe to show a client: never a profile value or secret
  std::string field;    // the offending field in canonical dotted form, if any
  // kResourceExhausted: seconds until a retry may succeed (0: unknown). Each dialect
  // sends it as `Retry-After`.
  std::int64_t retry_after_s = 0;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message, std::string field = {}) {
  return std::unexpected(Error{code, std::move(message), std::move(field)});
}
inline std::unexpected<Error> InvalidArgument(std::string field, std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message), std::move(field));
}
inline std::unexpected<Error> NotFound(std::string message) {
  return Fail(ErrorCode::kNotFound, std::move(message));
}
inline std::unexpected<Error> AlreadyExists(std::string field, std::string message) {
  return Fail(ErrorCode::kAlreadyExists, std::move(message), std::move(field));
}
// The resource (`what`: "user", "group", ...) is no longer at the version a write was
// conditioned on; field "version".
inline std::unexpected<Error> VersionMismatch(const std::string& what) {
  return Fail(ErrorCode::kVersionMismatch, "the " + what + " has changed since it was read; read it again",
              "version");
}
// Too many requests; a retry may succeed after `retry_after_s` seconds.
inline std::unexpected<Error> TooManyRequests(std::string message, std::int64_t retry_after_s) {
  return std::unexpected(Error{ErrorCode::kResourceExhausted, std::move(message), {}, retry_after_s});
}
inline std::unexpected<Error> Internal(std::string message) {
  return Fail(ErrorCode::kInternal, std::move(message));
}

}  // namespace roster::core

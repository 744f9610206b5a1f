#pragma once
// The one error type. What a client may see (code, message, field errors) is kept apart from what is
// only logged (detail); the http layer maps it once to RFC 9457 problem+json.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace poste {

enum class ErrorCode {
  kBadRequest,          // 400
  kValidation,          // 422: field errors
  kUnauthorized,        // 401
  kForbidden,           // 403
  kNotFound,            // 404
  kMethodNotAllowed,    // 405
  kTimeout,             // 408
  kConflict,            // 409
  kPreconditionFailed,  // 412
  kPayloadTooLarge,     // 413
  kUnsupportedMedia,    // 415
  kHeadersTooLarge,     // 431
  kTooManyRequests,     // 429
  kInternal,            // 500
  kUnavailable,         // 503
};

struct FieldError {
  std::string field;    // JSON pointer-ish path of the offending field, e.g. "email" or "fields[2].name"
  std::string code;     // machine-readable reason, e.g. "required", "too_long", "invalid_json"
  std::string message;  // human-readable reason
};

class AppError : public std::runtime_error {
 public:
  AppError(ErrorCode code, std::string message, std::string detail = {}, std::vector<FieldError> fields = {});

  static AppError BadRequest(std::string message, std::vector<FieldError> fields = {});
  static AppError Validation(std::vector<FieldError> fields);
  static AppError NotFound(std::string message = "The resource does not exist.");
  static AppError Conflict(std::string message, std::vector<FieldError> fields = {});
  static AppError Internal(std::string detail);
  static AppError Unavailable(std::string message, std::string detail = {});

  ErrorCode code() const { return code_; }
  int status() const;
  const std::string& message() const { return message_; }
  const std::string& detail() const { return detail_; }
  const std::vector<FieldError>& fields() const { return fields_; }

 private:
  ErrorCode code_;
  std::string message_;
  std::string detail_;
  std::vector<FieldError> fields_;
};

int StatusOf(ErrorCode code);
// Short title of an HTTP status ("Not Found"), and the slug used in the problem "type" URI.
std::string_view StatusTitle(int status);
std::string_view ErrorSlug(ErrorCode code);

}  // namespace poste

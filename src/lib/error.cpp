#include "lib/error.hpp"

#include <utility>

namespace poste {

AppError::AppError(ErrorCode code, std::string message, std::string detail, std::vector<FieldError> fields)
    : std::runtime_error(detail.empty() ? message : detail),
      code_(code),
      message_(std::move(message)),
      detail_(std::move(detail)),
      fields_(std::move(fields)) {}

AppError AppError::BadRequest(std::string message, std::vector<FieldError> fields) {
  return AppError(ErrorCode::kBadRequest, std::move(message), {}, std::move(fields));
}

AppError AppError::Validation(std::vector<FieldError> fields) {
  return AppError(ErrorCode::kValidation, "The request has invalid fields.", {}, std::move(fields));
}

AppError AppError::NotFound(std::string message) { return AppError(ErrorCode::kNotFound, std::move(message)); }

AppError AppError::Conflict(std::string message, std::vector<FieldError> fields) {
  return AppError(ErrorCode::kConflict, std::move(message), {}, std::move(fields));
}

AppError AppError::Internal(std::string detail) {
  return AppError(ErrorCode::kInternal, "An internal error occurred.", std::move(detail));
}

AppError AppError::Unavailable(std::string message, std::string detail) {
  return AppError(ErrorCode::kUnavailable, std::move(message), std::move(detail));
}

int AppError::status() const { return StatusOf(code_); }

int StatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return 400;
    case ErrorCode::kValidation:
      return 422;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kTimeout:
      return 408;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPreconditionFailed:
      return 412;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kUnsupportedMedia:
      return 415;
    case ErrorCode::kHeadersTooLarge:
      return 431;
    case ErrorCode::kTooManyRequests:
      return 429;
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kUnavailable:
      return 503;
  }
  return 500;
}

std::string_view ErrorSlug(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return "bad-request";
    case ErrorCode::kValidation:
      return "validation";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kMethodNotAllowed:
      return "method-not-allowed";
    case ErrorCode::kTimeout:
      return "request-timeout";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPreconditionFailed:
      return "precondition-failed";
    case ErrorCode::kPayloadTooLarge:
      return "payload-too-large";
    case ErrorCode::kUnsupportedMedia:
      return "unsupported-media-type";
    case ErrorCode::kHeadersTooLarge:
      return "headers-too-large";
    case ErrorCode::kTooManyRequests:
      return "too-many-requests";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kUnavailable:
      return "unavailable";
  }
  return "internal";
}

std::string_view StatusTitle(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace poste

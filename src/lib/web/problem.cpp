#include "lib/web/problem.hpp"

#include <nlohmann/json.hpp>

namespace poste::web {

namespace {

std::string_view SlugForStatus(int status) {
  switch (status) {
    case 400:
      return ErrorSlug(ErrorCode::kBadRequest);
    case 404:
      return ErrorSlug(ErrorCode::kNotFound);
    case 405:
      return ErrorSlug(ErrorCode::kMethodNotAllowed);
    case 408:
      return ErrorSlug(ErrorCode::kTimeout);
    case 413:
      return ErrorSlug(ErrorCode::kPayloadTooLarge);
    case 431:
      return ErrorSlug(ErrorCode::kHeadersTooLarge);
    case 503:
      return ErrorSlug(ErrorCode::kUnavailable);
    default:
      return ErrorSlug(ErrorCode::kInternal);
  }
}

web::Response Build(int status, std::string_view slug, std::string_view detail, std::string_view instance,
                    std::string_view request_id, const std::vector<FieldError>* fields) {
  nlohmann::json body = {
      {"type", "urn:poste:problem:" + std::string(slug)},
      {"title", StatusTitle(status)},
      {"status", status},
      {"detail", detail},
      {"instance", instance},
      {"request_id", request_id},
  };
  if (fields && !fields->empty()) {
    auto& errors = body["errors"] = nlohmann::json::array();
    for (const auto& f : *fields) errors.push_back({{"field", f.field}, {"code", f.code}, {"message", f.message}});
  }
  web::Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/problem+json");
  // Replace rather than throw on invalid UTF-8 that a hostile path may carry into "instance".
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace

web::Response ProblemResponse(const AppError& error, std::string_view instance, std::string_view request_id) {
  return Build(error.status(), ErrorSlug(error.code()), error.message(), instance, request_id, &error.fields());
}

web::Response ProblemResponse(int status, std::string_view detail, std::string_view instance,
                              std::string_view request_id) {
  return Build(status, SlugForStatus(status), detail, instance, request_id, nullptr);
}

web::Response ProblemFor(const web::RequestContext& ctx, const AppError& error) {
  return ProblemResponse(error, ctx.request.path, ctx.request_id);
}

}  // namespace poste::web

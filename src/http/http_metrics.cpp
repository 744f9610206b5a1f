#include "http/http_metrics.hpp"

#include <charconv>

#include "lib/metrics/metrics.hpp"

namespace poste::http {

namespace {
// Clients choose the method string: only known methods become label values, so a hostile client
// cannot grow the metric families without bound.
std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (auto known : kKnown) {
    if (method == known) return known;
  }
  return "OTHER";
}
}  // namespace

struct HttpMetrics::Impl {
  explicit Impl(metrics::Registry& r)
      : requests(r.AddCounter("poste_http_requests_total", "HTTP requests answered, by route, method and status.",
                              {"route", "method", "status"})),
        duration(r.AddHistogram("poste_http_request_duration_seconds",
                                "Time from a parsed request to its response, by route.", {"route"})),
        in_flight(r.AddGauge("poste_http_requests_in_flight", "Requests being handled now.").With()) {}

  metrics::CounterFamily& requests;
  metrics::HistogramFamily& duration;
  metrics::Gauge& in_flight;
};

HttpMetrics::HttpMetrics(metrics::Registry& registry) : impl_(std::make_unique<Impl>(registry)) {}
HttpMetrics::~HttpMetrics() = default;

void HttpMetrics::Begin() {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  impl_->in_flight.Inc();
}

void HttpMetrics::End(std::string_view route, std::string_view method, int status, double seconds) {
  char buf[8];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), status);
  std::string_view status_text(buf, ec == std::errc() ? static_cast<std::size_t>(end - buf) : 0);
  impl_->requests.With({route, MethodLabel(method), status_text}).Inc();
  impl_->duration.With({route}).Observe(seconds);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  impl_->in_flight.Dec();
}

}  // namespace poste::http

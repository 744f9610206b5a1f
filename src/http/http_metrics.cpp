#include "http/http_metrics.hpp"

#include <charconv>
#include <unordered_map>

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

namespace {
std::atomic<std::uint64_t> g_next_instance{1};
}

HttpMetrics::HttpMetrics(metrics::Registry& registry)
    : impl_(std::make_unique<Impl>(registry)), instance_(g_next_instance.fetch_add(1)) {}
HttpMetrics::~HttpMetrics() = default;

void HttpMetrics::Begin() {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  impl_->in_flight.Inc();
}

void HttpMetrics::End(std::string_view route, std::string_view method, int status, double seconds) {
  // Each I/O thread remembers the children it used, keyed by the route string's address (routes are owned
  // by the router and never move) and the label values, so a request costs no family lookup or lock.
  struct Key {
    std::uint64_t instance;
    const char* route;
    std::size_t route_size;
    const char* method;  // one of kKnown's literals, or "OTHER"
    int status;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      std::size_t h = std::hash<const void*>()(k.route) ^ (k.instance * 0x9e3779b97f4a7c15ULL);
      h ^= std::hash<const void*>()(k.method) + 0x9e3779b9 + (h << 6) + (h >> 2);
      return h ^ (static_cast<std::size_t>(k.status) * 0x85ebca6bULL);
    }
  };
  struct Children {
    metrics::Counter* requests;
    metrics::Histogram* duration;
  };
  thread_local std::unordered_map<Key, Children, KeyHash> cache;
  std::string_view method_label = MethodLabel(method);
  Key key{instance_, route.data(), route.size(), method_label.data(), status};
  auto it = cache.find(key);
  if (it == cache.end()) {
    char buf[8];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), status);
    std::string_view status_text(buf, ec == std::errc() ? static_cast<std::size_t>(end - buf) : 0);
    Children children{&impl_->requests.With({route, method_label, status_text}), &impl_->duration.With({route})};
    it = cache.emplace(key, children).first;
  }
  it->second.requests->Inc();
  it->second.duration->Observe(seconds);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  impl_->in_flight.Dec();
}

}  // namespace poste::http

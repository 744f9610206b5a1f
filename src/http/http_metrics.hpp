#pragma once
// The HTTP metrics: requests by route, method and status, latency histogram, requests in flight.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace poste::metrics {
class Registry;
}

namespace poste::http {

class HttpMetrics {
 public:
  explicit HttpMetrics(metrics::Registry& registry);
  ~HttpMetrics();

  void Begin();
  // route must stay valid as long as this object: a router-owned pattern or a string literal.
  void End(std::string_view route, std::string_view method, int status, double seconds);
  std::int64_t InFlight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::int64_t> in_flight_{0};
  std::uint64_t instance_;  // distinguishes instances in the per-thread child cache
};

}  // namespace poste::http

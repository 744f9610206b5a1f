#pragma once
// A small Prometheus client: a Registry owns metric families, a family hands out one child per set of
// label values, and Render() writes the text exposition format 0.0.4.
//
// Hot-path contract: Counter::Inc, Gauge::Set/Add and Histogram::Observe are a few relaxed atomic
// operations, no lock and no allocation. Family::With() takes a shared lock and does one map lookup
// without allocating when the child exists; callers on hot paths cache the returned reference, which
// stays valid for the life of the registry.
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace poste::metrics {

// Label values, in the order of the family's label names.
using Labels = std::vector<std::string>;
using LabelledValues = std::vector<std::pair<Labels, double>>;

// Upper bounds (seconds) suited to HTTP latency; +Inf is implicit.
const std::vector<double>& DefaultBuckets();

class Counter {
 public:
  // Throws std::invalid_argument for a negative or NaN amount: a counter never goes down.
  void Inc(double amount = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void Inc() { Add(1.0); }
  void Dec() { Add(-1.0); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds` are the finite upper bounds, strictly increasing; they must outlive the histogram (the
  // family owns them).
  explicit Histogram(std::span<const double> bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0.0;
    std::uint64_t count = 0;  // equals cumulative.back(), so _count always matches the +Inf bucket
  };
  Snapshot Collect() const;

 private:
  std::span<const double> bounds_;
  // Per-bucket (not cumulative) counts, so Observe touches one bucket; the last is +Inf.
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

enum class Type { kCounter, kGauge, kHistogram };

// What all families share: name, help, label names and the text rendering.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends the family's HELP, TYPE and sample lines; appends nothing when it has no sample.
  virtual void Render(std::string& out) const = 0;

 private:
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
};

// Orders label-value tuples, and compares a stored tuple with a lookup tuple of string_views so that a
// lookup allocates nothing.
struct LabelsLess {
  using is_transparent = void;
  bool operator()(std::span<const std::string> a, std::span<const std::string> b) const;
  bool operator()(std::span<const std::string> a, std::span<const std::string_view> b) const;
  bool operator()(std::span<const std::string_view> a, std::span<const std::string> b) const;
};

// A family of Counter, Gauge or Histogram children, one per distinct tuple of label values.
template <class T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds = {});

  // The child for these label values, created on first use. Throws std::invalid_argument when the number
  // of values differs from the number of label names.
  T& With(std::span<const std::string_view> values);
  T& With(std::initializer_list<std::string_view> values = {}) {
    return With(std::span<const std::string_view>(values.begin(), values.size()));
  }

  void Render(std::string& out) const override;

 private:
  std::vector<double> bounds_;  // histograms only
  mutable std::shared_mutex mutex_;
  std::map<Labels, std::unique_ptr<T>, LabelsLess> children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each Add* throws std::invalid_argument for an invalid or already registered name, an invalid label
  // name, or (histograms) bounds that are not finite and strictly increasing. The returned family lives
  // as long as the registry. A family without labels renders its single child even before first use.
  CounterFamily& AddCounter(std::string name, std::string help, std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  HistogramFamily& AddHistogram(std::string name, std::string help, std::vector<std::string> label_names = {},
                                std::vector<double> bounds = DefaultBuckets());

  // Gauges computed when /metrics is scraped. The callback runs on the scraping thread, which may be an
  // I/O thread, under the registry's lock: it must be cheap, must not block (read an atomic or a cached
  // value, never run SQL) and must not call the registry. It must stay callable until RemoveCallback(name)
  // or the registry's destruction.
  void AddGaugeCallback(std::string name, std::string help, std::function<double()> callback);
  // A callback returning several labelled values, e.g. jobs by state: {{{"queued"}, 3}, {{"running"}, 1}}.
  void AddGaugeCallback(std::string name, std::string help, std::vector<std::string> label_names,
                        std::function<LabelledValues()> callback);
  // The same for a total kept elsewhere (the callback reads it; it only grows), rendered as a counter.
  void AddCounterCallback(std::string name, std::string help, std::vector<std::string> label_names,
                          std::function<LabelledValues()> callback);
  // Removes a callback gauge or counter, for an owner that dies before the registry. Returns false if absent.
  bool RemoveCallback(std::string_view name);

  // The text exposition format 0.0.4, families sorted by name. A callback that throws or returns the
  // wrong number of label values yields a comment line instead of its samples, never a failed scrape.
  std::string Render() const;

 private:
  FamilyBase& Insert(std::unique_ptr<FamilyBase> family);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

}  // namespace poste::metrics

#include "lib/metrics/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>

#include "lib/metrics/text_format.hpp"

namespace poste::metrics {

namespace {

template <class A, class B>
bool LexLess(std::span<A> a, std::span<B> b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](std::string_view x, std::string_view y) { return x < y; });
}

void CheckLabelNames(const std::string& metric, const std::vector<std::string>& label_names) {
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    if (!IsValidLabelName(label_names[i])) {
      throw std::invalid_argument("metric " + metric + ": invalid label name \"" + label_names[i] + "\"");
    }
    if (std::find(label_names.begin(), label_names.begin() + i, label_names[i]) != label_names.begin() + i) {
      throw std::invalid_argument("metric " + metric + ": duplicate label name \"" + label_names[i] + "\"");
    }
  }
}

void CheckBounds(const std::string& metric, std::vector<double>& bounds) {
  // A trailing +Inf is accepted and dropped: the +Inf bucket is always there.
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      throw std::invalid_argument("histogram " + metric + ": bucket bounds must be finite and strictly increasing");
    }
  }
}

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// A gauge or a counter whose samples come from a callback at scrape time.
class CallbackFamily final : public FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, Type type, std::vector<std::string> label_names,
                 std::function<LabelledValues()> callback)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), callback_(std::move(callback)) {}

  void Render(std::string& out) const override {
    LabelledValues values;
    try {
      values = callback_();
    } catch (const std::exception& e) {
      out += "# " + name() + ": callback failed: " + e.what() + "\n";
      return;
    } catch (...) {
      out += "# " + name() + ": callback failed\n";
      return;
    }
    for (const auto& [labels, value] : values) {
      if (labels.size() != label_names().size()) {
        out += "# " + name() + ": callback returned a sample with the wrong number of label values\n";
        return;
      }
    }
    if (values.empty()) return;
    AppendHeader(out, name(), help(), TypeName(type()));
    for (const auto& [labels, value] : values) AppendSample(out, name(), label_names(), labels, {}, {}, value);
  }

 private:
  std::function<LabelledValues()> callback_;
};

}  // namespace

const std::vector<double>& DefaultBuckets() {
  static const std::vector<double> buckets{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return buckets;
}

void Counter::Inc(double amount) {
  if (!(amount >= 0)) throw std::invalid_argument("a counter can only increase");
  value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double value) {
  // The first bound >= value (Prometheus buckets are "less than or equal"); NaN and values above every
  // bound land in +Inf.
  std::size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  if (std::isnan(value)) i = bounds_.size();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Collect() const {
  Snapshot snapshot;
  snapshot.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

FamilyBase::FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}

bool LabelsLess::operator()(std::span<const std::string> a, std::span<const std::string> b) const {
  return LexLess(a, b);
}
bool LabelsLess::operator()(std::span<const std::string> a, std::span<const std::string_view> b) const {
  return LexLess(a, b);
}
bool LabelsLess::operator()(std::span<const std::string_view> a, std::span<const std::string> b) const {
  return LexLess(a, b);
}

template <class T>
Family<T>::Family(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help),
                 std::is_same_v<T, Counter> ? Type::kCounter
                 : std::is_same_v<T, Gauge> ? Type::kGauge
                                            : Type::kHistogram,
                 std::move(label_names)),
      bounds_(std::move(bounds)) {
  if (this->label_names().empty()) With();
}

template <class T>
T& Family<T>::With(std::span<const std::string_view> values) {
  if (values.size() != label_names().size()) {
    throw std::invalid_argument("metric " + name() + ": expected " + std::to_string(label_names().size()) +
                                " label values, got " + std::to_string(values.size()));
  }
  {
    std::shared_lock lock(mutex_);
    if (auto it = children_.find(values); it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mutex_);
  if (auto it = children_.find(values); it != children_.end()) return *it->second;  // another thread won
  std::unique_ptr<T> child;
  if constexpr (std::is_same_v<T, Histogram>) {
    child = std::make_unique<T>(bounds_);
  } else {
    child = std::make_unique<T>();
  }
  T& result = *child;
  children_.emplace(Labels(values.begin(), values.end()), std::move(child));
  return result;
}

template <class T>
void Family<T>::Render(std::string& out) const {
  std::shared_lock lock(mutex_);
  if (children_.empty()) return;
  AppendHeader(out, name(), help(), TypeName(type()));
  if constexpr (std::is_same_v<T, Histogram>) {
    const std::string bucket = name() + "_bucket";
    std::vector<std::string> les;
    for (double bound : bounds_) {
      les.emplace_back();
      AppendNumber(les.back(), bound);
    }
    les.emplace_back("+Inf");
    for (const auto& [labels, child] : children_) {
      Histogram::Snapshot snapshot = child->Collect();
      for (std::size_t i = 0; i < les.size(); ++i) {
        AppendSample(out, bucket, label_names(), labels, "le", les[i], static_cast<double>(snapshot.cumulative[i]));
      }
      AppendSample(out, name() + "_sum", label_names(), labels, {}, {}, snapshot.sum);
      AppendSample(out, name() + "_count", label_names(), labels, {}, {}, static_cast<double>(snapshot.count));
    }
  } else {
    for (const auto& [labels, child] : children_) {
      AppendSample(out, name(), label_names(), labels, {}, {}, child->Value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Registry() = default;
Registry::~Registry() = default;

FamilyBase& Registry::Insert(std::unique_ptr<FamilyBase> family) {
  const std::string& name = family->name();
  if (!IsValidMetricName(name)) throw std::invalid_argument("invalid metric name \"" + name + "\"");
  CheckLabelNames(name, family->label_names());
  std::lock_guard lock(mutex_);
  auto [it, inserted] = families_.try_emplace(name, std::move(family));
  if (!inserted) throw std::invalid_argument("metric " + name + " is already registered");
  return *it->second;
}

CounterFamily& Registry::AddCounter(std::string name, std::string help, std::vector<std::string> label_names) {
  return static_cast<CounterFamily&>(
      Insert(std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names))));
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return static_cast<GaugeFamily&>(
      Insert(std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(label_names))));
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                                        std::vector<double> bounds) {
  CheckBounds(name, bounds);
  if (std::find(label_names.begin(), label_names.end(), "le") != label_names.end()) {
    throw std::invalid_argument("histogram " + name + ": \"le\" is reserved for the bucket label");
  }
  return static_cast<HistogramFamily&>(Insert(
      std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(label_names), std::move(bounds))));
}

void Registry::AddGaugeCallback(std::string name, std::string help, std::function<double()> callback) {
  if (!callback) throw std::invalid_argument("metric " + name + ": empty callback");
  AddGaugeCallback(std::move(name), std::move(help), {}, [callback = std::move(callback)] {
    return LabelledValues{{Labels{}, callback()}};
  });
}

void Registry::AddGaugeCallback(std::string name, std::string help, std::vector<std::string> label_names,
                                std::function<LabelledValues()> callback) {
  if (!callback) throw std::invalid_argument("metric " + name + ": empty callback");
  Insert(std::make_unique<CallbackFamily>(std::move(name), std::move(help), Type::kGauge, std::move(label_names),
                                          std::move(callback)));
}

void Registry::AddCounterCallback(std::string name, std::string help, std::vector<std::string> label_names,
                                  std::function<LabelledValues()> callback) {
  if (!callback) throw std::invalid_argument("metric " + name + ": empty callback");
  Insert(std::make_unique<CallbackFamily>(std::move(name), std::move(help), Type::kCounter, std::move(label_names),
                                          std::move(callback)));
}

bool Registry::RemoveCallback(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end() || dynamic_cast<CallbackFamily*>(it->second.get()) == nullptr) return false;
  families_.erase(it);
  return true;
}

std::string Registry::Render() const {
  std::string out;
  out.reserve(4096);
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) family->Render(out);
  return out;
}

}  // namespace poste::metrics

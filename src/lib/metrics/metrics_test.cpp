#include "lib/metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

#include "lib/metrics/text_format.hpp"

namespace poste::metrics {
namespace {

TEST(MetricsRender, CounterWithLabelsExactText) {
  Registry registry;
  auto& requests = registry.AddCounter("http_requests_total", "Requests served.", {"method", "route", "status"});
  requests.With({"GET", "/healthz", "200"}).Inc();
  requests.With({"GET", "/healthz", "200"}).Inc(2);
  requests.With({"POST", "/api/v1/sites", "201"}).Inc(0.5);
  EXPECT_EQ(registry.Render(),
            "# HELP http_requests_total Requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3\n"
            "http_requests_total{method=\"POST\",route=\"/api/v1/sites\",status=\"201\"} 0.5\n");
}

TEST(MetricsRender, UnlabelledFamiliesRenderZeroAndSortByName) {
  Registry registry;
  registry.AddGauge("zeta", "Last.");
  registry.AddCounter("alpha_total", "First.");
  EXPECT_EQ(registry.Render(),
            "# HELP alpha_total First.\n"
            "# TYPE alpha_total counter\n"
            "alpha_total 0\n"
            "# HELP zeta Last.\n"
            "# TYPE zeta gauge\n"
            "zeta 0\n");
}

TEST(MetricsRender, LabelledFamilyWithoutChildrenRendersNothing) {
  Registry registry;
  registry.AddCounter("unused_total", "Nothing yet.", {"kind"});
  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsRender, GaugeSetAddAndSpecialValues) {
  Registry registry;
  auto& gauge = registry.AddGauge("g", "A gauge.", {"k"});
  gauge.With({"a"}).Set(5);
  gauge.With({"a"}).Dec();
  gauge.With({"a"}).Add(-0.25);
  gauge.With({"b"}).Set(std::numeric_limits<double>::infinity());
  gauge.With({"c"}).Set(-std::numeric_limits<double>::infinity());
  gauge.With({"d"}).Set(std::nan(""));
  gauge.With({"e"}).Set(1e-7);
  EXPECT_EQ(registry.Render(),
            "# HELP g A gauge.\n# TYPE g gauge\n"
            "g{k=\"a\"} 3.75\n"
            "g{k=\"b\"} +Inf\n"
            "g{k=\"c\"} -Inf\n"
            "g{k=\"d\"} NaN\n"
            "g{k=\"e\"} 1e-07\n");
}

TEST(MetricsRender, EscapesLabelValuesAndHelp) {
  Registry registry;
  auto& family = registry.AddCounter("esc_total", "Back\\slash and\nnewline \"kept\".", {"v"});
  family.With({"a\\b\"c\nd"}).Inc();
  EXPECT_EQ(registry.Render(),
            "# HELP esc_total Back\\\\slash and\\nnewline \"kept\".\n"
            "# TYPE esc_total counter\n"
            "esc_total{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsRender, HistogramExactText) {
  Registry registry;
  auto& latency = registry.AddHistogram("lat_seconds", "Latency.", {"route"}, {0.1, 0.5, 1});
  auto& child = latency.With({"/x"});
  child.Observe(0.05);
  child.Observe(0.1);  // on a bound: counted in that bucket ("less than or equal")
  child.Observe(0.3);
  child.Observe(7);
  EXPECT_EQ(registry.Render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n"
            "lat_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
            "lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{route=\"/x\"} 7.45\n"
            "lat_seconds_count{route=\"/x\"} 4\n");
}

TEST(MetricsHistogram, DefaultBucketsAndBucketMath) {
  Registry registry;
  auto& family = registry.AddHistogram("h", "H.");
  auto& h = family.With();
  const auto& bounds = DefaultBuckets();
  ASSERT_EQ(bounds.size(), 14u);
  EXPECT_DOUBLE_EQ(bounds.front(), 0.0005);
  EXPECT_DOUBLE_EQ(bounds.back(), 10);
  for (double bound : bounds) h.Observe(bound);  // each exactly on its bound
  h.Observe(0);
  h.Observe(-1);                                        // below every bound: first bucket
  h.Observe(11);                                        // +Inf only
  h.Observe(std::numeric_limits<double>::quiet_NaN());  // +Inf only
  Histogram::Snapshot s = h.Collect();
  ASSERT_EQ(s.cumulative.size(), 15u);
  EXPECT_EQ(s.cumulative[0], 3u);  // 0.0005, 0, -1
  for (std::size_t i = 1; i < 14; ++i) EXPECT_EQ(s.cumulative[i], i + 3) << "bucket " << i;
  EXPECT_EQ(s.cumulative[14], 18u);
  EXPECT_EQ(s.count, 18u);
  EXPECT_TRUE(std::isnan(s.sum));
  std::string text = registry.Render();
  EXPECT_NE(text.find("h_bucket{le=\"0.0005\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_bucket{le=\"2.5\"} 14\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_bucket{le=\"+Inf\"} 18\n"), std::string::npos) << text;
}

TEST(MetricsHistogram, TrailingInfBoundIsAcceptedAndBadBoundsRejected) {
  Registry registry;
  auto& h = registry.AddHistogram("ok", "Ok.", {}, {1, 2, std::numeric_limits<double>::infinity()});
  h.With().Observe(1.5);
  EXPECT_EQ(h.With().Collect().cumulative, (std::vector<std::uint64_t>{0, 1, 1}));
  EXPECT_THROW(registry.AddHistogram("a", "A.", {}, {2, 1}), std::invalid_argument);
  EXPECT_THROW(registry.AddHistogram("b", "B.", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(registry.AddHistogram("c", "C.", {}, {std::nan("")}), std::invalid_argument);
  EXPECT_THROW(registry.AddHistogram("d", "D.", {"le"}), std::invalid_argument);
}

TEST(MetricsFamily, ChildrenAreStableAndLabelCountChecked) {
  Registry registry;
  auto& family = registry.AddCounter("c_total", "C.", {"a", "b"});
  Counter& first = family.With({"x", "y"});
  for (int i = 0; i < 100; ++i) family.With({"x", std::to_string(i)});  // rebalances the map
  EXPECT_EQ(&first, &family.With({"x", "y"}));
  EXPECT_THROW(family.With({"x"}), std::invalid_argument);
  EXPECT_THROW(family.With(), std::invalid_argument);
  EXPECT_THROW(family.With({"x", "y", "z"}), std::invalid_argument);
  std::vector<std::string_view> dynamic{"x", "y"};
  EXPECT_EQ(&first, &family.With(dynamic));
}

TEST(MetricsFamily, CounterRejectsDecrease) {
  Registry registry;
  auto& c = registry.AddCounter("c_total", "C.").With();
  EXPECT_THROW(c.Inc(-1), std::invalid_argument);
  EXPECT_THROW(c.Inc(std::nan("")), std::invalid_argument);
  EXPECT_EQ(c.Value(), 0);
}

TEST(MetricsRegistry, RejectsInvalidAndDuplicateNames) {
  Registry registry;
  registry.AddCounter("ok_total", "Ok.");
  EXPECT_THROW(registry.AddGauge("ok_total", "Again."), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("1bad", "Bad."), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("bad-name", "Bad."), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("", "Bad."), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("x_total", "Bad.", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("y_total", "Bad.", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("z_total", "Bad.", {"a", "a"}), std::invalid_argument);
  EXPECT_NO_THROW(registry.AddCounter("ns:sub_total", "Colons are allowed in metric names."));
  EXPECT_THROW(registry.AddGaugeCallback("cb", "Empty.", std::function<double()>{}), std::invalid_argument);
}

TEST(MetricsRegistry, CallbackGauges) {
  Registry registry;
  double depth = 4;
  registry.AddGaugeCallback("pool_queue_depth", "Tasks waiting.", [&depth] { return depth; });
  registry.AddGaugeCallback("jobs", "Jobs by state.", {"state"}, [] {
    return LabelledValues{{{"queued"}, 3}, {{"running"}, 1}};
  });
  EXPECT_EQ(registry.Render(),
            "# HELP jobs Jobs by state.\n# TYPE jobs gauge\n"
            "jobs{state=\"queued\"} 3\n"
            "jobs{state=\"running\"} 1\n"
            "# HELP pool_queue_depth Tasks waiting.\n# TYPE pool_queue_depth gauge\n"
            "pool_queue_depth 4\n");
  depth = 9;
  EXPECT_NE(registry.Render().find("pool_queue_depth 9\n"), std::string::npos);
  EXPECT_TRUE(registry.RemoveCallback("pool_queue_depth"));
  EXPECT_FALSE(registry.RemoveCallback("pool_queue_depth"));
  EXPECT_EQ(registry.Render().find("pool_queue_depth"), std::string::npos);
  registry.AddGauge("plain", "Not a callback.");
  EXPECT_FALSE(registry.RemoveCallback("plain"));
}

TEST(MetricsRegistry, CallbackCounters) {
  Registry registry;
  double hits = 7;
  registry.AddCounterCallback("cache_lookups_total", "Lookups.", {"result"}, [&hits] {
    return LabelledValues{{{"hit"}, hits}, {{"miss"}, 2}};
  });
  EXPECT_EQ(registry.Render(),
            "# HELP cache_lookups_total Lookups.\n# TYPE cache_lookups_total counter\n"
            "cache_lookups_total{result=\"hit\"} 7\n"
            "cache_lookups_total{result=\"miss\"} 2\n");
  EXPECT_TRUE(registry.RemoveCallback("cache_lookups_total"));
  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsRegistry, FailingCallbackBecomesACommentNotAFailedScrape) {
  Registry registry;
  registry.AddGaugeCallback("broken", "Throws.", []() -> double { throw std::runtime_error("db gone"); });
  registry.AddGaugeCallback("wrong", "Bad labels.", {"a"}, [] { return LabelledValues{{{"x", "y"}, 1}}; });
  registry.AddCounter("fine_total", "Still rendered.");
  EXPECT_EQ(registry.Render(),
            "# broken: callback failed: db gone\n"
            "# HELP fine_total Still rendered.\n# TYPE fine_total counter\nfine_total 0\n"
            "# wrong: callback returned a sample with the wrong number of label values\n");
}

TEST(MetricsConcurrency, IncrementsAndObservationsFromManyThreadsAddUp) {
  Registry registry;
  auto& counters = registry.AddCounter("c_total", "C.", {"t"});
  auto& histograms = registry.AddHistogram("h", "H.", {}, {1, 2});
  constexpr int kThreads = 8;
  constexpr int kIterations = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string mine = t % 2 ? "odd" : "even";
      for (int i = 0; i < kIterations; ++i) {
        counters.With({"shared"}).Inc();  // racing lookups of the same child
        counters.With({mine}).Inc();
        histograms.With().Observe(i % 3);
        if (i % 1000 == 0) registry.Render();  // scraping while writing must be safe
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counters.With({"shared"}).Value(), kThreads * kIterations);
  EXPECT_EQ(counters.With({"odd"}).Value(), kThreads / 2 * kIterations);
  EXPECT_EQ(counters.With({"even"}).Value(), kThreads / 2 * kIterations);
  Histogram::Snapshot s = histograms.With().Collect();
  EXPECT_EQ(s.count, static_cast<std::uint64_t>(kThreads * kIterations));
  std::uint64_t zeros = kThreads * ((kIterations + 2) / 3);
  std::uint64_t ones = kThreads * ((kIterations + 1) / 3);
  EXPECT_EQ(s.cumulative[0], zeros + ones);
  EXPECT_EQ(s.cumulative[1], s.count);
  EXPECT_DOUBLE_EQ(s.sum, static_cast<double>(ones + 2 * (s.count - zeros - ones)));
}

TEST(MetricsTextFormat, NamesAndNumbers) {
  EXPECT_TRUE(IsValidMetricName("a_b:c9"));
  EXPECT_FALSE(IsValidMetricName("9a"));
  EXPECT_TRUE(IsValidLabelName("_a1"));
  EXPECT_FALSE(IsValidLabelName("a-b"));
  std::string out;
  AppendNumber(out, 0.0005);
  out += ' ';
  AppendNumber(out, 12345678);
  out += ' ';
  AppendNumber(out, 0.1 + 0.2);
  out += ' ';
  AppendNumber(out, 1e21);
  out += ' ';
  AppendNumber(out, -0.00001);
  out += ' ';
  AppendNumber(out, 0);
  EXPECT_EQ(out, "0.0005 12345678 0.30000000000000004 1e+21 -1e-05 0");
}

}  // namespace
}  // namespace poste::metrics

#pragma once
// Pieces of the Prometheus text exposition format 0.0.4, shared by the metric families.
#include <span>
#include <string>
#include <string_view>

namespace poste::metrics {

// Appends a sample value: the shortest decimal that reads back to the same double, or +Inf, -Inf, NaN.
void AppendNumber(std::string& out, double value);
// Appends a label value with `\`, `"` and newline escaped.
void AppendLabelValue(std::string& out, std::string_view value);
// Appends `# HELP name text` (text with `\` and newline escaped) and `# TYPE name type`.
void AppendHeader(std::string& out, std::string_view name, std::string_view help, std::string_view type);
// Appends one sample line: name{label="value",...,extra_name="extra_value"} value. The extra label is the
// histogram's `le`; pass an empty extra_name for none.
void AppendSample(std::string& out, std::string_view name, std::span<const std::string> label_names,
                  std::span<const std::string> label_values, std::string_view extra_name, std::string_view extra_value,
                  double value);

// Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*; label names match [a-zA-Z_][a-zA-Z0-9_]* and do not start
// with "__", which Prometheus reserves.
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

}  // namespace poste::metrics

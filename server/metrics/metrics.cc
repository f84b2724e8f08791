// Metric families and the Prometheus text format.
#include "server/metrics/metrics.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace llmgateway::metrics {
namespace {

// Integers as integers (counts stay exact past 1e6); others with enough
// digits to read back the same double.
std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 9e15) return absl::StrCat(static_cast<int64_t>(v));
  // The shortest text that reads back as `v`: le="0.1", not "0.10000000000000001".
  for (int precision : {15, 16}) {
    std::string text = absl::StrFormat("%.*g", precision, v);
    if (std::strtod(text.c_str(), nullptr) == v) return text;
  }
  return absl::StrFormat("%.17g", v);
}

// Backslash and newline escaped (HELP text); in label values the double
// quote too.
std::string Escape(absl::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// {a="x",b="y"} plus an optional extra label (a histogram's le).
std::string LabelText(const std::vector<std::string>& names, const LabelValues& values,
                      absl::string_view extra_name = "", absl::string_view extra_value = "") {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", names[i], "=\"", Escape(values[i], /*quote=*/true),
                    "\"");
  }
  if (!extra_name.empty()) {
    absl::StrAppend(&out, names.empty() ? "" : ",", extra_name, "=\"", extra_value, "\"");
  }
  out += "}";
  return out;
}

}  // namespace

Family::Family(std::string name, std::string help, Type type,
               std::vector<std::string> label_names, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

Family::Series& Family::SeriesLocked(const LabelValues& values) {
  auto it = series_.find(values);
  if (it != series_.end()) return it->second;
  const LabelValues& key =
      series_.size() < kMaxSeries ? values : LabelValues(label_names_.size(), "other");
  Series& series = series_[key];
  if (type_ == Type::kHistogram && series.buckets.empty()) series.buckets.resize(bounds_.size());
  return series;
}

void Counter::Add(const LabelValues& values, double amount) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesLocked(values).value += amount;
}

void Gauge::Add(const LabelValues& values, double amount) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesLocked(values).value += amount;
}

void Gauge::Set(const LabelValues& values, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesLocked(values).value = value;
}

void Histogram::Observe(const LabelValues& values, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& series = SeriesLocked(values);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++series.buckets[i];
      break;
    }
  }
  ++series.count;
  series.sum += value;
}

void Family::AppendText(std::string* out) const {
  static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
  absl::StrAppend(out, "# HELP ", name_, " ", Escape(help_, /*quote=*/false), "\n# TYPE ", name_, " ",
                  kTypeNames[static_cast<int>(type_)], "\n");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, series] : series_) {
    if (type_ != Type::kHistogram) {
      absl::StrAppend(out, name_, LabelText(label_names_, values), " ",
                      FormatValue(series.value), "\n");
      continue;
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += series.buckets[i];
      absl::StrAppend(out, name_, "_bucket",
                      LabelText(label_names_, values, "le", FormatValue(bounds_[i])), " ",
                      cumulative, "\n");
    }
    absl::StrAppend(out, name_, "_bucket", LabelText(label_names_, values, "le", "+Inf"), " ",
                    series.count, "\n");
    absl::StrAppend(out, name_, "_sum", LabelText(label_names_, values), " ",
                    FormatValue(series.sum), "\n");
    absl::StrAppend(out, name_, "_count", LabelText(label_names_, values), " ", series.count,
                    "\n");
  }
}

Counter* Registry::AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels) {
  auto family = std::make_unique<Counter>(std::move(name), std::move(help), std::move(labels));
  Counter* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

Gauge* Registry::AddGauge(std::string name, std::string help, std::vector<std::string> labels) {
  auto family = std::make_unique<Gauge>(std::move(name), std::move(help), std::move(labels));
  Gauge* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

Histogram* Registry::AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels, std::vector<double> bounds) {
  auto family = std::make_unique<Histogram>(std::move(name), std::move(help), std::move(labels),
                                            std::move(bounds));
  Histogram* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

std::string Registry::Render() const {
  std::string out;
  for (const auto& family : families_) family->AppendText(&out);
  return out;
}

}  // namespace llmgateway::metrics

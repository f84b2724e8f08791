// Prometheus metrics: families of counters, gauges and histograms keyed by
// label values, rendered in the text exposition format (version 0.0.4).
// prometheus-cpp is not packaged in Debian 12; this is the small part of it
// the gateway needs. Thread-safe; one short lock per update.
#ifndef LLM_GATEWAY_SERVER_METRICS_METRICS_H_
#define LLM_GATEWAY_SERVER_METRICS_METRICS_H_

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace llmgateway::metrics {

// Label values, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

// A family's series are bounded: past `kMaxSeries` distinct label sets,
// new ones are counted under one series whose every label is "other", so a
// caller sending endless model names cannot grow the gateway's memory or a
// scraper's.
inline constexpr size_t kMaxSeries = 1000;

class Family {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::vector<double> bounds = {});

  void AppendText(std::string* out) const;

 protected:
  struct Series {
    double value = 0;                   // counter, gauge
    std::vector<uint64_t> buckets;      // histogram: per bound, not cumulative
    uint64_t count = 0;                 // histogram
    double sum = 0;                     // histogram
  };
  // The series for `values` (created if needed), under mu_.
  Series& SeriesLocked(const LabelValues& values);

  const std::string name_;
  const std::string help_;
  const Type type_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;  // histogram upper bounds, ascending
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

class Counter : public Family {
 public:
  Counter(std::string name, std::string help, std::vector<std::string> label_names)
      : Family(std::move(name), std::move(help), Type::kCounter, std::move(label_names)) {}
  void Add(const LabelValues& values, double amount = 1);
};

class Gauge : public Family {
 public:
  Gauge(std::string name, std::string help, std::vector<std::string> label_names)
      : Family(std::move(name), std::move(help), Type::kGauge, std::move(label_names)) {}
  void Add(const LabelValues& values, double amount);
  void Set(const LabelValues& values, double value);
};

class Histogram : public Family {
 public:
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> bounds)
      : Family(std::move(name), std::move(help), Type::kHistogram, std::move(label_names),
               std::move(bounds)) {}
  void Observe(const LabelValues& values, double value);
};

// Owns families and renders them, in the order they were added.
class Registry {
 public:
  Counter* AddCounter(std::string name, std::string help, std::vector<std::string> labels);
  Gauge* AddGauge(std::string name, std::string help, std::vector<std::string> labels);
  Histogram* AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                          std::vector<double> bounds);

  // The text exposition format: # HELP and # TYPE per family, one line per
  // sample; label values escaped (\\, \", \n); histograms cumulative, ending
  // at le="+Inf", with _sum and _count.
  std::string Render() const;

 private:
  std::vector<std::unique_ptr<Family>> families_;
};

}  // namespace llmgateway::metrics

#endif  // LLM_GATEWAY_SERVER_METRICS_METRICS_H_

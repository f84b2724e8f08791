// The text format, checked the way a Prometheus scraper reads it: every
// line a comment or `name{labels} value`, label values unescaped back to
// what was recorded, histogram buckets cumulative up to +Inf = _count.
#include "server/metrics/metrics.h"

#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace llmgateway::metrics {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// A small reader of the exposition format (what this registry writes:
// no timestamps, no exemplars). Fails the test on a malformed line.
std::vector<Sample> Parse(const std::string& text) {
  std::vector<Sample> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line[0] == '#') {
      EXPECT_TRUE(absl::StartsWith(line, "# HELP ") || absl::StartsWith(line, "# TYPE ")) << line;
      continue;
    }
    Sample sample;
    size_t i = 0;
    while (i < line.size() && (absl::ascii_isalnum(line[i]) || line[i] == '_' || line[i] == ':')) {
      ++i;
    }
    sample.name = std::string(line.substr(0, i));
    EXPECT_FALSE(sample.name.empty()) << line;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        const size_t eq = line.find('=', i);
        const std::string key(line.substr(i, eq - i));
        EXPECT_EQ(line[eq + 1], '"') << line;
        std::string value;
        size_t j = eq + 2;
        for (; line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        sample.labels[key] = value;
        i = j + 1;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    EXPECT_EQ(line[i], ' ') << line;
    const absl::string_view number = line.substr(i + 1);
    if (number == "+Inf") {
      sample.value = std::numeric_limits<double>::infinity();
    } else {
      EXPECT_TRUE(absl::SimpleAtod(number, &sample.value)) << line;
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

const Sample* Find(const std::vector<Sample>& samples, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  for (const Sample& s : samples) {
    if (s.name == name && s.labels == labels) return &s;
  }
  return nullptr;
}

TEST(MetricsTest, CountersAndGaugesWithEscapedLabels) {
  Registry registry;
  Counter* requests = registry.AddCounter("x_requests_total", "Requests.\nTwo lines.",
                                          {"method", "model"});
  Gauge* open = registry.AddGauge("x_open", "Open now.", {});
  requests->Add({"Generate", "gpt-4o"});
  requests->Add({"Generate", "gpt-4o"}, 2);
  requests->Add({"Generate", "we\"ird\\mo\ndel"});
  requests->Add({"Generate", "big"}, 12345678901);
  open->Add({}, 3);
  open->Add({}, -1);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# HELP x_requests_total Requests.\\nTwo lines.\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE x_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE x_open gauge\n"), std::string::npos);
  const std::vector<Sample> samples = Parse(text);
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(Find(samples, "x_requests_total", {{"method", "Generate"}, {"model", "gpt-4o"}})->value,
            3);
  // Round trip: the escaped value reads back as recorded.
  EXPECT_NE(Find(samples, "x_requests_total",
                 {{"method", "Generate"}, {"model", "we\"ird\\mo\ndel"}}),
            nullptr);
  EXPECT_NE(text.find("} 12345678901\n"), std::string::npos);  // exact, not 1.23457e+10
  EXPECT_EQ(Find(samples, "x_open", {})->value, 2);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndEndAtInfEqualToCount) {
  Registry registry;
  Histogram* latency =
      registry.AddHistogram("x_seconds", "Latency.", {"method"}, {0.1, 0.5, 1});
  for (double v : {0.05, 0.1, 0.3, 0.7, 2.0, 30.0}) latency->Observe({"Generate"}, v);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE x_seconds histogram\n"), std::string::npos);
  const std::vector<Sample> samples = Parse(text);
  auto bucket = [&](const std::string& le) {
    const Sample* s = Find(samples, "x_seconds_bucket", {{"method", "Generate"}, {"le", le}});
    return s == nullptr ? -1.0 : s->value;
  };
  EXPECT_EQ(bucket("0.1"), 2);  // <= 0.1 includes 0.1 itself
  EXPECT_EQ(bucket("0.5"), 3);
  EXPECT_EQ(bucket("1"), 4);
  EXPECT_EQ(bucket("+Inf"), 6);
  EXPECT_EQ(Find(samples, "x_seconds_count", {{"method", "Generate"}})->value, 6);
  EXPECT_DOUBLE_EQ(Find(samples, "x_seconds_sum", {{"method", "Generate"}})->value, 33.15);
  // Buckets in ascending order of le, ending with +Inf.
  const size_t inf = text.find("le=\"+Inf\"");
  EXPECT_LT(text.find("le=\"1\""), inf);
}

TEST(MetricsTest, SeriesPastTheCapAreCountedAsOther) {
  Registry registry;
  Counter* counter = registry.AddCounter("x_total", "X.", {"model"});
  for (size_t i = 0; i < kMaxSeries + 50; ++i) counter->Add({"m" + std::to_string(i)});
  const std::vector<Sample> samples = Parse(registry.Render());
  EXPECT_EQ(samples.size(), kMaxSeries + 1);
  EXPECT_EQ(Find(samples, "x_total", {{"model", "other"}})->value, 50);
  // A series known before the cap keeps counting under its own labels.
  counter->Add({"m7"});
  EXPECT_EQ(Find(Parse(registry.Render()), "x_total", {{"model", "m7"}})->value, 2);
}

TEST(MetricsTest, UpdatesFromManyThreadsWhileRendering) {
  Registry registry;
  Counter* counter = registry.AddCounter("x_total", "X.", {"thread"});
  Histogram* histogram = registry.AddHistogram("x_seconds", "X.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        counter->Add({std::to_string(t % 2)});
        histogram->Observe({}, 0.5);
      }
    });
  }
  for (int i = 0; i < 20; ++i) registry.Render();  // readers alongside writers
  for (std::thread& t : threads) t.join();
  const std::vector<Sample> samples = Parse(registry.Render());
  EXPECT_EQ(Find(samples, "x_total", {{"thread", "0"}})->value, 10000);
  EXPECT_EQ(Find(samples, "x_total", {{"thread", "1"}})->value, 10000);
  EXPECT_EQ(Find(samples, "x_seconds_count", {})->value, 20000);
}

}  // namespace
}  // namespace llmgateway::metrics

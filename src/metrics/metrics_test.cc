#include "metrics/metrics.h"

#include <gtest/gtest.h>

namespace roster::metrics {
namespace {

TEST(MetricsTest, RendersCountersGaugesAndHistogramsInTextFormat) {
  Registry r;
  auto& requests = r.AddCounter("t_requests_total", "Requests.", {"api", "code"});
  requests.With({"catalyze", "2xx"}).Inc();
  requests.With({"catalyze", "2xx"}).Inc(2);
  r.AddGauge("t_depth", "Depth.").With({}).Set(4);
  auto& latency = r.AddHistogram("t_seconds", "Latency.", {"route"}, {0.1, 1});
  latency.With({"/v2/users/{id}"}).Observe(0.05);
  latency.With({"/v2/users/{id}"}).Observe(0.5);
  latency.With({"/v2/users/{id}"}).Observe(5);
  const std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE t_requests_total counter\nt_requests_total{api=\"catalyze\",code=\"2xx\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("t_depth 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_bucket{route=\"/v2/users/{id}\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_bucket{route=\"/v2/users/{id}\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_bucket{route=\"/v2/users/{id}\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_count{route=\"/v2/users/{id}\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_sum{route=\"/v2/users/{id}\"} 5.55\n"), std::string::npos) << text;
}

TEST(MetricsTest, EscapesLabelValues) {
  Registry r;
  r.AddCounter("t_total", "x", {"v"}).With({"a\"b\\c\nd"}).Inc();
  EXPECT_NE(r.Render().find("t_total{v=\"a\\\"b\\\\c\\nd\"} 1"), std::string::npos);
}

TEST(MetricsTest, CollectorsRunAtRenderUntilTheirHandleGoes) {
  Registry r;
  int calls = 0;
  {
    auto handle = r.AddCollector([&](Sample& s) {
      ++calls;
      s.Gauge("t_queue", "Queue.", 7);
    });
    EXPECT_NE(r.Render().find("t_queue 7\n"), std::string::npos);
  }
  EXPECT_EQ(r.Render().find("t_queue"), std::string::npos);
  EXPECT_EQ(calls, 1);
}

TEST(MetricsTest, ProcessFiguresArePresent) {
  Registry r;
  auto handle = r.AddCollector(CollectProcess);
  const std::string text = r.Render();
  for (const char* name : {"process_resident_memory_bytes ", "process_open_fds ", "process_cpu_seconds_total ",
                           "process_max_fds ", "process_start_time_seconds "})
    EXPECT_NE(text.find(name), std::string::npos) << name << "\n" << text;
}

TEST(MetricsTest, StatusClasses) {
  EXPECT_EQ(StatusClass(200), "2xx");
  EXPECT_EQ(StatusClass(404), "4xx");
  EXPECT_EQ(StatusClass(503), "5xx");
  EXPECT_EQ(StatusClass(0), "5xx");
}

}  // namespace
}  // namespace roster::metrics

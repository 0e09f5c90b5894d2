// A small metrics registry rendered in the Prometheus text exposition format (0.0.4).
// Counters, gauges and histograms in labelled families, plus collectors that report
// values read at scrape time (queue depths, pool use, process figures). Label values
// are for bounded sets only (API names, route templates, status classes, actions):
// never a path value, user id, username or email.
//
// Registry::Global() is the process's registry: services count into it where the
// event happens; the composition root renders it at GET /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace roster::metrics {

class Counter {
 public:
  void Inc(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;  // per bucket, +Inf last
  double sum_ = 0;
};

// Latency buckets in seconds: 1 ms to 10 s.
const std::vector<double>& LatencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// One metric name with its label names; each set of label values is one child,
// created on first use and kept for the life of the process.
template <class M>
class Family {
 public:
  // `label_values` in the order of the family's label names.
  M& With(std::initializer_list<std::string_view> label_values);
  M& With(const std::vector<std::string>& label_values);

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> bounds = {})
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), bounds_(std::move(bounds)) {}
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

// What a collector writes at scrape time.
class Sample {
 public:
  // One metric with one value (and optional constant labels). Each name once per scrape.
  void Gauge(std::string_view name, std::string_view help, double value,
             std::vector<std::pair<std::string, std::string>> labels = {});
  void Counter(std::string_view name, std::string_view help, double value);

 private:
  friend class Registry;
  std::string out_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Families are registered once (the same name again returns the same family).
  Family<Counter>& AddCounter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help, std::vector<std::string> labels,
                                  std::vector<double> bounds);

  // A collector runs at every Render(); it lives until the returned handle is destroyed.
  using Collector = std::function<void(Sample&)>;
  class Registration {
   public:
    Registration(Registry* registry, std::uint64_t id) : registry_(registry), id_(id) {}
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

   private:
    Registry* registry_;
    std::uint64_t id_;
  };
  [[nodiscard]] std::unique_ptr<Registration> AddCollector(Collector collector);

  // The whole registry in the Prometheus text format.
  std::string Render() const;

  static Registry& Global();

 private:
  struct Entry {
    Type type;
    void* family;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> families_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
  std::map<std::uint64_t, Collector> collectors_;
  std::uint64_t next_collector_ = 1;
};

// Process figures from /proc/self (Linux): resident memory, virtual memory, open file
// descriptors and their limit, CPU seconds, start time; the standard process_* names.
void CollectProcess(Sample& sample);

// "2xx" for 200..299 and so on.
std::string StatusClass(int status);

}  // namespace roster::metrics

#include "metrics/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace roster::metrics {
namespace {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void EscapeLabel(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void EscapeHelp(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void Header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  EscapeHelp(out, help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// {a="x",b="y"} with an optional extra label (le) last; empty when there are none.
std::string LabelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    EscapeLabel(out, i < values.size() ? values[i] : std::string_view());
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

template <class M>
std::unique_ptr<M> Make(const std::vector<double>&) {
  return std::make_unique<M>();
}
template <>
std::unique_ptr<Histogram> Make<Histogram>(const std::vector<double>& bounds) {
  return std::make_unique<Histogram>(bounds);
}

}  // namespace

void Gauge::Add(double by) {
  double current = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(current, current + by, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  std::lock_guard lock(mu_);
  ++counts_[static_cast<std::size_t>(at)];
  sum_ += value;
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  std::lock_guard lock(mu_);
  std::uint64_t running = 0;
  for (auto c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_;
  return s;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

template <class M>
M& Family<M>::With(const std::vector<std::string>& label_values) {
  std::lock_guard lock(mu_);
  auto& child = children_[label_values];
  if (!child) child = Make<M>(bounds_);
  return *child;
}

template <class M>
M& Family<M>::With(std::initializer_list<std::string_view> label_values) {
  std::vector<std::string> values;
  values.reserve(label_values.size());
  for (auto v : label_values) values.emplace_back(v);
  return With(values);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Sample::Gauge(std::string_view name, std::string_view help, double value,
                   std::vector<std::pair<std::string, std::string>> labels) {
  Header(out_, name, help, "gauge");
  out_ += name;
  if (!labels.empty()) {
    std::vector<std::string> names, values;
    for (auto& [n, v] : labels) {
      names.push_back(n);
      values.push_back(v);
    }
    out_ += LabelSet(names, values);
  }
  out_ += ' ' + FormatValue(value) + '\n';
}

void Sample::Counter(std::string_view name, std::string_view help, double value) {
  Header(out_, name, help, "counter");
  out_ += name;
  out_ += ' ' + FormatValue(value) + '\n';
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) return *static_cast<Family<Counter>*>(it->second.family);
  counters_.emplace_back(new Family<Counter>(name, help, std::move(labels)));
  families_[name] = {Type::kCounter, counters_.back().get()};
  return *counters_.back();
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) return *static_cast<Family<Gauge>*>(it->second.family);
  gauges_.emplace_back(new Family<Gauge>(name, help, std::move(labels)));
  families_[name] = {Type::kGauge, gauges_.back().get()};
  return *gauges_.back();
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end())
    return *static_cast<Family<Histogram>*>(it->second.family);
  histograms_.emplace_back(new Family<Histogram>(name, help, std::move(labels), std::move(bounds)));
  families_[name] = {Type::kHistogram, histograms_.back().get()};
  return *histograms_.back();
}

std::unique_ptr<Registry::Registration> Registry::AddCollector(Collector collector) {
  std::lock_guard lock(mu_);
  const auto id = next_collector_++;
  collectors_[id] = std::move(collector);
  return std::make_unique<Registration>(this, id);
}

Registry::Registration::~Registration() {
  std::lock_guard lock(registry_->mu_);
  registry_->collectors_.erase(id_);
}

std::string Registry::Render() const {
  std::string out;
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, entry] : families_) {
      if (entry.type == Type::kCounter) {
        auto& f = *static_cast<Family<Counter>*>(entry.family);
        Header(out, name, f.help_, "counter");
        std::lock_guard family_lock(f.mu_);
        for (const auto& [values, child] : f.children_)
          out += name + LabelSet(f.labels_, values) + ' ' + FormatValue(static_cast<double>(child->Value())) + '\n';
      } else if (entry.type == Type::kGauge) {
        auto& f = *static_cast<Family<Gauge>*>(entry.family);
        Header(out, name, f.help_, "gauge");
        std::lock_guard family_lock(f.mu_);
        for (const auto& [values, child] : f.children_)
          out += name + LabelSet(f.labels_, values) + ' ' + FormatValue(child->Value()) + '\n';
      } else {
        auto& f = *static_cast<Family<Histogram>*>(entry.family);
        Header(out, name, f.help_, "histogram");
        std::lock_guard family_lock(f.mu_);
        for (const auto& [values, child] : f.children_) {
          const auto snap = child->Read();
          const auto& bounds = child->bounds();
          for (std::size_t i = 0; i <= bounds.size(); ++i) {
            const std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
            out += name + "_bucket" + LabelSet(f.labels_, values, "le", le) + ' ' +
                   FormatValue(static_cast<double>(snap.cumulative[i])) + '\n';
          }
          out += name + "_sum" + LabelSet(f.labels_, values) + ' ' + FormatValue(snap.sum) + '\n';
          out += name + "_count" + LabelSet(f.labels_, values) + ' ' + FormatValue(static_cast<double>(snap.count)) +
                 '\n';
        }
      }
    }
    for (const auto& [id, c] : collectors_) collectors.push_back(c);
  }
  // Collectors run outside the lock: they may take their own (a store query, say).
  for (const auto& c : collectors) {
    Sample sample;
    try {
      c(sample);
    } catch (...) {
      continue;  // a failing collector leaves its figures out of this scrape
    }
    out += sample.out_;
  }
  return out;
}

Registry& Registry::Global() {
  static Registry* registry = new Registry();  // never destroyed: counted into until exit
  return *registry;
}

void CollectProcess(Sample& sample) {
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Fields after the command name (which may hold spaces) start at field 3.
    const auto close = line.rfind(')');
    std::istringstream rest(close == std::string::npos ? std::string() : line.substr(close + 2));
    std::vector<std::string> f;
    for (std::string item; rest >> item;) f.push_back(item);
    // f[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
    if (f.size() > 21) {
      const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      sample.Counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", cpu);
      sample.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", std::stod(f[20]));
      sample.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", std::stod(f[21]) * page);
      double boot = 0;
      std::ifstream system_stat("/proc/stat");
      for (std::string l; std::getline(system_stat, l);)
        if (l.rfind("btime ", 0) == 0) boot = std::stod(l.substr(6));
      if (boot > 0)
        sample.Gauge("process_start_time_seconds", "Start time of the process since the epoch, in seconds.",
                     boot + std::stod(f[19]) / ticks);
    }
  }
  double fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') ++fds;
    ::closedir(dir);
    sample.Gauge("process_open_fds", "Open file descriptors.", fds - 1);  // less the one reading the folder
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0)
    sample.Gauge("process_max_fds", "Limit on open file descriptors.", static_cast<double>(limit.rlim_cur));
}

std::string StatusClass(int status) {
  if (status < 100 || status > 599) return "5xx";
  return std::to_string(status / 100) + "xx";
}

}  // namespace roster::metrics

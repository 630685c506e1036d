/* SPDX-License-Identifier: Apache-2.0 */
// Library micro-benchmarks L1-L6 for prometheus-cpp (Debian prometheus-cpp-dev), the same workloads
// and inputs as bench/lib_promc.c, printing the same RESULT line.  Usage: bench_cpp WORKLOAD N
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "../bench_mem.h"

using prometheus::Counter;
using prometheus::Histogram;
using prometheus::Registry;

namespace {

constexpr int kValues = 1000;
constexpr int kObsValues = 4096;

double now_ns() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void result(const char* w, long n, double ns, bool ok) {
  std::printf("RESULT impl=prometheus-cpp workload=%s n=%ld ns_op=%.3f ms=%.3f check=%s "
              "peak_rss_kb=%ld\n",
              w, n, ns / n, ns / 1e6, ok ? "ok" : "WRONG", bench_peak_rss_kb());
}

prometheus::Family<Counter>& counter_family(Registry& r, const char* name) {
  return prometheus::BuildCounter().Name(name).Help("Benchmark counter.").Register(r);
}

void l1(long n) {
  Registry r;
  Counter& c = counter_family(r, "bench_l1").Add({});
  double t0 = now_ns();
  for (long i = 0; i < n; i++) c.Increment();
  double t = now_ns() - t0;
  result("L1", n, t, c.Value() == double(n));
}

void l2(long n) {
  Registry r;
  Counter& c = counter_family(r, "bench_l2").Add({});
  double t0 = now_ns();
  std::thread a([&] { for (long i = 0; i < n; i++) c.Increment(); });
  std::thread b([&] { for (long i = 0; i < n; i++) c.Increment(); });
  a.join();
  b.join();
  double t = now_ns() - t0;
  result("L2", 2 * n, t, c.Value() == 2.0 * double(n));
}

void l3(long n, bool kept) {
  Registry r;
  auto& fam = counter_family(r, "bench_l3");
  std::vector<std::string> vals;
  for (int i = 0; i < kValues; i++) vals.push_back("v" + std::to_string(i));
  if (kept) {
    Counter& c = fam.Add({{"id", vals[7]}});
    double t0 = now_ns();
    for (long i = 0; i < n; i++) c.Increment();
    double t = now_ns() - t0;
    result("L3k", n, t, c.Value() == double(n));
    return;
  }
  // Family::Add with labels that exist returns the existing child: prometheus-cpp's lookup by value.
  double t0 = now_ns();
  for (long i = 0; i < n; i++) fam.Add({{"id", vals[i % kValues]}}).Increment();
  double t = now_ns() - t0;
  double want = double((n + kValues - 1) / kValues);
  result("L3", n, t, fam.Add({{"id", vals[0]}}).Value() == want);
}

void l6(long n) {
  Registry r;
  // client_python's default buckets; prometheus-cpp has no default set.
  Histogram::BucketBoundaries b{.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10};
  auto& fam = prometheus::BuildHistogram().Name("bench_l6").Help("Benchmark histogram.").Register(r);
  Histogram& h = fam.Add({}, b);
  std::vector<double> v(kObsValues);
  for (uint32_t i = 0; i < kObsValues; i++) {
    uint32_t x = i * 2654435761u;
    v[i] = 0.001 * std::pow(10.0, 4.0 * (double(x) / 4294967296.0));
  }
  double t0 = now_ns();
  for (long i = 0; i < n; i++) h.Observe(v[i & (kObsValues - 1)]);
  double t = now_ns() - t0;
  result("L6", n, t, h.Collect().histogram.sample_count == uint64_t(n));
}

// L9: L6's values into a summary with the quantiles 0.5/0.05, 0.9/0.01, 0.99/0.001 (as
// bench/lib_promc.c), prometheus-cpp's default window (60 s, 5 age buckets).
void l9(long n) {
  Registry r;
  auto& fam = prometheus::BuildSummary().Name("bench_l9").Help("Benchmark summary.").Register(r);
  prometheus::Summary& s =
      fam.Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}});
  std::vector<double> v(kObsValues);
  for (uint32_t i = 0; i < kObsValues; i++) {
    uint32_t x = i * 2654435761u;
    v[i] = 0.001 * std::pow(10.0, 4.0 * (double(x) / 4294967296.0));
  }
  double t0 = now_ns();
  for (long i = 0; i < n; i++) s.Observe(v[i & (kObsValues - 1)]);
  double t = now_ns() - t0;
  result("L9", n, t, s.Collect().summary.sample_count == uint64_t(n));
}

// A streambuf that only counts what it is given.
class CountBuf : public std::streambuf {
 public:
  size_t bytes = 0;

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    bytes += size_t(n);
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) bytes++;
    return traits_type::not_eof(c);
  }
};

void render(const char* w, long n) {
  long rss0 = bench_rss_kb();
  auto r = std::make_shared<Registry>();
  auto& fam = counter_family(*r, "bench_render_total");
  double s0 = now_ns();
  for (long i = 0; i < n; i++) fam.Add({{"id", std::to_string(i)}}).Increment();
  double setup = now_ns() - s0;
  long rss1 = bench_rss_kb();
  long peak_setup = bench_peak_rss_kb();
  int reset = bench_reset_peak();

  // What prometheus-cpp's exposer does for a scrape: Collect() then serialize.
  CountBuf cb;
  std::ostream out(&cb);
  double t0 = now_ns();
  prometheus::TextSerializer().Serialize(out, r->Collect());
  out.flush();
  double t = now_ns() - t0;
  long peak_render = bench_peak_rss_kb();
  long peak = peak_render > peak_setup ? peak_render : peak_setup;
  std::printf("RESULT impl=prometheus-cpp workload=%s n=%ld ns_op=%.3f ms=%.3f check=ok "
              "peak_rss_kb=%ld bytes=%zu setup_ms=%.1f setup_kb=%ld bytes_per_child=%.1f "
              "render_growth_kb=%s%ld\n",
              w, n, t / n, t / 1e6, peak, cb.bytes, setup / 1e6, rss1 - rss0,
              double(rss1 - rss0) * 1024.0 / n, reset == 0 ? "" : "~", peak_render - rss1);
}

// L7: churn cycles, create the child for a new value, increment it, remove it.
void l7(long n) {
  Registry r;
  auto& fam = counter_family(r, "bench_l7");
  long rss0 = bench_rss_kb();
  double t0 = now_ns();
  for (long i = 0; i < n; i++) {
    Counter& c = fam.Add({{"id", "c" + std::to_string(i)}});
    c.Increment();
    fam.Remove(&c);
  }
  double t = now_ns() - t0;
  long rss1 = bench_rss_kb();
  bool ok = true;  // every child removed: no family has a metric left
  for (const auto& fam : r.Collect()) ok = ok && fam.metric.empty();
  std::printf("RESULT impl=prometheus-cpp workload=L7 n=%ld ns_op=%.3f ms=%.3f check=%s "
              "peak_rss_kb=%ld growth_kb=%ld\n",
              n, t / n, t / 1e6, ok ? "ok" : "WRONG", bench_peak_rss_kb(), rss1 - rss0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_cpp L1|L2|L3|L3k|L6|L4|L5|L7 N\n");
    return 2;
  }
  std::string w = argv[1];
  long n = std::strtol(argv[2], nullptr, 10);
  if (n <= 0) return 2;
  if (w == "L1") l1(n);
  else if (w == "L2") l2(n);
  else if (w == "L3") l3(n, false);
  else if (w == "L3k") l3(n, true);
  else if (w == "L6") l6(n);
  else if (w == "L9") l9(n);
  else if (w == "L7") l7(n);
  else if (w == "L4" || w == "L5") render(w.c_str(), n);
  else {
    std::fprintf(stderr, "bench_cpp: unknown workload '%s'\n", w.c_str());
    return 2;
  }
  return 0;
}

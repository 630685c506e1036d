// SPDX-License-Identifier: Apache-2.0

// Library micro-benchmarks L1-L6 for client_golang (Debian golang-github-prometheus-client-golang-dev),
// the same workloads and inputs as bench/lib_promc.c, printing the same RESULT line.
// Usage: bench_go WORKLOAD N
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

const values = 1000
const obsValues = 4096

// statusKB reads one "Key: N kB" line of /proc/self/status.
func statusKB(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, key+":") {
			fields := strings.Fields(line[len(key)+1:])
			if len(fields) > 0 {
				v, _ := strconv.ParseInt(fields[0], 10, 64)
				return v
			}
		}
	}
	return -1
}

// resetPeak resets VmHWM to the current RSS (Linux >= 4.0).
func resetPeak() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

func result(w string, n int64, d time.Duration, ok bool) {
	check := "WRONG"
	if ok {
		check = "ok"
	}
	ns := float64(d.Nanoseconds())
	fmt.Printf("RESULT impl=client_golang workload=%s n=%d ns_op=%.3f ms=%.3f check=%s peak_rss_kb=%d\n",
		w, n, ns/float64(n), ns/1e6, check, statusKB("VmHWM"))
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func newCounter(r *prometheus.Registry, name string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: "Benchmark counter."})
	r.MustRegister(c)
	return c
}

func newVec(r *prometheus.Registry, name string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "Benchmark counter."}, []string{"id"})
	r.MustRegister(v)
	return v
}

func l1(n int64) {
	c := newCounter(prometheus.NewRegistry(), "bench_l1")
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		c.Inc()
	}
	d := time.Since(t0)
	result("L1", n, d, counterValue(c) == float64(n))
}

func l2(n int64) {
	c := newCounter(prometheus.NewRegistry(), "bench_l2")
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(0); i < n; i++ {
				c.Inc()
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	result("L2", 2*n, d, counterValue(c) == 2*float64(n))
}

func l3(n int64, kept bool) {
	v := newVec(prometheus.NewRegistry(), "bench_l3")
	vals := make([]string, values)
	for i := range vals {
		vals[i] = "v" + strconv.Itoa(i)
	}
	if kept {
		c := v.WithLabelValues(vals[7])
		t0 := time.Now()
		for i := int64(0); i < n; i++ {
			c.Inc()
		}
		d := time.Since(t0)
		result("L3k", n, d, counterValue(c) == float64(n))
		return
	}
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		v.WithLabelValues(vals[i%values]).Inc()
	}
	d := time.Since(t0)
	want := float64((n + values - 1) / values)
	result("L3", n, d, counterValue(v.WithLabelValues(vals[0])) == want)
}

func l6(n int64) {
	r := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bench_l6", Help: "Benchmark histogram.",
		Buckets: []float64{.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10}})
	r.MustRegister(h)
	v := make([]float64, obsValues)
	for i := uint32(0); i < obsValues; i++ {
		x := i * 2654435761
		v[i] = 0.001 * math.Pow(10, 4*(float64(x)/4294967296.0))
	}
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		h.Observe(v[i&(obsValues-1)])
	}
	d := time.Since(t0)
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		panic(err)
	}
	result("L6", n, d, m.GetHistogram().GetSampleCount() == uint64(n))
}

// l8: L6's observations, each with an exemplar; l9: the same values into a summary with
// objectives 0.5:0.05, 0.9:0.01, 0.99:0.001 (as bench/lib_promc.c).
func l8(n int64) {
	r := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bench_l8", Help: "Benchmark histogram.",
		Buckets: []float64{.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10}})
	r.MustRegister(h)
	v := make([]float64, obsValues)
	for i := uint32(0); i < obsValues; i++ {
		x := i * 2654435761
		v[i] = 0.001 * math.Pow(10, 4*(float64(x)/4294967296.0))
	}
	eo := h.(prometheus.ExemplarObserver)
	ex := prometheus.Labels{"trace_id": "4bf92f3577b34da6"}
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		eo.ObserveWithExemplar(v[i&(obsValues-1)], ex)
	}
	d := time.Since(t0)
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		panic(err)
	}
	result("L8", n, d, m.GetHistogram().GetSampleCount() == uint64(n))
}

func l9(n int64) {
	r := prometheus.NewRegistry()
	s := prometheus.NewSummary(prometheus.SummaryOpts{Name: "bench_l9", Help: "Benchmark summary.",
		Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}})
	r.MustRegister(s)
	v := make([]float64, obsValues)
	for i := uint32(0); i < obsValues; i++ {
		x := i * 2654435761
		v[i] = 0.001 * math.Pow(10, 4*(float64(x)/4294967296.0))
	}
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		s.Observe(v[i&(obsValues-1)])
	}
	d := time.Since(t0)
	var m dto.Metric
	if err := s.Write(&m); err != nil {
		panic(err)
	}
	result("L9", n, d, m.GetSummary().GetSampleCount() == uint64(n))
}

// l10: L6's values into a native histogram (factor 1.1, no classic buckets); threads 2 is
// L10m, two goroutines into one histogram, ns = wall / all observations (as L2).
func l10(n int64, threads int) {
	r := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bench_l10", Help: "Benchmark histogram.",
		NativeHistogramBucketFactor: 1.1})
	r.MustRegister(h)
	v := make([]float64, obsValues)
	for i := uint32(0); i < obsValues; i++ {
		x := i * 2654435761
		v[i] = 0.001 * math.Pow(10, 4*(float64(x)/4294967296.0))
	}
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := 0; g < threads; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(0); i < n; i++ {
				h.Observe(v[i&(obsValues-1)])
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	var m dto.Metric
	if err := h.(prometheus.Metric).Write(&m); err != nil {
		panic(err)
	}
	name := "L10"
	if threads > 1 {
		name = "L10m"
	}
	total := n * int64(threads)
	result(name, total, d, m.GetHistogram().GetSampleCount() == uint64(total))
}

type countWriter struct{ bytes int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	return len(p), nil
}

func render(w string, n int64) {
	rss0 := statusKB("VmRSS")
	r := prometheus.NewRegistry()
	v := newVec(r, "bench_render_total")
	s0 := time.Now()
	for i := int64(0); i < n; i++ {
		v.WithLabelValues(strconv.FormatInt(i, 10)).Inc()
	}
	setup := time.Since(s0)
	// Return the setup's garbage to the OS so that RSS counts what the children hold.
	runtime.GC()
	debug.FreeOSMemory()
	rss1 := statusKB("VmRSS")
	peakSetup := statusKB("VmHWM")
	approx := "~"
	if resetPeak() {
		approx = ""
	}

	// What promhttp does for a scrape: Gather, then encode every family as text.
	cw := &countWriter{}
	t0 := time.Now()
	mfs, err := r.Gather()
	if err != nil {
		panic(err)
	}
	format := expfmt.FmtText
	if w == "L11" {
		format = expfmt.FmtProtoDelim // L11: the same registry in protobuf
	}
	enc := expfmt.NewEncoder(cw, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			panic(err)
		}
	}
	d := time.Since(t0)
	peakRender := statusKB("VmHWM")
	peak := peakSetup
	if peakRender > peak {
		peak = peakRender
	}
	ns := float64(d.Nanoseconds())
	fmt.Printf("RESULT impl=client_golang workload=%s n=%d ns_op=%.3f ms=%.3f check=ok peak_rss_kb=%d "+
		"bytes=%d setup_ms=%.1f setup_kb=%d bytes_per_child=%.1f render_growth_kb=%s%d\n",
		w, n, ns/float64(n), ns/1e6, peak, cw.bytes, float64(setup.Nanoseconds())/1e6, rss1-rss0,
		float64(rss1-rss0)*1024/float64(n), approx, peakRender-rss1)
	runtime.KeepAlive(mfs)
}

// l7: churn cycles, create the child for a new value, increment it, delete it.
func l7(n int64) {
	r := prometheus.NewRegistry()
	v := newVec(r, "bench_l7")
	runtime.GC()
	debug.FreeOSMemory()
	rss0 := statusKB("VmRSS")
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		s := "c" + strconv.FormatInt(i, 10)
		v.WithLabelValues(s).Inc()
		if !v.DeleteLabelValues(s) {
			fmt.Fprintln(os.Stderr, "bench_go: DeleteLabelValues found nothing")
			os.Exit(1)
		}
	}
	d := time.Since(t0)
	// Live data only, as for the render workloads: what the cycles left behind.
	runtime.GC()
	debug.FreeOSMemory()
	rss1 := statusKB("VmRSS")
	mfs, err := r.Gather()
	ok := err == nil && len(mfs) == 0
	ns := float64(d.Nanoseconds())
	check := "WRONG"
	if ok {
		check = "ok"
	}
	fmt.Printf("RESULT impl=client_golang workload=L7 n=%d ns_op=%.3f ms=%.3f check=%s peak_rss_kb=%d growth_kb=%d\n",
		n, ns/float64(n), ns/1e6, check, statusKB("VmHWM"), rss1-rss0)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bench_go L1|L2|L3|L3k|L6|L4|L5|L7 N")
		os.Exit(2)
	}
	n, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "bench_go: N must be a positive integer")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "L1":
		l1(n)
	case "L2":
		l2(n)
	case "L3":
		l3(n, false)
	case "L3k":
		l3(n, true)
	case "L6":
		l6(n)
	case "L8":
		l8(n)
	case "L9":
		l9(n)
	case "L7":
		l7(n)
	case "L10":
		l10(n, 1)
	case "L10m":
		l10(n, 2)
	case "L4", "L5", "L11":
		render(os.Args[1], n)
	default:
		fmt.Fprintf(os.Stderr, "bench_go: unknown workload %q\n", os.Args[1])
		os.Exit(2)
	}
}

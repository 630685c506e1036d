// SPDX-License-Identifier: Apache-2.0

// client_golang's side of the protobuf differential test (protobuf_vs_golang.py): runs the
// scenario file given - the same one tests/conformance/protobuf_scenario.c runs on promc - and
// writes what a scrape gathers as length-delimited MetricFamily messages to stdout.  Built with
// Debian's client_golang 1.14 (GO111MODULE=off, GOPATH=/usr/share/gocode).
//
// Scenario lines (fields separated by one space; "-" for no labels; label values joined by ','):
//   counter|gauge|summary NAME HELP LABELNAMES
//   histogram NAME HELP LABELNAMES BOUNDS           (BOUNDS: comma-separated)
//   summaryq NAME HELP LABELNAMES                   (objectives 0.5:0.05 0.9:0.01 0.99:0.001)
//   nhistogram NAME HELP LABELNAMES FACTOR ZERO_THRESHOLD MAX_BUCKETS MAX_ZERO_THRESHOLD BOUNDS|-
//   add|set|observe NAME VALUES NUMBER
//   exemplar NAME VALUES NUMBER KEY=VALUE[,KEY=VALUE]
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

func split(s string) []string {
	if s == "-" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func main() {
	reg := prometheus.NewPedanticRegistry()
	counters := map[string]*prometheus.CounterVec{}
	gauges := map[string]*prometheus.GaugeVec{}
	hists := map[string]*prometheus.HistogramVec{}
	sums := map[string]*prometheus.SummaryVec{}
	f, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		t := strings.Split(line, " ")
		switch t[0] {
		case "counter":
			// promc takes a counter's name without _total, as client_python does.
			v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: t[1] + "_total", Help: t[2]}, split(t[3]))
			reg.MustRegister(v)
			counters[t[1]] = v
		case "gauge":
			v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: t[1], Help: t[2]}, split(t[3]))
			reg.MustRegister(v)
			gauges[t[1]] = v
		case "histogram":
			var b []float64
			for _, s := range split(t[4]) {
				x, _ := strconv.ParseFloat(s, 64)
				b = append(b, x)
			}
			v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: t[1], Help: t[2], Buckets: b}, split(t[3]))
			reg.MustRegister(v)
			hists[t[1]] = v
		case "nhistogram":
			// NAME HELP LABELNAMES FACTOR ZERO_THRESHOLD MAX_BUCKETS MAX_ZERO_THRESHOLD BOUNDS|-
			num := func(i int) float64 {
				x, err := strconv.ParseFloat(t[i], 64)
				if err != nil {
					panic(line)
				}
				return x
			}
			o := prometheus.HistogramOpts{Name: t[1], Help: t[2],
				NativeHistogramBucketFactor:     num(4),
				NativeHistogramZeroThreshold:    num(5),
				NativeHistogramMaxBucketNumber:  uint32(num(6)),
				NativeHistogramMaxZeroThreshold: num(7)}
			for _, s := range split(t[8]) {
				x, _ := strconv.ParseFloat(s, 64)
				o.Buckets = append(o.Buckets, x)
			}
			v := prometheus.NewHistogramVec(o, split(t[3]))
			reg.MustRegister(v)
			hists[t[1]] = v
		case "summary", "summaryq":
			o := prometheus.SummaryOpts{Name: t[1], Help: t[2], MaxAge: time.Hour}
			if t[0] == "summaryq" {
				o.Objectives = map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}
			}
			v := prometheus.NewSummaryVec(o, split(t[3]))
			reg.MustRegister(v)
			sums[t[1]] = v
		case "add", "set", "observe", "exemplar":
			x, err := strconv.ParseFloat(t[3], 64)
			if err != nil {
				panic(line)
			}
			lv := split(t[2])
			var ex prometheus.Labels
			if t[0] == "exemplar" {
				ex = prometheus.Labels{}
				for _, kv := range strings.Split(t[4], ",") {
					p := strings.SplitN(kv, "=", 2)
					ex[p[0]] = p[1]
				}
			}
			if c, ok := counters[t[1]]; ok {
				if ex != nil {
					c.WithLabelValues(lv...).(prometheus.ExemplarAdder).AddWithExemplar(x, ex)
				} else {
					c.WithLabelValues(lv...).Add(x)
				}
			} else if g, ok := gauges[t[1]]; ok {
				if t[0] == "set" {
					g.WithLabelValues(lv...).Set(x)
				} else {
					g.WithLabelValues(lv...).Add(x)
				}
			} else if h, ok := hists[t[1]]; ok {
				if ex != nil {
					h.WithLabelValues(lv...).(prometheus.ExemplarObserver).ObserveWithExemplar(x, ex)
				} else {
					h.WithLabelValues(lv...).Observe(x)
				}
			} else if s, ok := sums[t[1]]; ok {
				s.WithLabelValues(lv...).Observe(x)
			} else {
				panic("unknown metric: " + line)
			}
		default:
			panic("unknown line: " + line)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	w := bufio.NewWriter(os.Stdout)
	enc := expfmt.NewEncoder(w, expfmt.FmtProtoDelim)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			panic(err)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

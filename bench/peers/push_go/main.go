// SPDX-License-Identifier: Apache-2.0

// The push benchmark for client_golang's push package (Debian
// golang-github-prometheus-client-golang-dev): a GaugeVec of N children pushed (PUT) to a
// Pushgateway REPS times, the group deleted after each push (not timed), as bench/push_textfile.c
// does for promc.  Prints one line: "push go N ms1 ms2 ...".
// Usage: bench_push_go URL N REPS
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: bench_push_go URL N REPS")
		os.Exit(2)
	}
	url := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	reps, _ := strconv.Atoi(os.Args[3])
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "push_series", Help: "Many."},
		[]string{"id"})
	reg.MustRegister(g)
	for i := 0; i < n; i++ {
		g.WithLabelValues(strconv.Itoa(i)).Set(float64(i))
	}
	p := push.New(url, "bench_go").Gatherer(reg)
	fmt.Printf("push go %d", n)
	for r := 0; r < reps; r++ {
		t0 := time.Now()
		if err := p.Push(); err != nil {
			fmt.Fprintln(os.Stderr, "push:", err)
			os.Exit(1)
		}
		fmt.Printf(" %.2f", float64(time.Since(t0).Microseconds())/1000)
		if err := p.Delete(); err != nil {
			fmt.Fprintln(os.Stderr, "delete:", err)
			os.Exit(1)
		}
	}
	fmt.Println()
}

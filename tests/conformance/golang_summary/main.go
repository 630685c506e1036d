// SPDX-License-Identifier: Apache-2.0

// client_golang's side of the summary-quantile differential test: the observations of the file
// given (one per line) into a Summary with objectives 0.5:0.05, 0.9:0.01, 0.99:0.001, then each
// quantile printed as "q value".  Built with Debian's client_golang (GO111MODULE=off,
// GOPATH=/usr/share/gocode).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func main() {
	s := prometheus.NewSummary(prometheus.SummaryOpts{
		Name:       "s",
		Help:       "S.",
		Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
		MaxAge:     time.Hour,
	})
	f, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, err := strconv.ParseFloat(sc.Text(), 64)
		if err != nil {
			panic(err)
		}
		s.Observe(v)
	}
	var m dto.Metric
	if err := s.Write(&m); err != nil {
		panic(err)
	}
	for _, q := range m.GetSummary().GetQuantile() {
		fmt.Printf("%g %.17g\n", q.GetQuantile(), q.GetValue())
	}
}

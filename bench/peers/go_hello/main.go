// SPDX-License-Identifier: Apache-2.0

// The tutorial's example-001 service written with client_golang (Debian
// golang-github-prometheus-client-golang-dev): /hello on one port (net/http), /metrics on another
// (promhttp on the default registry, with its Go and process collectors), the same three counters.
// -bench-children N adds a counter family with N children (label "id") for the big-scrape test.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand"
	"net"
	"net/http"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	kitlog "github.com/go-kit/log"
)

var (
	requests   = promauto.NewCounter(prometheus.CounterOpts{Name: "hello_worlds_requests_total", Help: "Hello Worlds requested."})
	wrong      = promauto.NewCounter(prometheus.CounterOpts{Name: "wrong_requests_total", Help: "Wrong Requests received."})
	exceptions = promauto.NewCounter(prometheus.CounterOpts{Name: "hello_world_exceptions_total", Help: "Exceptions serving Hello World."})
)

var helloBody = []byte("Hello World")

func main() {
	port := flag.Int("port", 8001, "port for /hello")
	metricsPort := flag.Int("metrics-port", 8000, "port for /metrics")
	bind := flag.String("bind", "", "address to bind (default: all)")
	failRate := flag.Float64("fail-rate", 0.2, "fraction of /hello requests that fail after answering")
	children := flag.Int("bench-children", 0, "add a counter family with this many children")
	webConfig := flag.String("web-config-file", "", "exporter-toolkit web configuration of the metrics port (TLS, basic auth)")
	flag.Parse()

	if *children > 0 {
		big := promauto.NewCounterVec(prometheus.CounterOpts{Name: "bench_children_total", Help: "Benchmark family."}, []string{"id"})
		for i := 0; i < *children; i++ {
			big.WithLabelValues(strconv.Itoa(i)).Inc()
		}
	}

	hello := http.NewServeMux()
	hello.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/hello" {
			wrong.Inc()
			http.NotFound(w, r)
			return
		}
		requests.Inc()
		w.Write(helloBody)
		if rand.Float64() < *failRate {
			exceptions.Inc()
		}
	})
	metrics := http.NewServeMux()
	metrics.Handle("/metrics", promhttp.Handler())

	ml, err := net.Listen("tcp", net.JoinHostPort(*bind, strconv.Itoa(*metricsPort)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_hello:", err)
		os.Exit(1)
	}
	hl, err := net.Listen("tcp", net.JoinHostPort(*bind, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_hello:", err)
		os.Exit(1)
	}
	if *webConfig != "" {
		// The metrics port as an exporter serves it: through the exporter-toolkit.
		srv := &http.Server{Handler: metrics}
		systemd := false
		flags := &web.FlagConfig{WebSystemdSocket: &systemd, WebConfigFile: webConfig}
		go func() { log.Fatal(web.Serve(ml, srv, flags, kitlog.NewNopLogger())) }()
	} else {
		go func() { log.Fatal(http.Serve(ml, metrics)) }()
	}
	fmt.Printf("Prometheus metrics available on port: %d /metrics\n", ml.Addr().(*net.TCPAddr).Port)
	fmt.Printf("HTTP server available on port %d\n", hl.Addr().(*net.TCPAddr).Port)
	log.Fatal(http.Serve(hl, hello))
}

// SPDX-License-Identifier: Apache-2.0
// The exporter-toolkit reference server for e2e_webconfig.py: the same web-config files go to
// this server and to example-001's metrics port, and both must answer alike.
//
//	toolkit_server -listen 127.0.0.1:PORT -web-config FILE   serves /metrics (200 "ok\n")
//	toolkit_server -ciphers                                  prints Go's tls.CipherSuites() names
//
// Built with GO111MODULE=off GOPATH=/usr/share/gocode from Debian's
// golang-github-prometheus-exporter-toolkit-dev.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net/http"
	"os"

	"github.com/go-kit/log"
	"github.com/prometheus/exporter-toolkit/web"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	config := flag.String("web-config", "", "web configuration file")
	ciphers := flag.Bool("ciphers", false, "print the cipher suite names the toolkit accepts")
	flag.Parse()
	if *ciphers {
		for _, c := range tls.CipherSuites() {
			fmt.Println(c.Name)
		}
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok\n")
	})
	srv := &http.Server{Handler: mux}
	addrs := []string{*listen}
	systemd := false
	logger := log.NewLogfmtLogger(os.Stderr)
	flags := &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &systemd, WebConfigFile: config}
	if err := web.ListenAndServe(srv, flags, logger); err != nil {
		fmt.Fprintln(os.Stderr, "toolkit_server:", err)
		os.Exit(1)
	}
}

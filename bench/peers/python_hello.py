#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The tutorial's example-001 service (Python, prometheus_client), as the benchmark's baseline.

The program is the tutorial's: three counters in the default registry, the metrics server from
start_http_server(), and a single-threaded http.server.HTTPServer for /hello that raises an exception
after answering one request in five.  Only these were added, for the benchmark:
  --port, --metrics-port, --bind, --fail-rate   instead of the fixed 8001, 8000, '' and 0.2
  --bench-children N                            a counter family with N children (label "id"),
                                                for the one-big-scrape measurement
"""
import argparse
import http.server
import random

from prometheus_client import Counter, start_http_server

REQUESTS = Counter('hello_worlds_requests', 'Hello Worlds requested.')
WRONG_REQUESTS = Counter('wrong_requests', 'Wrong Requests received.')
EXCEPTIONS = Counter('hello_world_exceptions', 'Exceptions serving Hello World.')

FAIL_RATE = 0.2


class MyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/hello':
            REQUESTS.inc()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'Hello World')

            with EXCEPTIONS.count_exceptions():
                if random.random() < FAIL_RATE:
                    raise Exception
        else:
            WRONG_REQUESTS.inc()
            self.send_error(404)


def main():
    global FAIL_RATE
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--port', type=int, default=8001)
    p.add_argument('--metrics-port', type=int, default=8000)
    p.add_argument('--bind', default='')
    p.add_argument('--fail-rate', type=float, default=0.2)
    p.add_argument('--bench-children', type=int, default=0)
    a = p.parse_args()
    FAIL_RATE = a.fail_rate

    if a.bench_children > 0:
        big = Counter('bench_children', 'Benchmark family.', ['id'])
        for i in range(a.bench_children):
            big.labels(str(i)).inc()

    start_http_server(a.metrics_port, addr=a.bind or '0.0.0.0')
    server = http.server.HTTPServer((a.bind, a.port), MyHandler)
    print('Prometheus metrics available on port: %d /metrics' % a.metrics_port, flush=True)
    print('HTTP server available on port %d' % a.port, flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()

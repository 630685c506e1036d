/* SPDX-License-Identifier: Apache-2.0 */
// The tutorial's example-001 service written with prometheus-cpp (Debian prometheus-cpp-dev):
// /metrics from prometheus-cpp's Exposer (civetweb inside), /hello from a second civetweb server
// through civetweb's C API (the same HTTP library, so the two ports behave alike).
// Usage: cpp_hello [--port N] [--metrics-port N] [--bind ADDR] [--fail-rate F]
//                  [--bench-children N] [--threads N]
#include <civetweb.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>

namespace {

struct Service {
  prometheus::Counter* requests;
  prometheus::Counter* wrong;
  prometheus::Counter* exceptions;
  double fail_rate;
};

int handle(struct mg_connection* conn, void* cbdata) {
  auto* s = static_cast<Service*>(cbdata);
  const struct mg_request_info* ri = mg_get_request_info(conn);
  if (ri->local_uri == nullptr || std::strcmp(ri->local_uri, "/hello") != 0) {
    s->wrong->Increment();
    mg_send_http_error(conn, 404, "%s", "Not Found");
    return 404;
  }
  s->requests->Increment();
  // Head and body in one write: two small writes would meet Nagle's algorithm and delayed ACKs.
  static const char response[] =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nHello World";
  mg_write(conn, response, sizeof response - 1);
  thread_local std::minstd_rand rng{std::random_device{}()};
  if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) < s->fail_rate) {
    s->exceptions->Increment();
  }
  return 200;
}

const char* arg_value(int& i, int argc, char** argv) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "cpp_hello: %s needs a value\n", argv[i]);
    std::exit(2);
  }
  return argv[++i];
}

}  // namespace

int main(int argc, char** argv) {
  std::string port = "8001", metrics_port = "8000", bind = "0.0.0.0", threads = "64";
  double fail_rate = 0.2;
  long children = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--port") port = arg_value(i, argc, argv);
    else if (a == "--metrics-port") metrics_port = arg_value(i, argc, argv);
    else if (a == "--bind") bind = arg_value(i, argc, argv);
    else if (a == "--fail-rate") fail_rate = std::atof(arg_value(i, argc, argv));
    else if (a == "--bench-children") children = std::atol(arg_value(i, argc, argv));
    else if (a == "--threads") threads = arg_value(i, argc, argv);
    else {
      std::fprintf(stderr, "cpp_hello: unknown argument %s\n", a.c_str());
      return 2;
    }
  }

  auto registry = std::make_shared<prometheus::Registry>();
  Service s{};
  s.requests = &prometheus::BuildCounter().Name("hello_worlds_requests_total")
                    .Help("Hello Worlds requested.").Register(*registry).Add({});
  s.wrong = &prometheus::BuildCounter().Name("wrong_requests_total")
                 .Help("Wrong Requests received.").Register(*registry).Add({});
  s.exceptions = &prometheus::BuildCounter().Name("hello_world_exceptions_total")
                      .Help("Exceptions serving Hello World.").Register(*registry).Add({});
  s.fail_rate = fail_rate;
  if (children > 0) {
    auto& big = prometheus::BuildCounter().Name("bench_children_total")
                    .Help("Benchmark family.").Register(*registry);
    for (long i = 0; i < children; i++) big.Add({{"id", std::to_string(i)}}).Increment();
  }

  // civetweb serves one connection per worker thread, so the Exposer gets enough workers for the
  // benchmark's 10 concurrent scrapers (its default is 2).
  prometheus::Exposer exposer{bind + ":" + metrics_port, 16};
  exposer.RegisterCollectable(registry);

  mg_init_library(0);
  std::string listen = bind + ":" + port;
  const char* options[] = {"listening_ports", listen.c_str(), "num_threads", threads.c_str(),
                           "enable_keep_alive", "yes", "keep_alive_timeout_ms", "30000", "tcp_nodelay", "1",
                           nullptr};
  struct mg_callbacks cb;
  std::memset(&cb, 0, sizeof cb);
  struct mg_context* ctx = mg_start(&cb, nullptr, options);
  if (ctx == nullptr) {
    std::fprintf(stderr, "cpp_hello: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  mg_set_request_handler(ctx, "/", handle, &s);
  std::printf("Prometheus metrics available on port: %s /metrics\n", metrics_port.c_str());
  std::printf("HTTP server available on port %s\n", port.c_str());
  std::fflush(stdout);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  mg_stop(ctx);
  mg_exit_library();
  return 0;
}

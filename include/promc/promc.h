/* SPDX-License-Identifier: Apache-2.0 */
/* promc — Prometheus instrumentation for C.  The umbrella header: include this one. */
#ifndef PROMC_H
#define PROMC_H

#include <promc/version.h>
#include <promc/base.h>
#include <promc/errors.h>
#include <promc/alloc.h>
#include <promc/metric.h>
#include <promc/registry.h>
#include <promc/expose.h>
#include <promc/handler.h>
#include <promc/http.h>
#include <promc/process.h>
#include <promc/push.h>
#include <promc/testutil.h>

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes and messages: one X-macro table (include/promc/errors.h) makes the enum, the names
 * and the messages.  Details of the last failure are kept per thread, so that concurrent callers
 * never see each other's text. */
#include <stdarg.h>
#include <stdio.h>
#include "err.h"

static _Thread_local char tls_detail[256];

const char *promc_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define XX(name, num, msg)                                                                         \
    case num:                                                                                      \
        return msg;
        PROMC_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown error";
}

const char *promc_err_name(int err)
{
    switch (err) {
    case 0:
        return "PROMC_OK";
#define XX(name, num, msg)                                                                         \
    case num:                                                                                      \
        return "PROMC_" #name;
        PROMC_ERRNO_MAP(XX)
#undef XX
    }
    return "PROMC_EUNKNOWN";
}

const char *promc_last_error(void)
{
    return tls_detail;
}

int promc__err(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_detail, sizeof tls_detail, fmt, ap);
    va_end(ap);
    return err;
}

void promc__err_clear(void)
{
    tls_detail[0] = '\0';
}

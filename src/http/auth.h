/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to src/http: basic authentication against a web configuration's users (auth.c). */
#ifndef PROMC_HTTP_AUTH_H
#define PROMC_HTTP_AUTH_H

#include <stdbool.h>

#include "webconfig.h"

/* One thread's cache of bcrypt results, and its crypt(3) scratch space. */
typedef struct promc__auth_cache promc__auth_cache_t;

promc__auth_cache_t *promc__auth_cache_new(void);
void promc__auth_cache_free(promc__auth_cache_t *cache);

/* Whether an Authorization header value ("Basic <base64 of user:password>") names a user of `c`
 * with that user's password.  NULL or another scheme: false. */
bool promc__auth_check(promc__auth_cache_t *cache, const promc__webcfg_t *c,
                       const char *authorization);

#endif

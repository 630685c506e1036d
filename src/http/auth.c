/* SPDX-License-Identifier: Apache-2.0 */
/* basic_auth_users: an Authorization header checked against the bcrypt hashes of the web
 * configuration, as the exporter-toolkit checks it.
 *
 * bcrypt is slow by design (cost 10 is some 50 ms), so results are cached per thread by a digest
 * of (user, hash, password): a scraper that sends the same credentials every 15 s pays once.  A
 * name that is no user is checked against a hash of our own all the same, so that timing does not
 * tell users from non-users; the final comparison of crypt(3)'s output with the hash is
 * constant-time. */
#include "auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "alloc.h"

#define CACHE_SLOTS 64

/* Of a password no user has: checked when the name is unknown, so that an unknown name costs a
 * bcrypt like a known one. */
static const char dummy_hash[] = "$2y$10$LdBP2/65Hz2Ti5L1EMaINOixeoHOjmhb/xYmCftUirFE537bXVdoS";

struct promc__auth_cache {
    struct {
        unsigned char key[32];
        bool used, ok;
    } slot[CACHE_SLOTS];
    unsigned next;
    struct crypt_data data; /* crypt_rn's scratch space (32 KB) */
};

promc__auth_cache_t *promc__auth_cache_new(void)
{
    return promc__calloc(1, sizeof(promc__auth_cache_t));
}

void promc__auth_cache_free(promc__auth_cache_t *cache)
{
    if (cache) {
        OPENSSL_cleanse(cache, sizeof *cache);
        promc__free(cache);
    }
}

static bool is_salt_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '/';
}

bool promc__bcrypt_hash_ok(const char *h, const char **why)
{
    /* Go's bcrypt also takes "$2$" without a minor version; crypt(3) does not. */
    if (!(h[0] == '$' && h[1] == '2' && h[2] != '\0' && strchr("abxy", h[2]) && h[3] == '$')) {
        *why = "it does not start with $2a$, $2b$, $2x$ or $2y$";
        return false;
    }
    const char *p = h + 4;
    if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] == '$')) {
        *why = "no two-digit cost after the version";
        return false;
    }
    int cost = (p[0] - '0') * 10 + (p[1] - '0');
    if (cost < 4 || cost > 31) {
        *why = "the cost is outside 4..31";
        return false;
    }
    p += 3;
    size_t rest = strlen(p);
    for (size_t i = 0; i < rest; i++) {
        if (!is_salt_char(p[i])) {
            *why = "a character outside bcrypt's base64 alphabet";
            return false;
        }
    }
    if (rest != 53) {
        *why = "22 characters of salt and 31 of hash should follow the cost";
        return false;
    }
    return true;
}

/* Standard base64 with padding, as Go's base64.StdEncoding decodes it (line breaks skipped).
 * Returns the length, or -1 for anything else. */
static long base64_decode(const char *in, unsigned char *out, size_t cap)
{
    unsigned acc = 0;
    int bits = 0, pad = 0;
    size_t n = 0, chars = 0;
    for (const char *s = in; *s; s++) {
        char ch = *s;
        if (ch == '\r' || ch == '\n')
            continue;
        unsigned v;
        if (ch == '=') {
            pad++;
            chars++;
            continue;
        }
        if (pad)
            return -1; /* data after padding */
        if (ch >= 'A' && ch <= 'Z')
            v = (unsigned)(ch - 'A');
        else if (ch >= 'a' && ch <= 'z')
            v = (unsigned)(ch - 'a' + 26);
        else if (ch >= '0' && ch <= '9')
            v = (unsigned)(ch - '0' + 52);
        else if (ch == '+')
            v = 62;
        else if (ch == '/')
            v = 63;
        else
            return -1;
        chars++;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (chars % 4 != 0 || pad > 2 || (pad && bits / 2 != pad) || acc != 0)
        return -1;
    return (long)n;
}

static void digest(const char *user, size_t ulen, const char *hash, const char *pass, size_t plen,
                   unsigned char out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int len = 0;
    size_t hlen = strlen(hash);
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, &ulen, sizeof ulen) != 1 || EVP_DigestUpdate(md, user, ulen) != 1 ||
        EVP_DigestUpdate(md, &hlen, sizeof hlen) != 1 || EVP_DigestUpdate(md, hash, hlen) != 1 ||
        EVP_DigestUpdate(md, pass, plen) != 1 || EVP_DigestFinal_ex(md, out, &len) != 1)
        memset(out, 0, 32); /* cannot happen with the default provider; never a cache hit */
    EVP_MD_CTX_free(md);
}

static bool bcrypt_matches(promc__auth_cache_t *cache, const char *pass, const char *hash)
{
    const char *got = crypt_rn(pass, hash, &cache->data, (int)sizeof cache->data);
    size_t hlen = strlen(hash);
    bool ok =
        got != NULL && got[0] != '*' && strlen(got) == hlen && CRYPTO_memcmp(got, hash, hlen) == 0;
    OPENSSL_cleanse(&cache->data, sizeof cache->data);
    return ok;
}

bool promc__auth_check(promc__auth_cache_t *cache, const promc__webcfg_t *c,
                       const char *authorization)
{
    static const char prefix[] = "Basic ";
    if (cache == NULL || authorization == NULL ||
        strncasecmp(authorization, prefix, sizeof prefix - 1) != 0)
        return false;
    unsigned char decoded[1024];
    long n = base64_decode(authorization + sizeof prefix - 1, decoded, sizeof decoded - 1);
    if (n < 0)
        return false;
    decoded[n] = '\0';
    const char *colon = memchr(decoded, ':', (size_t)n);
    if (colon == NULL)
        return false;
    const char *user = (const char *)decoded, *pass = colon + 1;
    size_t ulen = (size_t)(colon - user), plen = (size_t)n - ulen - 1;
    /* crypt(3) takes a C string: a password with a NUL in it is no password of ours. */
    bool usable = memchr(pass, '\0', plen) == NULL;
    const char *hash = dummy_hash;
    bool known = false;
    for (size_t i = 0; i < c->nusers; i++) {
        if (strlen(c->users[i]) == ulen && memcmp(c->users[i], user, ulen) == 0) {
            hash = c->hashes[i];
            known = true;
            break;
        }
    }
    unsigned char key[32];
    digest(user, ulen, hash, pass, plen, key);
    bool ok = false, cached = false;
    for (unsigned i = 0; i < CACHE_SLOTS; i++) {
        if (cache->slot[i].used && memcmp(cache->slot[i].key, key, sizeof key) == 0) {
            ok = cache->slot[i].ok;
            cached = true;
            break;
        }
    }
    if (!cached) {
        ok = bcrypt_matches(cache, usable ? pass : "", hash) && usable && known;
        unsigned s = cache->next++ % CACHE_SLOTS;
        memcpy(cache->slot[s].key, key, sizeof key);
        cache->slot[s].used = true;
        cache->slot[s].ok = ok;
    }
    OPENSSL_cleanse(decoded, sizeof decoded);
    return ok && known;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Content negotiation (src/expose/negotiate.c): the exposition format an Accept header asks for,
 * and whether an Accept-Encoding header accepts gzip. */
#include <promc/promc.h>
#include "check.h"

/* The format of an Accept header, by q-value, with quoted parameter values splitting nothing. */
static void accept_format(void)
{
    CHECK(promc_format_negotiate(NULL) == PROMC_FORMAT_TEXT);
    CHECK(promc_format_negotiate("") == PROMC_FORMAT_TEXT);
    CHECK(promc_format_negotiate("application/openmetrics-text") == PROMC_FORMAT_OPENMETRICS);
    CHECK(promc_format_negotiate("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;"
                                 "version=0.0.4;q=0.4") == PROMC_FORMAT_OPENMETRICS);
    CHECK(promc_format_negotiate("application/openmetrics-text;version=1.0.0;q=0.3,text/plain;"
                                 "version=0.0.4;q=0.4") == PROMC_FORMAT_TEXT);
    CHECK(promc_format_negotiate("application/openmetrics-text; version=2.0.0") ==
          PROMC_FORMAT_TEXT);
    /* Protobuf since 0.2 (test_protobuf.c has the cases). */
    CHECK(promc_format_negotiate("application/vnd.google.protobuf;proto=io.prometheus.client."
                                 "MetricFamily;encoding=delimited") == PROMC_FORMAT_PROTOBUF);
    CHECK(promc_format_negotiate("application/openmetrics-text;q=0,*/*") == PROMC_FORMAT_TEXT);
    /* What Prometheus 2.42 sends. */
    CHECK(
        promc_format_negotiate(
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
            "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1") == PROMC_FORMAT_OPENMETRICS);
    CHECK(promc_format_negotiate("text/html, application/openmetrics-text ;q=0.9") ==
          PROMC_FORMAT_OPENMETRICS);
    /* Quoted parameter values may hold ',' and ';' (and escaped quotes): they split nothing. */
    CHECK(promc_format_negotiate("text/plain;x=\"a,application/openmetrics-text\";q=0.4,"
                                 "application/openmetrics-text;q=0.5") == PROMC_FORMAT_OPENMETRICS);
    CHECK(
        promc_format_negotiate("application/openmetrics-text;x=\"1;q=0\";q=0.9,text/plain;q=0.5") ==
        PROMC_FORMAT_OPENMETRICS);
    CHECK(promc_format_negotiate("application/openmetrics-text;x=\"\\\",q=1\";q=0.2,"
                                 "text/plain;q=0.5") == PROMC_FORMAT_TEXT);
    CHECK_STR(promc_format_content_type(PROMC_FORMAT_TEXT),
              "text/plain; version=0.0.4; charset=utf-8");
    CHECK_STR(promc_format_content_type(PROMC_FORMAT_OPENMETRICS),
              "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

/* gzip in Accept-Encoding: the q-value of a coding is found among all of its parameters, not only
 * the first one (RFC 9110 lets any parameter come before q); quoted values split nothing. */
static void accept_encoding_gzip(void)
{
    CHECK(promc_gzip_accepted("identity;x=\"a,gzip\"") == false);
    CHECK(promc_gzip_accepted("identity;x=\"a,b\", gzip;q=0.5") == true);
    CHECK(promc_gzip_accepted("gzip"));
    CHECK(promc_gzip_accepted("deflate, GZIP;q=0.5"));
    CHECK(!promc_gzip_accepted("gzip;q=0"));
    CHECK(!promc_gzip_accepted("identity"));
    CHECK(!promc_gzip_accepted(NULL));
    CHECK(promc_gzip_accepted("gzip;q=0.5"));
    CHECK(!promc_gzip_accepted("gzip;level=1;q=0"));
    CHECK(!promc_gzip_accepted("gzip; foo=bar ; Q=0.000"));
    CHECK(promc_gzip_accepted("gzip;level=1;q=0.3"));
    CHECK(!promc_gzip_accepted("br, gzip;x=y;q=0, deflate"));
    CHECK(promc_gzip_accepted("br;q=1, x-gzip;x=y;q=0.1"));
    CHECK(!promc_gzip_accepted("gzipx, agzip"));
    CHECK(!promc_gzip_accepted(""));
}

static const check_case_t cases[] = {CHECK_CASE(accept_format), CHECK_CASE(accept_encoding_gzip)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_negotiate", cases, argc, argv);
}

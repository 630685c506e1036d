/* SPDX-License-Identifier: Apache-2.0 */
/* The strict exposition checker (expo_check.h) accepts what the formats allow and refuses each
 * kind of broken line, so that the fuzz target relying on it can fail. */
#include <stdio.h>
#include <string.h>
#include "expo_check.h"

static int fails;

static void want(const char *what, const char *text, int om, int ok)
{
    char err[512] = "";
    int rc = expo_check(text, strlen(text), om, err, sizeof err);
    if ((rc == 0) != ok) {
        fprintf(stderr, "FAIL: %s: %s (%s)\n", what, ok ? "refused" : "accepted", err);
        fails++;
    } else {
        printf("ok: %s%s%s\n", what, ok ? "" : ": ", ok ? "" : err);
    }
}

int main(void)
{
    want("a text exposition",
         "# HELP a_total A \\\\ \\n \"q\".\n# TYPE a_total counter\n"
         "a_total{k=\"v \\\" \\\\ \\n \xc3\xbc\",l=\"\"} 1.0\nb 1e+06\nc -Inf\nd NaN\n",
         0, 1);
    want("an OpenMetrics exposition",
         "# HELP a A \\\"q\\\".\n# TYPE a counter\n# UNIT a \n"
         "a_total{k=\"v\"} 1.0\n# EOF\n",
         1, 1);
    want("empty text", "", 0, 1);
    want("invalid UTF-8", "a{k=\"\xff\"} 1\n", 0, 0);
    want("a raw newline in a label value", "a{k=\"x\ny\"} 1\n", 0, 0);
    want("an unknown escape", "a{k=\"\\t\"} 1\n", 0, 0);
    want("an unclosed label value", "a{k=\"x} 1\n", 0, 0);
    want("a label name twice", "a{k=\"x\",k=\"y\"} 1\n", 0, 0);
    want("a bad metric name", "1a 1\n", 0, 0);
    want("a bad value", "a 1.2.3\n", 0, 0);
    want("no value", "a\n", 0, 0);
    want("a quote escape in text HELP", "# HELP a x \\\" y\n", 0, 0);
    want("an unknown type", "# TYPE a counterz\n", 0, 0);
    want("no newline at the end", "a 1", 0, 0);
    want("OpenMetrics without # EOF", "a 1\n", 1, 0);
    want("text after # EOF", "# EOF\na 1\n", 1, 0);
    printf("%d passed, %d failed\n", 16 - fails, fails);
    return fails ? 1 : 0;
}

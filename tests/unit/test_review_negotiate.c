/* Accept-Encoding: the q-value of a coding is found among all of its parameters, not only the
 * first one (RFC 9110 lets any parameter come before q). */
#include <promc/promc.h>
#include "check.h"

int main(void)
{
    CHECK(promc_gzip_accepted("gzip"));
    CHECK(promc_gzip_accepted("gzip;q=0.5"));
    CHECK(!promc_gzip_accepted("gzip;q=0"));
    CHECK(!promc_gzip_accepted("gzip;level=1;q=0"));
    CHECK(!promc_gzip_accepted("gzip; foo=bar ; Q=0.000"));
    CHECK(promc_gzip_accepted("gzip;level=1;q=0.3"));
    CHECK(!promc_gzip_accepted("br, gzip;x=y;q=0, deflate"));
    CHECK(promc_gzip_accepted("br;q=1, x-gzip;x=y;q=0.1"));
    CHECK(!promc_gzip_accepted("gzipx, agzip"));
    CHECK(!promc_gzip_accepted(""));
    CHECK(!promc_gzip_accepted(NULL));
    return check_report("test_review_negotiate");
}

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages: `dpkg-buildpackage -us -uc -b` builds libpromc0 and libpromc-dev from a
# copy of the tracked tree, lintian finds no error in them, each holds what it should, and a
# program compiled against the unpacked -dev package runs against the unpacked library.
# Usage: deb.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
for t in dpkg-buildpackage dh lintian; do
    command -v "$t" >/dev/null || { echo "deb.sh: $t is missing (scripts/deps.sh test installs dpkg-dev debhelper lintian)" >&2; exit 1; }
done
version=$(sed -n '1s/^promc (\([^)]*\)).*/\1/p' "$src/debian/changelog")
rm -rf "$work" && mkdir -p "$work/promc-$version"
# The tracked files only (what a release tarball holds); without git, everything but builds.
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$src" && git ls-files --cached --others --exclude-standard -z | xargs -0 cp --parents -t "$work/promc-$version")
else
    (cd "$src" && tar --exclude='./build*' -cf - .) | tar -C "$work/promc-$version" -xf -
fi
cd "$work/promc-$version"
if ! dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1; then
    tail -40 "$work/build.log"
    echo "deb.sh: dpkg-buildpackage failed (log above)" >&2
    exit 1
fi
cd "$work"
changes=$(ls promc_"$version"_*.changes)
lintian --tag-display-limit 0 "$changes" > lintian.log 2>&1 || true
cat lintian.log
if grep -q '^E: ' lintian.log; then
    echo "deb.sh: lintian reports errors" >&2
    exit 1
fi
arch=$(dpkg --print-architecture)
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib=libpromc0_"$version"_"$arch".deb
dev=libpromc-dev_"$version"_"$arch".deb
for f in "$lib" "$dev"; do [ -f "$f" ] || { echo "deb.sh: $f was not built" >&2; exit 1; }; done
want_in() { dpkg-deb -c "$1" > contents.txt; grep -q -- "$2" contents.txt || { echo "deb.sh: $1 lacks $2" >&2; exit 1; }; }
want_in "$lib" "usr/lib/$multi/libpromc.so.0.2"
want_in "$dev" "usr/include/promc/promc.h"
want_in "$dev" "usr/include/promc/push.h"
want_in "$dev" "usr/lib/$multi/libpromc.a"
want_in "$dev" "usr/lib/$multi/pkgconfig/promc.pc"
want_in "$dev" "usr/lib/$multi/cmake/promc/promcConfig.cmake"
dpkg-deb -c "$lib" > contents.txt
if grep -q 'usr/include' contents.txt; then
    echo "deb.sh: headers in the runtime package" >&2
    exit 1
fi
dpkg-deb -f "$lib" Depends > depends.txt
grep -q libevent depends.txt || { echo "deb.sh: libpromc0 does not depend on libevent" >&2; exit 1; }
# Unpacked side by side: compile against the -dev headers, run against the library.
mkdir -p root
dpkg-deb -x "$lib" root
dpkg-deb -x "$dev" root
cat > use.c <<'C'
#include <stdio.h>
#include <promc/promc.h>
int main(void)
{
    promc_counter_t *c;
    if (promc_counter_new(&c, &(promc_metric_opts_t){.name = "deb", .help = "D."}) != 0)
        return 1;
    promc_counter_inc(c);
    printf("%s %g\n", promc_version_string(), promc_counter_value(c));
    return 0;
}
C
cc -Wall -Werror -I root/usr/include use.c -L "root/usr/lib/$multi" -lpromc -o use
out=$(LD_LIBRARY_PATH="root/usr/lib/$multi" ./use)
[ "$out" = "$version 1" ] || { echo "deb.sh: the packaged library said '$out'" >&2; exit 1; }
echo "deb.sh: built $lib and $dev; lintian: $(grep -c '^[EW]: ' lintian.log || true) warnings or errors, none an error; a program built on them runs ($out)"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness_selftest.sh BINARY: each behaviour of check.h, from the outside.
set -uo pipefail
bin=$1
pass=0 fail=0
expect() { # expect WHAT STATUS PATTERN [NOT-PATTERN] -- ARGS...
    local what=$1 want=$2 pat=$3 notpat=$4
    shift 5
    local out st
    out=$("$bin" "$@" 2>&1)
    st=$?
    if [ "$st" = "$want" ] && grep -qE "$pat" <<<"$out" && { [ -z "$notpat" ] || ! grep -qE "$notpat" <<<"$out"; }; then
        echo "ok: $what"
        pass=$((pass + 1))
    else
        echo "FAIL: $what (status $st, wanted $want):"
        echo "$out"
        fail=$((fail + 1))
    fi
}
expect "a passing case exits 0" 0 "^ok: passes" "" -- passes
expect "a failed CHECK fails the run and the case goes on" 1 "after the failed CHECK" "" -- check_goes_on
expect "a failed REQUIRE ends the case" 1 "REQUIRE failed" "after the failed REQUIRE" -- require_ends_case
expect "the case after a failed REQUIRE still runs" 1 "^ok: passes" "" -- require_ends_case passes
expect "an unknown case name is an error" 2 "no case named 'nosuch'" "" -- nosuch
expect "--list prints every case" 0 "^require_ends_case$" "" -- --list
expect "no argument runs every case" 1 "3 cases" "" --
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lints deploy/Dockerfile with dockerfile-utils (pinned in package-lock.json), checks the
# instructions the issue asks for, and that the lint bites on a broken copy.
# Usage: dockerfile_lint.sh SOURCE_DIR NODE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
src=$1
node_dir=$2
work=$(workdir dockerfile)
need node nodejs
lint="$node_dir/node_modules/.bin/dockerfile-utils"
[ -x "$lint" ] || die "$lint missing (the deploy_npm fixture runs npm ci)"
df="$src/deploy/Dockerfile"

section "dockerfile-utils lint deploy/Dockerfile"
out=$("$lint" lint "$df" 2>&1) || die "dockerfile-utils failed: $out"
[ -z "$out" ] || die "dockerfile-utils reports problems:
$out"
echo "no problems"
# A broken copy: a bad port, an unknown instruction and a relative WORKDIR must be reported.
sed -e 's/^EXPOSE 8001 8000$/EXPOSE 8001 80x0/' -e 's|^WORKDIR /src$|WORKDIR src|' \
    -e '$a COPPY x y' "$df" >"$work/Dockerfile.broken"
out=$("$lint" lint "$work/Dockerfile.broken" 2>&1) || true
for want in 'Invalid containerPort: 80x0' 'Unknown instruction: COPPY' \
    'WORKDIR paths should be absolute'; do
    grep -q "$want" <<<"$out" || die "lint did not report '$want' in a broken copy: $out"
done
echo "a broken copy is reported: $(echo "$out" | tr '\n' ' ' | cut -c1-200)"

section "what the image must declare"
final=$(awk '/^FROM /{stage=$0; buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$df")
grep -q '^FROM scratch' <<<"$final" || die "the last stage is not FROM scratch"
for want in '^USER 65534:65534$' '^EXPOSE 8001 8000$' '^STOPSIGNAL SIGTERM$' \
    '^ENTRYPOINT \["/example-001"\]$' 'org.opencontainers.image.title='; do
    grep -Eq "$want" <<<"$final" || die "the final stage lacks $want"
done
[ "$(grep -c '^FROM ' "$df")" -ge 2 ] || die "not a multi-stage build"
echo "multi-stage; final stage FROM scratch, USER 65534:65534, EXPOSE 8001 8000," \
    "STOPSIGNAL SIGTERM, exec-form ENTRYPOINT, OCI labels"
echo "PASS"

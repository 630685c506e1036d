#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds deploy/Dockerfile for real without a Docker engine: the build stage's base image is made
# here (mmdebstrap from Debian's archive, podman import, tagged to the Dockerfile's FROM name),
# then buildah builds with --pull=never (chroot isolation: no container runtime needed), and the
# image is checked: size against the 8 MB target (2 MB until TLS: OpenSSL's libcrypto is most of it), config (user, ports, entrypoint, stop signal,
# labels) and its exact file list.  Everything but podman's own storage stays in the work
# directory.  The image is left tagged $PROMC_DEPLOY_IMAGE for deploy_image_run.
# Usage: image_build.sh SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
src=$1
image=${PROMC_DEPLOY_IMAGE:?}
work=$(workdir image-build)
need mmdebstrap mmdebstrap
need podman podman
need buildah buildah
df="$src/deploy/Dockerfile"
base=$(awk 'toupper($1) == "FROM" && $2 != "scratch" {print $2; exit}' "$df")
[ -n "$base" ] || die "no build-stage FROM in $df"
# Podman's storage is shared: whatever image held the FROM name before gets it back afterwards
# (unless it was one of ours), and our base and any earlier build of $image are removed, so
# repeated runs leave nothing behind but the current image.
ours_label=promc-deploy-test-base
label_of() { podman image inspect --format '{{index .Labels "org.opencontainers.image.description"}}' "$1" 2>/dev/null || true; }
prev_base=$(podman image inspect --format '{{.Id}}' "$base" 2>/dev/null || true)
prev_image=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
new_base=""
restore() {
    [ -n "$new_base" ] && podman rmi "$new_base" >/dev/null 2>&1
    if [ -n "$prev_base" ] && podman image exists "$prev_base"; then
        if [ "$(label_of "$prev_base")" = "$ours_label" ]; then
            podman rmi "$prev_base" >/dev/null 2>&1
        else
            podman tag "$prev_base" "$base"
        fi
    fi
    return 0
}
trap restore EXIT
# The packages the Dockerfile's build stage installs when they are missing: the base gets them all,
# so the build needs no network.
pkgs=$(sed -n 's/.*pkgs="\([^"]*\)".*/\1/p' "$df" | head -1)
[ -n "$pkgs" ] || die "no pkgs=\"...\" list in $df"

section "build-stage base image $base: mmdebstrap bookworm minbase + $pkgs"
t0=$(date +%s)
ok=0
for try in 1 2; do
    if mmdebstrap --quiet --variant=minbase --include="${pkgs// /,}" bookworm \
        "$work/base.tar" >"$work/mmdebstrap.log" 2>&1; then
        ok=1
        break
    fi
    echo "mmdebstrap attempt $try failed:"
    tail -5 "$work/mmdebstrap.log"
done
[ $ok = 1 ] || die "mmdebstrap could not make the base image (log: $work/mmdebstrap.log)"
new_base=$(podman import --quiet --change "LABEL org.opencontainers.image.description=$ours_label" \
    "$work/base.tar" "$base") || die "podman import failed"
rm -f "$work/base.tar"
echo "made and imported in $(($(date +%s) - t0)) s"

section "buildah bud --isolation chroot --pull=never -f deploy/Dockerfile -t $image"
t0=$(date +%s)
rev=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
if ! buildah bud --isolation chroot --pull=never --layers=false --build-arg "REVISION=$rev" \
    -f "$df" -t "$image" "$src" >"$work/build.log" 2>&1; then
    tail -40 "$work/build.log"
    die "the image build failed (log: $work/build.log)"
fi
echo "built in $(($(date +%s) - t0)) s"
if [ -n "$prev_image" ] && [ "$prev_image" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
    podman rmi "$prev_image" >/dev/null 2>&1 || true # the previous run's build, now untagged
fi
grep -E 'warning: Using .* in statically linked' "$work/build.log" | sed 's/^.*warning/  linker warning/' |
    sort -u || true

section "image size"
size=$(podman image inspect --format '{{.Size}}' "$image")
target=8000000
tutorial=86800000
awk -v i="$image" -v s="$size" -v t="$tutorial" 'BEGIN {
    printf "%s: %d bytes (%.2f MB); target: under 8 MB; the tutorial'"'"'s python:3.9-alpine image: 86.8 MB, %.0f times larger\n", i, s, s / 1e6, t / s }'
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$image"
[ "$size" -lt "$target" ] || die "the image is $size bytes, over the 8 MB target"

section "image config"
fmt='{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{.Config.StopSignal}}'
cfg=$(podman image inspect --format "$fmt" "$image")
echo "User|Entrypoint|Cmd|StopSignal = $cfg"
[ "$cfg" = '65534:65534|["/example-001"]|null|SIGTERM' ] || die "unexpected image config: $cfg"
ports=$(podman image inspect --format '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}' "$image")
echo "ExposedPorts = $ports"
[ "$ports" = "8000/tcp 8001/tcp " ] || die "exposed ports are '$ports'"
labels=$(podman image inspect --format '{{json .Config.Labels}}' "$image")
echo "Labels = $labels"
for l in title description version revision; do
    grep -q "\"org.opencontainers.image.$l\"" <<<"$labels" || die "no OCI label $l"
done
grep -q "\"org.opencontainers.image.revision\":\"$rev\"" <<<"$labels" || die "revision label"

section "files in the image"
cid=$(podman create --pull=never "$image")
podman export "$cid" | tar -tv >"$work/files.txt"
podman rm "$cid" >/dev/null
cat "$work/files.txt"
files=$(awk '$1 !~ /^d/ {print $NF}' "$work/files.txt" | sort | tr '\n' ' ')
[ "$files" = "etc/ssl/certs/ca-certificates.crt example-001 " ] ||
    die "the image holds more or less than the binary and the CA bundle: $files"
echo "only the static binary and the CA bundle"
echo "PASS: $image built, $size bytes"

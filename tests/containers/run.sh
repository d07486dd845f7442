#!/usr/bin/env bash
# tests/containers/run.sh: real container builds of the README's Dockerfiles (issue 5).
#
# Builds OCI images for real with buildah (daemonless, `bud --isolation chroot --layers`,
# overlay storage in a store of its own) and asserts on the engine's own output: which steps
# were `Using cache`, which crates were `Compiling` in which step, and what the image's binary
# prints when run with `buildah run --isolation chroot`.
#
# No registry is reachable on the CI machines, so the two base images are made locally:
#   localhost/cargo-prebuild-test/debian     Debian bookworm from the apt mirror (mmdebstrap)
#                                            + the host CA bundle (crates.io is reached through
#                                            a TLS-intercepting proxy); stands in for debian:bookworm-slim
#   localhost/cargo-prebuild-test/rust-base  + the host's rustup toolchain; stands in for rust:1-bookworm
# The Dockerfiles under tests/containers/ are the README's, verbatim except for these
# substitutions, each of which must match exactly once (render()):
#   FROM rust:1-bookworm     -> FROM localhost/cargo-prebuild-test/rust-base
#   FROM debian:bookworm-slim -> FROM localhost/cargo-prebuild-test/debian
#   RUN cargo install cargo-prebuild --locked
#                            -> COPY --from=cargo-prebuild-src . /usr/local/src/cargo-prebuild
#                               RUN cargo install --path /usr/local/src/cargo-prebuild --locked
#   (cargo-prebuild-src is a --build-context holding a clean export of this repository:
#   the tool is compiled inside the image the way a user installs it, not copied from the host)
#
# Usage: tests/containers/run.sh            (as root; installs buildah + mmdebstrap if missing)
# Environment:
#   CARGO_PREBUILD_CONTAINER_WORK=/tmp/cargo-prebuild-containers  work dir: image store,
#       rootfs tarball, per-run logs and contexts
#   CARGO_PREBUILD_CONTAINER_SRC=worktree|head  what to export of this repository:
#       worktree (default): Cargo.toml, Cargo.lock, src/ (+ build.rs, README.md, LICENSE) as
#       they are on disk; head: `git archive HEAD`
#   CARGO_PREBUILD_CONTAINER_PURGE=1   at the end also delete the base images, the tool image,
#       the rootfs tarball and the whole store (default: keep them, a rerun then takes ~1-2 min)
#   CARGO_PREBUILD_CONTAINER_KEEP=1    keep this run's images, contexts and logs for debugging
#   CARGO_PREBUILD_CONTAINER_ONLY="neg s1 s2 ..."  run only these scenarios (default: all)
#   CARGO_PREBUILD_CONTAINER_ENGINE=buildah|docker  buildah (default): bud --isolation chroot
#       --layers, the whole suite. docker: Debian's docker.io 20.10 (dockerd started here with
#       its state under the work dir, stopped by PID at the end) with BuildKit, `#N CACHED`
#       instead of `Using cache`, nanosecond mtimes; the chef stage is FROM a tool image built
#       by base/tool.Dockerfile (no named build contexts in 20.10); no --timestamp scenarios
#   MIRROR=http://deb.debian.org/debian
# Exit status: 0 only if every check passed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${CARGO_PREBUILD_CONTAINER_WORK:-/tmp/cargo-prebuild-containers}
SRC_MODE=${CARGO_PREBUILD_CONTAINER_SRC:-worktree}
ONLY=${CARGO_PREBUILD_CONTAINER_ONLY:-}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
NS=localhost/cargo-prebuild-test
RUN_ID=$(date +%Y%m%d-%H%M%S)-$$
RUN=$WORK/runs/$RUN_ID
LOGS=$RUN/logs
T_START=$(date +%s)

now()   { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say()   { printf '\n=== %s\n' "$*"; }
fatal() { echo "FATAL: $*" >&2; exit 2; }

# ------------------------------------------------------------------ results
PASSED=0 FAILED=0 FAILURES=() TIMES=()
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); echo "FAIL: $*"; }
# check DESCRIPTION COMMAND...: PASS if the command succeeds
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }

# ------------------------------------------------------------------ engines
ENGINE=${CARGO_PREBUILD_CONTAINER_ENGINE:-buildah}
timed_build() { # timed_build LOG CMD...: the log gets the engine's whole output
  local log=$1 label rc=0 t0; shift; label=$(basename "$log" .log); t0=$(now)
  "$@" >"$log" 2>&1 || rc=$?
  TIMES+=("$(printf '%-44s %6ss' "[$ENGINE] build $label" "$(since "$t0")")")
  if [ "$rc" != 0 ]; then echo "--- build $label failed (rc=$rc), last lines of $log:"; tail -25 "$log"; fi
  return "$rc"
}

use_buildah() {
  # A store of our own: the suite's images and layer cache never mix with other users' images,
  # and cleaning up can prune without touching anything else. overlay, never vfs (40-90x slower).
  BUILDAH=(buildah --root "$WORK/storage/root" --runroot "$WORK/storage/run" --storage-driver overlay)
  # buildah puts RUN --mount=type=cache folders under $TMPDIR/buildah-cache-<uid>: per run here.
  bh() { TMPDIR="$RUN/tmp" "${BUILDAH[@]}" "$@"; }
  # bud LOG ARGS...: build (chroot isolation: no OCI runtime, host network; --layers: cache)
  bud() { local log=$1; shift; timed_build "$log" bh bud --isolation chroot --layers --force-rm "$@"; }
  has_image() { bh inspect --type image "$1" >/dev/null 2>&1; }
  # run_image IMAGE CMD...: stdout of CMD run in a container of IMAGE
  run_image() {
    local c rc=0
    c=$(bh from --pull=never -q "$1") || return 1
    bh run --isolation chroot "$c" -- "${@:2}" || rc=$?
    bh rm "$c" >/dev/null 2>&1 || true
    return "$rc"
  }
  list_images() { bh images --format '{{.Name}}:{{.Tag}}' 2>/dev/null; }
  rmi() { bh rmi -f "$@" >/dev/null 2>&1; }
  # The scenario images, then the untagged intermediate (--layers) images left dangling; the
  # base and tool images and their ancestors stay. Only our own store is touched.
  clean_slate() {
    local img before after
    bh rm --all >/dev/null 2>&1
    for img in $(list_images | grep "^$NS/scenario-"); do rmi "$img"; done
    while :; do
      before=$(bh images -a -q 2>/dev/null | wc -l)
      bh rmi --prune >/dev/null 2>&1
      after=$(bh images -a -q 2>/dev/null | wc -l)
      [ "$after" -lt "$before" ] || break
    done
  }
  engine_start() { :; }
  engine_stop() { :; }
  purge_engine() { bh rmi --all --force >/dev/null 2>&1; rm -rf "$WORK/storage"; }
  # log parsing: buildah prints "[2/4] STEP 3/5: RUN ...", the step's output, then
  # "--> Using cache <id>" (cached) or "--> <id>" (ran); with --cache-from/--cache-to also
  # "--> Cache pulled from remote <repo>:<key>" before a cache hit and "--> Pushing cache
  # <repo>:<key>", kept as the step's output
  STEP_RE='STEP [0-9]+/[0-9]+: '
  log_text() { cat "$1"; }
  # A step that needs another stage (COPY --from=planner) prints its STEP line, then the other
  # stage's steps, then its own result: results pair with the innermost pending step (a stack).
  # parse LOG: one line per step, "<n>\t<cached|ran|from>\t<STEP line>", then its output lines
  # as "<n>\tout\t<line>"
  parse() {
    awk -v re="$STEP_RE" '
      $0 ~ re { n++; text[n] = $0; st[n] = "ran"
                if ($0 ~ (re "FROM ")) { st[n] = "from"; next }
                stack[++sp] = n; next }
      /^(\[[0-9]+\/[0-9]+\] )?COMMIT / { skip = 1; next }
      /^--> (Cache pulled from remote|Pushing cache) / { if (sp) { k = stack[sp]; out[k, ++no[k]] = $0 } next }
      /^--> Using cache/ { if (sp) st[stack[sp--]] = "cached"; skip = 1; next }
      /^--> / { if (skip) { skip = 0; next } if (sp) st[stack[sp--]] = "ran"; next }
      { if (sp) { k = stack[sp]; out[k, ++no[k]] = $0 } }
      END { for (i = 1; i <= n; i++) {
              print i "\t" st[i] "\t" text[i]
              for (j = 1; j <= no[i]; j++) print i "\tout\t" out[i, j] } }' "$1"
  }
  step_no() { parse "$1" | awk -F'\t' -v t="$2" '$2 != "out" && index($3, t) { print $1; exit }'; }
  step_status() { # cached | ran | missing, for the first step whose STEP line contains TEXT
    local n; n=$(step_no "$1" "$2")
    if [ -z "$n" ]; then echo missing; else parse "$1" | awk -F'\t' -v n="$n" '$1 == n && $2 != "out" { print $2; exit }'; fi
  }
  step_output() {
    local n; n=$(step_no "$1" "$2"); [ -n "$n" ] || return 0
    parse "$1" | awk -F'\t' -v n="$n" '$1 == n && $2 == "out" { sub(/^[^\t]*\t[^\t]*\t/, ""); print }'
  }
  all_cached() { # every step but FROM came from the cache and nothing was compiled
    local ran; ran=$(parse "$1" | awk -F'\t' '$2 == "ran" { print "      ran: " $3 }')
    [ -z "$ran" ] || { echo "$ran"; return 1; }
    not_in_log "$1" '^ *Compiling '
  }
  show_steps() { grep -E "$STEP_RE|^ *(Compiling|Downloaded) |^--> Cache pulled from remote" "$1" | sed 's/^/    | /'; }
}

use_docker() {
  DOCKER_DIR=$WORK/docker
  DOCKER=(/usr/bin/docker -H "unix://$DOCKER_DIR/docker.sock")
  DOCKERD_PID=
  # Debian's 20.10 client by full path: a newer docker earlier in PATH may lack buildx.
  # No bridge, no iptables: builds use --network host, runs --network none.
  bud() { local log=$1; shift; timed_build "$log" env DOCKER_BUILDKIT=1 "${DOCKER[@]}" build --network host --progress=plain "$@"; }
  has_image() { "${DOCKER[@]}" image inspect "$1" >/dev/null 2>&1; }
  run_image() { "${DOCKER[@]}" run --rm --network none --entrypoint "" "$1" "${@:2}"; }
  list_images() { "${DOCKER[@]}" images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null; }
  rmi() { "${DOCKER[@]}" image rm -f "$@" >/dev/null 2>&1; }
  clean_slate() { # scenario images, all build cache (cache mounts too), dangling images
    local img
    for img in $(list_images | grep "^$NS/scenario-"); do rmi "$img"; done
    "${DOCKER[@]}" builder prune -af >/dev/null 2>&1
    "${DOCKER[@]}" image prune -f >/dev/null 2>&1
  }
  engine_start() {
    mkdir -p "$DOCKER_DIR"
    /usr/sbin/dockerd --data-root "$DOCKER_DIR/root" --exec-root "$DOCKER_DIR/exec" \
      --pidfile "$DOCKER_DIR/dockerd.pid" -H "unix://$DOCKER_DIR/docker.sock" \
      --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
      >"$DOCKER_DIR/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    local i; for i in $(seq 1 60); do "${DOCKER[@]}" info >/dev/null 2>&1 && return 0; sleep 0.5; done
    tail -20 "$DOCKER_DIR/dockerd.log"; fatal "dockerd did not start"
  }
  engine_stop() {
    [ -n "$DOCKERD_PID" ] || return 0
    kill "$DOCKERD_PID" 2>/dev/null; wait "$DOCKERD_PID" 2>/dev/null
    umount "$DOCKER_DIR/exec/netns/default" 2>/dev/null
    DOCKERD_PID=
  }
  purge_engine() { engine_stop; rm -rf "$DOCKER_DIR"; }
  # log parsing: BuildKit's plain progress, "#N [stage i/n] RUN ...", "#N 1.234 <output>",
  # "#N CACHED"; steps of different stages interleave, so everything goes by step number
  STEP_RE='^#[0-9]+ \[([^]]+ )?[0-9]+/[0-9]+\] '
  log_text() { sed -E 's/^#[0-9]+ [0-9]+\.[0-9]+ //' "$1"; }
  step_no() { grep -E "$STEP_RE" "$1" | grep -F -- "$2" | head -1 | sed -E 's/^#([0-9]+) .*/\1/'; }
  step_status() {
    local n; n=$(step_no "$1" "$2")
    if [ -z "$n" ]; then echo missing; elif grep -qx "#$n CACHED" "$1"; then echo cached; else echo ran; fi
  }
  step_output() {
    local n; n=$(step_no "$1" "$2"); [ -n "$n" ] || return 0
    sed -nE "s/^#$n [0-9]+\.[0-9]+ //p" "$1"
  }
  all_cached() {
    local n bad=0
    for n in $(grep -E "$STEP_RE" "$1" | grep -vE '\] FROM ' | sed -E 's/^#([0-9]+) .*/\1/' | sort -u); do
      grep -qx "#$n CACHED" "$1" || { echo "    step #$n ran"; bad=1; }
    done
    [ "$bad" = 0 ] && not_in_log "$1" '^ *Compiling '
  }
  show_steps() { log_text "$1" | grep -E "$STEP_RE|^#[0-9]+ CACHED|^ *(Compiling|Downloaded) " | sed 's/^/    | /'; }
}

case $ENGINE in
  buildah) use_buildah ;;
  docker) use_docker ;;
  *) fatal "CARGO_PREBUILD_CONTAINER_ENGINE must be buildah or docker" ;;
esac

# ------------------------------------------------------------------ log assertions
step_cached() { [ "$(step_status "$1" "$2")" = cached ]; }
step_ran()    { [ "$(step_status "$1" "$2")" = ran ]; }
LOCAL_CRATES='app|greet|numfmt'
# compiled LOG TEXT: names of the crates the step compiled, one per line
compiled() { step_output "$1" "$2" | sed -nE 's/^ *Compiling ([^ ]+) v.*/\1/p' | sort -u; }
external_compiled() { compiled "$1" "$2" | grep -vxE "$LOCAL_CRATES" || true; }
no_external_compiled() {
  local ext; ext=$(external_compiled "$1" "$2" | tr '\n' ' ')
  [ -z "$ext" ] || { echo "    external crates compiled in '$2': $ext"; return 1; }
}
# compiles LOG TEXT CRATE...: the step compiled every CRATE
compiles() {
  local got c; got=$(compiled "$1" "$2"); shift 2
  for c in "$@"; do
    grep -qx -- "$c" <<<"$got" || { echo "    '$c' not compiled; compiled: $(echo $got)"; return 1; }
  done
}
not_in_log() { ! log_text "$1" | grep -qE -- "$2"; }
# not_compiled LOG STEP CRATE...: none of the crates was compiled in that step
not_compiled() {
  local got c; got=$(compiled "$1" "$2"); shift 2
  for c in "$@"; do
    if grep -qx -- "$c" <<<"$got"; then echo "    '$c' compiled"; return 1; fi
  done
}
# skeleton_digest LOG: the digest the planner's `prepare` printed (a line of its own)
# BuildKit may shift a space between interleaved stdout and stderr lines: trim before matching.
skeleton_digest() { log_text "$1" | sed -E 's/^[[:space:]]+//' | grep -oxE 'sha256:[0-9a-f]{64}' | head -1; }
# same_skeleton LOG_A LOG_B: both planners printed one and the same skeleton digest
same_skeleton() {
  local a b; a=$(skeleton_digest "$1"); b=$(skeleton_digest "$2")
  [ -n "$a" ] && [ "$a" = "$b" ] || { echo "    digests: '$a' vs '$b'"; return 1; }
}
log_has() { log_text "$1" | grep -qE -- "$2"; }
# output_is IMAGE EXPECTED: the image's binary prints exactly EXPECTED
output_is() {
  local got; got=$(run_image "$1" /usr/local/bin/app 2>&1) || true
  [ "$got" = "$2" ] || { echo "    $1 printed: '$got'"; echo "    expected:  '$2'"; return 1; }
}

# ------------------------------------------------------------------ 1. packages
need_pkgs=()
command -v buildah >/dev/null || need_pkgs+=(buildah)
command -v mmdebstrap >/dev/null || need_pkgs+=(mmdebstrap)
command -v git >/dev/null || need_pkgs+=(git)
[ "$ENGINE" = docker ] && { [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || need_pkgs+=(docker.io); }
if [ -z "$ONLY" ] || [[ " $ONLY " == *" reg "* ]]; then
  command -v docker-registry >/dev/null || need_pkgs+=(docker-registry)
  command -v curl >/dev/null || need_pkgs+=(curl)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "apt-get install ${need_pkgs[*]}"
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then   # keep docker.io's postinst from starting a daemon
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
command -v cargo >/dev/null && command -v rustc >/dev/null || fatal "cargo/rustc not found (the image's toolchain is the host's)"

mkdir -p "$WORK" "$LOGS" "$RUN/tmp" "$RUN/dockerfiles"
exec 9>"$WORK/lock"
flock -n 9 || { echo "waiting for another run of this suite (lock $WORK/lock)"; flock 9; }

REG_PID=
cleanup() {
  local rc=$?
  set +e
  if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null; wait "$REG_PID" 2>/dev/null; fi
  declare -F redis_stop >/dev/null && redis_stop   # the reg scenario's fleet Redis (fleet.sh)
  if [ -d "$RUN/stores" ] && declare -F drop_store >/dev/null; then
    for s in "$RUN"/stores/*; do [ -d "$s" ] && drop_store "$s"; done
  fi
  if [ -d "$RUN/dockers" ] && declare -F docker_down >/dev/null; then
    for s in "$RUN"/dockers/*; do [ -d "$s" ] && docker_down "$s"; done
  fi
  if [ "${CARGO_PREBUILD_CONTAINER_KEEP:-0}" = 1 ]; then
    engine_stop
    echo "kept: images in $WORK ($ENGINE), run dir $RUN"
    return
  fi
  clean_slate
  if [ "${CARGO_PREBUILD_CONTAINER_PURGE:-0}" = 1 ]; then
    purge_engine
    rm -rf "$WORK/base" "$WORK/rust-base" "$WORK/runs" "$WORK/cargo-prebuild-src"
    echo "purged $WORK"
  elif [ "$rc" = 0 ] && [ "$FAILED" = 0 ]; then
    rm -rf "$RUN"
  else
    echo "logs kept in $LOGS"
  fi
  engine_stop
  rmdir "$WORK/runs" 2>/dev/null
}
trap cleanup EXIT
engine_start

# ------------------------------------------------------------------ 2. base images
say "base images"
t0=$(now)
mkdir -p "$WORK/base"
if [ ! -s "$WORK/base/rootfs.tar" ]; then
  # force-unsafe-io: ~30 s instead of ~110 s. The host's CA bundle goes in because crates.io is
  # reached through a TLS-intercepting proxy (cargo: "self-signed certificate in certificate chain").
  mmdebstrap --variant=minbase --include=gcc,libc6-dev,ca-certificates \
    --dpkgopt=force-unsafe-io --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"' \
    --format=tar bookworm "$WORK/base/rootfs.tar.part" "$MIRROR" >"$LOGS/mmdebstrap.log" 2>&1 \
    || { tail -20 "$LOGS/mmdebstrap.log"; fatal "mmdebstrap failed"; }
  mv "$WORK/base/rootfs.tar.part" "$WORK/base/rootfs.tar"
  TIMES+=("$(printf '%-44s %6ss' "mmdebstrap rootfs" "$(since "$t0")")")
fi
if ! has_image "$NS/debian"; then
  cp "$HERE/base/debian.Dockerfile" "$WORK/base/Dockerfile"
  bud "$LOGS/base-debian.log" -t "$NS/debian" "$WORK/base" || fatal "base image $NS/debian"
fi
if ! has_image "$NS/rust-base"; then
  rm -rf "$WORK/rust-base"; mkdir -p "$WORK/rust-base"
  sysroot=$(rustc --print sysroot)
  # hard links: instant and no extra disk; a copy if the work dir is on another filesystem
  cp -al "$sysroot" "$WORK/rust-base/rust" 2>/dev/null || cp -a "$sysroot" "$WORK/rust-base/rust"
  printf 'rust/share/doc\n' >"$WORK/rust-base/.dockerignore"
  cp "$HERE/base/rust-base.Dockerfile" "$WORK/rust-base/Dockerfile"
  bud "$LOGS/base-rust.log" -t "$NS/rust-base" "$WORK/rust-base" || fatal "base image $NS/rust-base"
  rm -rf "$WORK/rust-base"
fi
echo "base images ready ($(since "$t0") s): $(run_image "$NS/rust-base" sh -c 'cargo --version')"

# A clean slate: nothing from an earlier run (crashed, or CARGO_PREBUILD_CONTAINER_KEEP=1) may
# turn this run's cold builds into cache hits.
clean_slate

# ------------------------------------------------------------------ 3. cargo-prebuild's source
export_source() {
  say "clean export of $REPO ($SRC_MODE)"
  SRC=$WORK/cargo-prebuild-src
  rm -rf "$SRC"; mkdir -p "$SRC"
  case $SRC_MODE in
    head) git -C "$REPO" archive --format=tar HEAD | tar -x -C "$SRC" ;;
    worktree)
      for f in Cargo.toml Cargo.lock build.rs README.md LICENSE src; do
        if [ -e "$REPO/$f" ]; then cp -a "$REPO/$f" "$SRC/"; fi
      done ;;
    *) fatal "CARGO_PREBUILD_CONTAINER_SRC must be worktree or head" ;;
  esac
  rm -rf "$SRC/tests" "$SRC/target"   # tests/ holds this suite's fixtures, not needed to install
  [ -f "$SRC/Cargo.toml" ] && [ -d "$SRC/src" ] || fatal "no Cargo.toml/src in the export"
  [ -f "$SRC/Cargo.lock" ] || fatal "no Cargo.lock in $REPO: 'cargo install --locked' needs the committed lockfile"
  SRC_HASH=$(cd "$SRC" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
  echo "export: $(find "$SRC" -type f | wc -l) files, content hash $SRC_HASH"
}

# ------------------------------------------------------------------ 4. Dockerfiles
# render SRC DST [INSTALLS]: the README Dockerfile with the local base images and cargo-prebuild
# installed from the clean export (buildah: in the chef stage, through the cargo-prebuild-src
# build context; docker: the chef stage starts FROM the tool image, see base/tool.Dockerfile)
render() {
  local src=$1 dst=$2 n
  n=$(grep -c '^FROM rust:1-bookworm' "$src" || true)
  [ "$n" = 1 ] || fatal "$src: expected exactly one 'FROM rust:1-bookworm', found $n"
  n=$(grep -c '^FROM debian:bookworm-slim' "$src" || true)
  [ "$n" = 1 ] || fatal "$src: expected exactly one 'FROM debian:bookworm-slim', found $n"
  n=$(grep -cx 'RUN cargo install cargo-prebuild --locked' "$src" || true)
  [ "$n" = "${3:-1}" ] || fatal "$src: expected ${3:-1} 'RUN cargo install cargo-prebuild --locked', found $n"
  if [ "$ENGINE" = docker ] && [ "$n" = 1 ]; then
    sed -e "s#^FROM rust:1-bookworm#FROM $TOOL#" \
        -e "s#^FROM debian:bookworm-slim#FROM $NS/debian#" \
        -e '/^RUN cargo install cargo-prebuild --locked$/d' \
        "$src" >"$dst"
  else
    sed -e "s#^FROM rust:1-bookworm#FROM $NS/rust-base#" \
        -e "s#^FROM debian:bookworm-slim#FROM $NS/debian#" \
        -e 's#^RUN cargo install cargo-prebuild --locked$#COPY --from=cargo-prebuild-src . /usr/local/src/cargo-prebuild\nRUN cargo install --path /usr/local/src/cargo-prebuild --locked#' \
        "$src" >"$dst"
  fi
}
DF=$RUN/dockerfiles
render "$HERE/Dockerfile.naive" "$DF/Dockerfile.naive" 0
SRC=$WORK/cargo-prebuild-src
BC=()
[ "$ENGINE" = buildah ] && BC=(--build-context "cargo-prebuild-src=$SRC")

# The tested Dockerfiles are the README's: each one's body (the file without its leading
# comment lines) must be one of README.md's ```dockerfile blocks, verbatim.
readme_blocks() {
  awk -v d="$1" '/^```dockerfile$/ { n++; f = sprintf("%s/%d", d, n); printf "" > f; b = 1; next }
    b && /^```$/ { b = 0; next } b { print >> f }' "$REPO/README.md"
}
body() { awk '!s && /^#/ { next } { s = 1; print }' "$1"; }
in_readme() { # in_readme FILE: FILE's body is a README block
  local blk
  for blk in "$RUN/readme"/*; do cmp -s <(body "$1") "$blk" && return 0; done
  return 1
}
if [ -f "$REPO/README.md" ]; then
  mkdir -p "$RUN/readme"; readme_blocks "$RUN/readme"
  check "README: tests/containers/Dockerfile is the README's Dockerfile, verbatim" in_readme "$HERE/Dockerfile"
  if grep -q -- '--mount=type=cache' "$REPO/README.md"; then
    check "README: tests/containers/Dockerfile.cache-mount is the README's cache-mount Dockerfile" \
      in_readme "$HERE/Dockerfile.cache-mount"
  else
    echo "NOTE: README.md has no cache-mount Dockerfile yet (tests/containers/Dockerfile.cache-mount)"
  fi
fi

# ------------------------------------------------------------------ 5. workspaces
# overlay VARIANT WS: the variant's files over WS, stamped now like an edit. Keeping the
# checkout's mtimes is not enough: in a `git archive` export every file has the commit's time,
# and BuildKit's context transfer then skips a same-size replacement (bump's Cargo.lock) as
# unchanged, so the docker build saw the old lockfile.
overlay() { cp -R --no-preserve=timestamps "$HERE/variants/$1/." "$2/"; }
# new_ws NAME [VARIANT...]: a fresh copy of the fixture with variant overlays applied
new_ws() {
  local ws=$RUN/ws/$1 v; shift
  rm -rf "$ws"; mkdir -p "$ws"
  cp -a "$HERE/fixture/." "$ws/"
  for v in "$@"; do overlay "$v" "$ws"; done
  echo "$ws"
}
set_label() { sed -i "s/let label = \"[^\"]*\";/let label = \"$2\";/" "$1/app/src/main.rs"; grep -q "\"$2\"" "$1/app/src/main.rs"; }
# every file and folder of the context gets an mtime long before any layer of this run
age_tree() { find "$1" -exec touch -h -d '2001-02-03 04:05:06' {} +; }
expected() { # expected LABEL GREET_VERSION [HEX]
  local out="$1: hello ${GREET_EXTRA:-}from greet $2 on linux | 1_234_567"
  [ -n "${3:-}" ] && out="$out (hex $3)"
  echo "$out"
}
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

COOK='cargo prebuild cook'
FINAL='RUN cargo build --release --locked --bin app'
FINAL_CM='--release --locked --bin app'
REBUILD_LOCAL='cargo prebuild build --content-freshness --release'

if want neg; then
  # The naive dummy-main.rs Dockerfile must FAIL these mtime checks (ship its stub), which
  # shows that the checks of s5 can fail. It needs neither cargo-prebuild nor its image.
  WSN=$(new_ws naive-old-mtime)
  set_label "$WSN" fixture-old-mtime
  age_tree "$WSN"
  say "neg: negative control, the naive dummy-main.rs Dockerfile with sources older than its stub layer"
  L=$LOGS/s5a-naive.log
  if bud "$L" -f "$DF/Dockerfile.naive" -t "$NS/scenario-naive" "$WSN"; then
    show_steps "$L"
    got=$(run_image "$NS/scenario-naive" /usr/local/bin/app 2>&1 || true)
    echo "    naive image printed: '$got'"
    check "5 negative control: the naive Dockerfile ships the stub (so this test can fail)" \
      test "$got" != "$(expected fixture-old-mtime 0.1.0)"
  else
    fail "5 negative control build"
  fi

  if [ "$ENGINE" = buildah ]; then
  WSN=$(new_ws naive-timestamp)
  set_label "$WSN" fixture-timestamp
  printf '\n[profile.release]\ncodegen-units = 8\n' >>"$WSN/Cargo.toml"
  say "neg: negative control, the naive Dockerfile with buildah bud --timestamp"
  L=$LOGS/s5b-naive.log
  if bud "$L" --timestamp 1600000000 -f "$DF/Dockerfile.naive" -t "$NS/scenario-naive-ts" "$WSN"; then
    got=$(run_image "$NS/scenario-naive-ts" /usr/local/bin/app 2>&1 || true)
    echo "    naive image printed: '$got'"
    check "5 negative control: the naive Dockerfile ships the stub under --timestamp" \
      test "$got" != "$(expected fixture-timestamp 0.1.0)"
  else
    fail "5 negative control build"
  fi
  fi
fi

# ------------------------------------------------------------------ 6. scenarios
NEED_TOOL=0; for s in s1 s2 s3 s4 s5 s6 s7 reg; do want $s && NEED_TOOL=1; done
if [ "$NEED_TOOL" = 1 ]; then
  export_source
  TOOL=$NS/tool:$SRC_HASH
  render "$HERE/Dockerfile" "$DF/Dockerfile"
  render "$HERE/Dockerfile.cache-mount" "$DF/Dockerfile.cache-mount"
  say "tool: cargo install --path (clean export) --locked, inside the image"
  L=$LOGS/tool.log
  if [ "$ENGINE" = buildah ]; then
    # the README Dockerfile's own chef stage (COPY --from=cargo-prebuild-src + cargo install)
    bud "$L" -f "$DF/Dockerfile" "${BC[@]}" --target chef -t "$TOOL" "$RUN/tmp"
  elif has_image "$TOOL"; then
    echo "tool image $TOOL (this exact source) already built" >"$L"
  else
    bud "$L" -f "$HERE/base/tool.Dockerfile" -t "$TOOL" "$SRC"
  fi || { fail "7 tool: cargo install --path . --locked"; fatal "cannot continue without the tool"; }
  if step_ran "$L" 'cargo install --path'; then
    check "7 tool: cargo-prebuild compiled from source inside the image" log_has "$L" '^ *Compiling cargo-prebuild v'
  else
    pass "7 tool: image of this exact source already built (cache)"
  fi
  check "7 tool: 'cargo prebuild --help' works in the image" \
    run_image "$TOOL" sh -c 'cargo prebuild --help >/dev/null && test -x /usr/local/cargo/bin/cargo-prebuild'
  # older tool images (other sources) are not worth keeping
  for img in $(list_images | grep "^$NS/tool:" | grep -v ":$SRC_HASH\$" || true); do rmi "$img"; done
fi

IMG=$NS/scenario-app
WS=$(new_ws main)

if want s1; then
  say "s1: cold build of the README Dockerfile (3-member workspace, crates.io deps)"
  L=$LOGS/s1-cold.log
  if bud "$L" -f "$DF/Dockerfile" "${BC[@]}" -t "$IMG" "$WS"; then
    show_steps "$L"
    if [ "$ENGINE" = buildah ]; then
      check "1 chef stage (tool install) reused from the layer cache" step_cached "$L" 'cargo install --path'
    fi
    check "1 cook step ran" step_ran "$L" "$COOK"
    check "1 cook compiled itoa, cfg-if, smallvec" compiles "$L" "$COOK" itoa cfg-if smallvec
    check "1 final build compiled no external crate" no_external_compiled "$L" "$FINAL"
    check "1 final build compiled the workspace members" compiles "$L" "$FINAL" app greet numfmt
    check "1 image prints the real output" output_is "$IMG" "$(expected fixture-v1 0.1.0)"
  else
    fail "1 cold build"
  fi

  L=$LOGS/s1-nochange.log
  if bud "$L" -f "$DF/Dockerfile" "${BC[@]}" -t "$IMG" "$WS"; then
    check "1 rebuild with nothing changed: every RUN/COPY step cached" all_cached "$L"
  else
    fail "1 no-change rebuild"
  fi
fi

if want s2; then
  say "s2: source-only edit (app and greet)"
  set_label "$WS" fixture-v2
  sed -i 's/\["hello", "from", "greet"\]/["hello", "again", "from", "greet"]/' "$WS/greet/src/lib.rs"
  GREET_EXTRA="again "
  L=$LOGS/s2-source-edit.log
  if bud "$L" -f "$DF/Dockerfile" "${BC[@]}" -t "$IMG" "$WS"; then
    show_steps "$L"
    check "2 planner re-ran on the new sources" step_ran "$L" 'cargo prebuild prepare'
    # Stages interleave in the log, so the COPY --from=planner result line is ambiguous; the
    # digest the planner printed is not (and a cached cook step implies a cached COPY).
    if want s1; then
      check "2 skeleton is byte-identical to the cold build's (same digest)" same_skeleton "$LOGS/s1-cold.log" "$L"
    fi
    check "2 cook step is a cache hit" step_cached "$L" "$COOK"
    check "2 final build ran" step_ran "$L" "$FINAL"
    check "2 final build compiled no external crate" no_external_compiled "$L" "$FINAL"
    check "2 image prints the edited output" output_is "$IMG" "$(expected fixture-v2 0.1.0)"
  else
    fail "2 source-edit build"
  fi
fi

if want s3; then
  say "s3: local version bump (greet 0.1.0 -> 0.1.1, Cargo.lock too), description edit, a second test file"
  overlay bump "$WS"
  L=$LOGS/s3-bump.log
  if bud "$L" -f "$DF/Dockerfile" "${BC[@]}" -t "$IMG" "$WS"; then
    show_steps "$L"
    check "3 cook step is a cache hit" step_cached "$L" "$COOK"
    check "3 final build compiled no external crate" no_external_compiled "$L" "$FINAL"
    check "3 image prints the bumped version (real manifest, not the skeleton's)" \
      output_is "$IMG" "$(expected fixture-v2 0.1.1)"
  else
    fail "3 version-bump build"
  fi
fi

if want s4; then
  say "s4: dependency change (numfmt gains hex 0.4)"
  overlay dep-change "$WS"   # on top of s3's bump
  L=$LOGS/s4-dep-change.log
  if bud "$L" -f "$DF/Dockerfile" "${BC[@]}" -t "$IMG" "$WS"; then
    show_steps "$L"
    check "4 cook step re-ran" step_ran "$L" "$COOK"
    check "4 cook compiled hex" compiles "$L" "$COOK" hex
    check "4 final build compiled no external crate" no_external_compiled "$L" "$FINAL"
    check "4 image prints the output with the new dependency" \
      output_is "$IMG" "$(expected fixture-v2 0.1.1 000000000012d687)"
  else
    fail "4 dependency-change build"
  fi
fi
GREET_EXTRA=

if want s5; then
  say "s5a: sources older than the cook layer (mtime 2001), cook layer reused from s1"
  WS5=$(new_ws old-mtime)
  set_label "$WS5" fixture-old-mtime
  age_tree "$WS5"
  L=$LOGS/s5a-old-mtime.log
  if bud "$L" -f "$DF/Dockerfile" "${BC[@]}" -t "$NS/scenario-old-mtime" "$WS5"; then
    show_steps "$L"
    if want s1; then check "5a cook layer reused (older than nothing but the sources)" step_cached "$L" "$COOK"; fi
    check "5a final build compiled no external crate" no_external_compiled "$L" "$FINAL"
    check "5a image prints the real output, not a stub" output_is "$NS/scenario-old-mtime" "$(expected fixture-old-mtime 0.1.0)"
  else
    fail "5a old-mtime build"
  fi

  if [ "$ENGINE" = buildah ]; then
  say "s5b: buildah bud --timestamp (every file of every new layer stamped 2020-09-13)"
  # a profile change alters the dependency layer, so that cook really runs under --timestamp:
  # then the cooked target/ and the copied sources carry the very same mtime
  WS6=$(new_ws timestamp)
  set_label "$WS6" fixture-timestamp
  printf '\n[profile.release]\ncodegen-units = 8\n' >>"$WS6/Cargo.toml"
  L=$LOGS/s5b-timestamp.log
  if bud "$L" --timestamp 1600000000 -f "$DF/Dockerfile" "${BC[@]}" -t "$NS/scenario-timestamp" "$WS6"; then
    show_steps "$L"
    check "5b cook ran under --timestamp (new profile => new skeleton)" step_ran "$L" "$COOK"
    check "5b final build compiled no external crate" no_external_compiled "$L" "$FINAL"
    check "5b image prints the real output, not a stub" output_is "$NS/scenario-timestamp" "$(expected fixture-timestamp 0.1.0)"
  else
    fail "5b --timestamp build"
  fi

  fi
fi

if want s6; then
  say "s6: RUN --mount=type=cache for the registry and target/"
  WS7=$(new_ws cache-mount)
  set_label "$WS7" fixture-cm1
  CM=$NS/scenario-cache-mount
  L=$LOGS/s6-cm1.log
  if bud "$L" -f "$DF/Dockerfile.cache-mount" "${BC[@]}" -t "$CM" "$WS7"; then
    show_steps "$L"
    check "6 build 1: cook compiled the dependencies into the cache mount" compiles "$L" "$COOK" itoa
    check "6 build 1: final build compiled no external crate" no_external_compiled "$L" "$FINAL_CM"
    check "6 build 1: image prints the real output" output_is "$CM" "$(expected fixture-cm1 0.1.0)"
  else
    fail "6 cache-mount build 1"
  fi
  set_label "$WS7" fixture-cm2
  L=$LOGS/s6-cm2.log
  if bud "$L" -f "$DF/Dockerfile.cache-mount" "${BC[@]}" -t "$CM" "$WS7"; then
    show_steps "$L"
    check "6 build 2 (source edit): cook step is a cache hit" step_cached "$L" "$COOK"
    check "6 build 2: final build compiled no external crate" no_external_compiled "$L" "$FINAL_CM"
    check "6 build 2: nothing downloaded (registry cache mount reused)" not_in_log "$L" '^ *Downloaded '

    check "6 build 2: image prints the edited output" output_is "$CM" "$(expected fixture-cm2 0.1.0)"
  else
    fail "6 cache-mount build 2"
  fi
  # Sources older than the cached target/ (--timestamp, COPY --keep-ts, an old checkout): the
  # recipe's `cargo prebuild build --content-freshness` rebuilds the edited member (and only it:
  # the others' contents are what the cached artifacts were built from).
  set_label "$WS7" fixture-cm3
  age_tree "$WS7"
  L=$LOGS/s6-cm3-old-mtime.log
  if bud "$L" -f "$DF/Dockerfile.cache-mount" "${BC[@]}" -t "$CM" "$WS7"; then
    show_steps "$L"
    check "6 build 3 (source edit, sources older than the cached target/): final build compiled the edited member" \
      compiles "$L" "$FINAL_CM" app
    check "6 build 3: final build did not compile the unchanged members" \
      not_compiled "$L" "$FINAL_CM" greet numfmt
    check "6 build 3: final build compiled no external crate" no_external_compiled "$L" "$FINAL_CM"
    check "6 build 3: image prints the edited output" output_is "$CM" "$(expected fixture-cm3 0.1.0)"
  else
    fail "6 cache-mount build 3"
  fi
  # Control: the same recipe with a plain `cargo build` ships the previous build's binary, which
  # shows that content freshness is needed and that build 3's check can fail.
  [ "$(grep -cF -- "$REBUILD_LOCAL" "$DF/Dockerfile.cache-mount")" = 1 ] || fatal "Dockerfile.cache-mount lacks: $REBUILD_LOCAL"
  sed "s/$REBUILD_LOCAL/cargo build --release/" "$DF/Dockerfile.cache-mount" >"$DF/Dockerfile.cache-mount-plain-build"
  set_label "$WS7" fixture-cm4
  age_tree "$WS7"
  L=$LOGS/s6-cm4-plain-build.log
  if bud "$L" -f "$DF/Dockerfile.cache-mount-plain-build" "${BC[@]}" -t "$CM" "$WS7"; then
    show_steps "$L"
    got=$(run_image "$CM" /usr/local/bin/app 2>&1 || true)
    echo "    image built with plain cargo build printed: '$got'"
    check "6 control: with plain cargo build the cache-mount build ships the previous binary" \
      test "$got" = "$(expected fixture-cm3 0.1.0)"
  else
    fail "6 cache-mount control build"
  fi
fi

# s7: the final build seeded from the previous build's builder stage (the README's "Ephemeral
# CI: seed the final build from the previous builder image", local crates judged by content).
# A cold build (the seed an empty directory), then one-member edits of greet (app depends on it,
# numfmt does not) with the sources stamped old (2001) and new (now): each compiles greet and app
# only, nothing external, and the image prints the edit. Under `--timestamp` the seed's files are
# re-stamped too: every member compiles (the record vouches for no unit), the edit is printed.
seed_local_scenario() {
  local df=$DF/Dockerfile.seed-local img=$NS/scenario-seed-local ws L prev i
  local final='cargo prebuild build --seed /seed' counts=()
  # local_compiled LOG: the workspace members the final build compiled, sorted, one line
  local_compiled() { compiled "$1" "$final" | grep -xE "$LOCAL_CRATES" | tr '\n' ' ' | sed 's/ $//'; }
  exactly() { # exactly LOG "CRATE CRATE": the final build compiled exactly these members
    local got; got=$(local_compiled "$1")
    [ "$got" = "$2" ] || { echo "    members compiled: '$got', expected '$2'"; return 1; }
  }
  # the recipe block under the README heading, as consecutive lines of the Dockerfile
  recipe_in_readme() {
    local blk=$RUN/readme-seed-local
    awk '$0 == "### Ephemeral CI: seed the final build from the previous builder image" { s = 1; next }
      s && /^#+ / { exit } s && /^```dockerfile$/ { b = 1; next } b && /^```$/ { exit } b { print }' \
      "$REPO/README.md" >"$blk"
    [ -s "$blk" ] || { echo "    README: no such recipe block"; return 1; }
    python3 -c 'import sys
b, f = (open(p).read().splitlines() for p in sys.argv[1:3])
sys.exit(0 if any(f[i:i + len(b)] == b for i in range(len(f))) else 1)' "$blk" "$1"
  }
  # s7_build I PREVIOUS [BUD ARGS...]: the image (log s7-I.log), then its builder stage (all cache
  # hits) tagged as the next build's seed
  s7_build() {
    local i=$1 prev=$2; shift 2
    L=$LOGS/s7-$i.log
    bud "$L" "$@" -f "$df" "${BC[@]}" --build-context "previous=$prev" -t "$img" "$ws" &&
      bud "$LOGS/s7-$i-builder.log" "$@" -f "$df" "${BC[@]}" --build-context "previous=$prev" \
        --target builder -t "$img-builder-$i" "$ws"
  }
  edit_greet() { # one member edited: greet's greeting gains a word
    sed -i -E "s/\[\"hello\", (\"[a-z]+\", )?\"from\", \"greet\"\]/[\"hello\", \"$1\", \"from\", \"greet\"]/" "$ws/greet/src/lib.rs"
    grep -q "\"$1\"" "$ws/greet/src/lib.rs"
  }

  say "s7: the final build seeded from the previous builder image (local crates by content)"
  check "README: the recipe 'seed the final build from the previous builder image' is in Dockerfile.seed-local" \
    recipe_in_readme "$HERE/Dockerfile.seed-local"
  render "$HERE/Dockerfile.seed-local" "$df"
  ws=$(new_ws seed-local)
  set_label "$ws" fixture-sl
  mkdir -p "$RUN/empty-seed/app/target"

  say "s7 cold: no previous builder image yet (an empty directory as the seed)"
  if s7_build cold "$RUN/empty-seed"; then
    show_steps "$L"
    check "7 cold: the seed is refused with a note" log_has "$L" 'note: seed `/seed` (holds no content record|does not exist)'
    check "7 cold: final build compiled every member" exactly "$L" "app greet numfmt"
    check "7 cold: final build compiled no external crate" no_external_compiled "$L" "$final"
    check "7 cold: image prints the real output" output_is "$img" "$(expected fixture-sl 0.1.0)"
    counts+=("cold: $(local_compiled "$L" | wc -w)")
  else
    fail "7 cold build"; return
  fi

  prev=cold
  for i in old new timestamp; do
    [ "$i" = timestamp ] && [ "$ENGINE" != buildah ] && continue
    edit_greet "$i"
    local args=()
    case $i in
      old) say "s7 old: greet edited, every source stamped 2001 (older than the seed's artifacts)"; age_tree "$ws" ;;
      new) say "s7 new: greet edited, every source stamped now (newer than the seed's artifacts)"
           find "$ws" -exec touch -h {} + ;;
      timestamp) say "s7 timestamp: greet edited, buildah bud --timestamp (every file of every new layer stamped alike)"
           args=(--timestamp 1600000000) ;;
    esac
    if s7_build "$i" "container-image://$img-builder-$prev" "${args[@]}"; then
      show_steps "$L"
      check "7 $i: cook step is a cache hit" step_cached "$L" "$COOK"
      check "7 $i: the seed was planted" log_has "$L" 'Seeded .* from `/seed`'
      if [ "$i" = timestamp ]; then
        # --timestamp re-stamps the seed's files as they are copied in: the record can vouch for
        # none of its units (README, Limitations), so every member compiles, never a stale one.
        check "7 $i: seed re-stamped, no unit vouched for: final build compiled every member" \
          exactly "$L" "app greet numfmt"
      else
        check "7 $i: final build compiled greet and its dependent app, not numfmt" exactly "$L" "app greet"
      fi
      check "7 $i: final build compiled no external crate" no_external_compiled "$L" "$final"
      check "7 $i: image prints the edit" output_is "$img" "$(GREET_EXTRA="$i " expected fixture-sl 0.1.0)"
      counts+=("$i: $(local_compiled "$L" | wc -w)")
    else
      fail "7 $i build"; return
    fi
    prev=$i
  done
  echo "    members compiled by the final build (of 3): ${counts[*]}"
}
if want s7; then
  if [ "$ENGINE" = buildah ]; then seed_local_scenario
  else echo "NOTE: s7 needs named build contexts (--build-context), which docker 20.10 lacks: skipped"; fi
fi

if want reg; then
  . "$HERE/registry.sh"
  if [ "$ENGINE" = buildah ]; then reg_scenario; else reg_scenario_docker; fi
fi

# ------------------------------------------------------------------ summary
say "timings"
printf '%s\n' "${TIMES[@]}"
echo "whole suite: $(( $(date +%s) - T_START )) s"
say "result: $PASSED passed, $FAILED failed"
for f in "${FAILURES[@]}"; do echo "  FAILED: $f"; done
[ "$FAILED" = 0 ] || exit 1
echo "ALL CONTAINER CHECKS PASSED"

# tests/containers/registry.sh: the "reg" scenario of run.sh (sourced by it; buildah, and
# reg_scenario_docker for the docker engine).
#
# Ephemeral CI for real: builders with empty image stores that share nothing but an OCI
# registry on loopback (Debian's docker-registry, the CNCF distribution registry, plain HTTP on
# 127.0.0.1, its storage in this run's directory, stopped by PID in run.sh's cleanup).
#
#   push      the base images and the two tool images (cargo-prebuild: Dockerfile.tool;
#             cargo-chef: the chef stage of Dockerfile.cargo-chef) go to the registry; from
#             here on every builder pulls them like an ephemeral runner pulls rust:1-bookworm
#   A         an empty store builds the fixture cold with `--cache-to/--cache-from
#             <reg>/cache` (the previous CI run), then pushes the builder stage as
#             app-deps:<skeleton digest> and app-deps:latest
#   B1        another empty store, after a source edit: the cook step is pulled from the
#             registry cache, no external crate is compiled, the image prints the edit
#   B2        another empty store, after a dependency bump (memchr 2.8.2 -> 2.8.3 under
#             aho-corasick): Dockerfile.seed (the README's ephemeral-CI recipe) cooks with
#             --seed from app-deps:latest pulled from the registry, and compiles only the bump's
#             closure (memchr, aho-corasick), fewer than the cold cook of A
#   B3        another empty store, a source edit after the bump, with Dockerfile.seed as the
#             only Dockerfile: B2 moved app-deps:latest, so the seed copy and the cook re-run
#             once, and compile no external crate (every unit in the new seed is fresh)
#   B4        another empty store, another source edit with Dockerfile.seed: the seed has not
#             moved since B3, so the cook step is a cache hit pulled from the registry again
#   Each runner (but B3, B4) also builds cargo-chef's README recipe (Dockerfile.cargo-chef), for the
#   side-by-side figures; the two recipes' layers share nothing but the base images.
#   F1, F2    fleet.sh: B4's store and an empty one build Dockerfile.sccache (the README's
#             fleet recipe) without the layer cache, sharing an sccache backend (Redis on
#             loopback); F2's compiles are all sccache hits served by Redis
# Each build's wall time and the external crates it compiled go to a table at the end.

REG_NS=cargo-prebuild-test
REG_TABLE=()
# the external crates of the registry fixture (variants/registry), and the closure of its
# memchr bump (variants/registry-bump): memchr and aho-corasick, which depends on it
REG_ALL='aho-corasick cfg-if itoa memchr regex-syntax smallvec'
REG_CLOSURE='aho-corasick memchr'

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
registry_start() {
  local port i
  port=$(free_port)
  REG=127.0.0.1:$port
  REG_DIR=$RUN/registry
  mkdir -p "$REG_DIR/data"
  cat >"$REG_DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
http:
  addr: $REG
EOF
  docker-registry serve "$REG_DIR/config.yml" >"$LOGS/registry.log" 2>&1 &
  REG_PID=$!
  for i in $(seq 1 50); do
    curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && { echo "registry on http://$REG (pid $REG_PID)"; return 0; }
    sleep 0.2
  done
  tail -20 "$LOGS/registry.log"; fatal "docker-registry did not start"
}

# in_store DIR CMD...: run CMD (bud, bh, run_image, ...) against the image store under DIR
# (bash's dynamic scoping: the functions read BUILDAH when they run)
in_store() {
  local BUILDAH=(buildah --root "$1/root" --runroot "$1/run" --storage-driver overlay)
  shift; "$@"
}
drop_store() {
  in_store "$1" bh rm --all >/dev/null 2>&1 || true
  in_store "$1" bh rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$1"
}
push() { # push IMAGE REF: into the registry, uncompressed (loopback: gzip would only cost CPU)
  bh push --tls-verify=false --disable-compression --quiet "$1" "docker://$REG/$2" >>"$LOGS/push.log" 2>&1 \
    || { tail -5 "$LOGS/push.log"; return 1; }
}

# render_reg SRC DST TOOL: a Dockerfile whose chef stage starts FROM the tool image in the
# registry (its `RUN cargo install ...` line dropped) and whose runtime stage FROM the registry
render_reg() {
  local n
  n=$(grep -cE '^RUN cargo install (cargo-prebuild|cargo-chef) ' "$1" || true)
  [ "$n" = 1 ] || fatal "$1: expected one 'RUN cargo install' line, found $n"
  sed -e "s#^FROM rust:1-bookworm AS chef#FROM $REG/$REG_NS/$3 AS chef#" \
      -e "s#^FROM debian:bookworm-slim#FROM $REG/$REG_NS/debian#" \
      -e '/^RUN cargo install cargo-\(prebuild\|chef\) /d' "$1" >"$2"
  grep -q "^FROM $REG/$REG_NS/$3 AS chef" "$2" || fatal "$1: no 'FROM rust:1-bookworm AS chef'"
}

# readme_has_block FILE TITLE: the ```dockerfile block under the README heading TITLE appears in
# FILE as consecutive lines, unchanged
readme_has_block() {
  local blk=$RUN/readme-block
  awk -v t="$2" '$0 == t { s = 1; next } s && /^#+ / { exit } s && /^```dockerfile$/ { b = 1; next }
    b && /^```$/ { exit } b { print }' "$REPO/README.md" >"$blk"
  [ -s "$blk" ] || { echo "    README: no dockerfile block under '$2'"; return 1; }
  python3 - "$blk" "$1" <<'EOF'
import sys
blk, f = (open(p).read().splitlines() for p in sys.argv[1:3])
sys.exit(0 if any(f[i:i + len(blk)] == blk for i in range(len(f))) else 1)
EOF
}

# externals LOG: the external crates the whole build compiled, sorted, space-separated
externals() { log_text "$1" | sed -nE 's/^ *Compiling ([^ ]+) v.*/\1/p' | grep -vxE "$LOCAL_CRATES" | sort -u | tr '\n' ' ' | sed 's/ $//'; }
count_words() { wc -w <<<"$1" | tr -d ' '; }
# pulled_from_registry LOG TEXT: the step was a cache hit pulled from the registry cache
pulled_from_registry() {
  step_cached "$1" "$2" || { echo "    step '$2': $(step_status "$1" "$2")"; return 1; }
  step_output "$1" "$2" | grep -q "^--> Cache pulled from remote $REG/$REG_NS/cache:" \
    || { echo "    step '$2' was cached but not pulled from $REG"; return 1; }
}

# push_deps STORE DOCKERFILE WS LOG [BUD-ARGS...]: the builder stage (a layer-cache hit of the
# build that LOG logged) to app-deps:sha256-<skeleton digest>, and to app-deps:latest. The CI
# recipe pushes only when that digest is new, so that app-deps:latest, the next runs' seed,
# stays the same image (and `COPY --from=deps` a cache hit) until the dependencies change.
push_deps() {
  local store=$1 df=$2 ws=$3 log=$4 digest; shift 4
  digest=$(skeleton_digest "$log"); digest=${digest#sha256:}
  [ -n "$digest" ] || { echo "    no skeleton digest in $log"; return 1; }
  curl -fsI -H 'Accept: application/vnd.oci.image.manifest.v1+json' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REG/v2/$REG_NS/app-deps/manifests/sha256-$digest" >/dev/null 2>&1 \
    && { echo "    app-deps:sha256-${digest:0:12}... already in the registry"; return 0; }
  in_store "$store" bud "${log%.log}-deps.log" --tls-verify=false -f "$df" "$@" --target builder -t "$NS/app-deps" "$ws" \
    && in_store "$store" push "$NS/app-deps" "$REG_NS/app-deps:sha256-$digest" \
    && in_store "$store" push "$NS/app-deps" "$REG_NS/app-deps:latest" \
    && echo "    pushed the builder stage as app-deps:sha256-${digest:0:12}... and app-deps:latest"
}

# reg_build ROW STORE LOG BUD-ARGS...: a timed build in the store STORE with the registry cache;
# the base images are pulled first (not timed: a runner pulls rust:1-bookworm either way)
reg_build() {
  local row=$1 store=$2 log=$3 t0 dt rc=0 ext; shift 3
  t0=$(now)
  in_store "$store" bud "$log" --tls-verify=false \
    --cache-from "$REG/$REG_NS/cache" --cache-to "$REG/$REG_NS/cache" "$@" || rc=$?
  dt=$(since "$t0")
  show_steps "$log"
  ext=$(externals "$log")
  REG_TABLE+=("$(printf '%-58s %7ss %3s  %s' "$row" "$dt" "$(count_words "$ext")" "$ext")")
  return "$rc"
}
pull_bases() { # pull_bases STORE TOOL...: what every runner pulls before building
  local store=$1 img t0; shift; t0=$(now)
  for img in "$@" debian; do
    in_store "$store" bh pull --tls-verify=false --quiet "docker://$REG/$REG_NS/$img" >/dev/null \
      || { fail "pull $img from the registry"; return 1; }
  done
  echo "    pulled $* and debian from the registry in $(since "$t0") s (not timed below)"
}

reg_scenario() {
  local wsa wsb1 wsb2 wsb3 wsb4 stores=$RUN/stores dfp dfs dfc cold_ext seed_ext chef_tool img L
  say "reg: ephemeral runners sharing nothing but a registry on loopback"
  REG_T0=$(now)
  if ! check "reg: README ephemeral-CI recipe is in tests/containers/Dockerfile.seed, verbatim" \
    readme_has_block "$HERE/Dockerfile.seed" '### Ephemeral CI: seed the cook from the previous dependency image'; then
    return
  fi
  check "README: tests/containers/Dockerfile.tool is the README's tool image, verbatim" in_readme "$HERE/Dockerfile.tool"
  registry_start

  # the tool images, in the suite's store: Dockerfile.tool repeats the README chef stage's
  # install, so it is a layer-cache hit after step 7; cargo-chef is compiled once per store
  sed -e "s#^FROM rust:1-bookworm\$#FROM $NS/rust-base#" \
      -e 's#^RUN cargo install cargo-prebuild --locked$#COPY --from=cargo-prebuild-src . /usr/local/src/cargo-prebuild\nRUN cargo install --path /usr/local/src/cargo-prebuild --locked#' \
      "$HERE/Dockerfile.tool" >"$DF/Dockerfile.tool"
  grep -q '^RUN cargo install --path' "$DF/Dockerfile.tool" || fatal "Dockerfile.tool: no 'RUN cargo install cargo-prebuild --locked'"
  L=$LOGS/reg-tool-image.log
  bud "$L" -f "$DF/Dockerfile.tool" "${BC[@]}" -t "$NS/cargo-prebuild:$SRC_HASH" "$RUN/tmp" \
    || { fail "reg: build Dockerfile.tool"; return; }
  check "reg: Dockerfile.tool is a layer-cache hit of the README chef stage (no compile)" \
    step_cached "$L" 'cargo install --path'
  check "reg: 'cargo prebuild --help' works in the tool image" \
    run_image "$NS/cargo-prebuild:$SRC_HASH" sh -c 'cargo prebuild --help >/dev/null'
  for img in $(list_images | grep "^$NS/cargo-prebuild:" | grep -v ":$SRC_HASH\$" || true); do rmi "$img"; done
  chef_tool=$NS/cargo-chef:0.1.78
  render "$HERE/Dockerfile.cargo-chef" "$DF/Dockerfile.cargo-chef-tool" 0
  if ! has_image "$chef_tool"; then
    say "reg: cargo install cargo-chef --locked --version 0.1.78 (once per store)"
    bud "$LOGS/reg-chef-tool.log" -f "$DF/Dockerfile.cargo-chef-tool" --target chef -t "$chef_tool" "$RUN/tmp" \
      || { fail "reg: build the cargo-chef tool image"; return; }
  fi
  local t0; t0=$(now)
  push "$NS/debian" "$REG_NS/debian" && push "$NS/cargo-prebuild:$SRC_HASH" "$REG_NS/cargo-prebuild" \
    && push "$chef_tool" "$REG_NS/cargo-chef" || { fail "reg: push the base and tool images"; return; }
  echo "pushed the base and tool images in $(since "$t0") s"

  dfp=$DF/Dockerfile.reg; dfs=$DF/Dockerfile.reg-seed; dfc=$DF/Dockerfile.reg-chef
  render_reg "$HERE/Dockerfile" "$dfp" cargo-prebuild
  render_reg "$HERE/Dockerfile.seed" "$dfs" cargo-prebuild
  render_reg "$HERE/Dockerfile.cargo-chef" "$dfc" cargo-chef
  wsa=$(new_ws reg-a registry); set_label "$wsa" reg-v1
  wsb1=$(new_ws reg-b1 registry); set_label "$wsb1" reg-v2
  wsb2=$(new_ws reg-b2 registry registry-bump); set_label "$wsb2" reg-v3
  wsb3=$(new_ws reg-b3 registry registry-bump); set_label "$wsb3" reg-v4
  wsb4=$(new_ws reg-b4 registry registry-bump); set_label "$wsb4" reg-v5

  local CCOOK='cargo chef cook'
  # Three runners, each with an empty store (A: the previous CI run; B1, B2: this one after a
  # source edit or a dependency bump). Each builds with both tools: their layers share nothing
  # but the pre-pulled base images, so neither build helps the other.
  say "reg A: empty store, cold builds, --cache-to the registry"
  pull_bases "$stores/a" cargo-prebuild cargo-chef || return
  L=$LOGS/reg-a-cold.log
  if reg_build "cargo-prebuild  A   cold" "$stores/a" "$L" -f "$dfp" -t "$NS/scenario-reg" "$wsa"; then
    check "reg A: cook ran" step_ran "$L" "$COOK"
    cold_ext=$(external_compiled "$L" "$COOK" | tr '\n' ' ')
    check "reg A: cook compiled every external crate ($REG_ALL)" test "$(echo $cold_ext)" = "$REG_ALL"
    check "reg A: image prints the real output" in_store "$stores/a" output_is "$NS/scenario-reg" "$(expected reg-v1 0.1.0)"
    check "reg A: pushed the dependency image (app-deps:<skeleton digest>, app-deps:latest)" \
      push_deps "$stores/a" "$dfp" "$wsa" "$L"
  else
    fail "reg A: cold build"
  fi
  L=$LOGS/reg-chef-a-cold.log
  if reg_build "cargo-chef      A   cold" "$stores/a" "$L" -f "$dfc" -t "$NS/scenario-reg-chef" "$wsa"; then
    check "reg chef A: cook compiled every external crate" test "$(echo $(external_compiled "$L" "$CCOOK"))" = "$REG_ALL"
    check "reg chef A: image prints the real output" in_store "$stores/a" output_is "$NS/scenario-reg-chef" "$(expected reg-v1 0.1.0)"
  else
    fail "reg chef A: cold build"
  fi
  drop_store "$stores/a"

  say "reg B1: another empty store, source edit"
  pull_bases "$stores/b1" cargo-prebuild cargo-chef || return
  L=$LOGS/reg-b1-edit.log
  if reg_build "cargo-prebuild  B1  source edit" "$stores/b1" "$L" -f "$dfp" -t "$NS/scenario-reg" "$wsb1"; then
    check "reg B1: cook step is a cache hit pulled from the registry" pulled_from_registry "$L" "$COOK"
    check "reg B1: no external crate compiled" test -z "$(externals "$L")"
    check "reg B1: image prints the edit" in_store "$stores/b1" output_is "$NS/scenario-reg" "$(expected reg-v2 0.1.0)"
  else
    fail "reg B1: source-edit build"
  fi
  L=$LOGS/reg-chef-b1-edit.log
  if reg_build "cargo-chef      B1  source edit" "$stores/b1" "$L" -f "$dfc" -t "$NS/scenario-reg-chef" "$wsb1"; then
    check "reg chef B1: cook step is a cache hit pulled from the registry" pulled_from_registry "$L" "$CCOOK"
    check "reg chef B1: no external crate compiled" test -z "$(externals "$L")"
    check "reg chef B1: image prints the edit" in_store "$stores/b1" output_is "$NS/scenario-reg-chef" "$(expected reg-v2 0.1.0)"
  else
    fail "reg chef B1: source-edit build"
  fi
  drop_store "$stores/b1"

  say "reg B2: another empty store, dependency bump (memchr 2.8.2 -> 2.8.3), cook --seed from app-deps:latest"
  pull_bases "$stores/b2" cargo-prebuild cargo-chef || return
  L=$LOGS/reg-b2-bump.log
  if reg_build "cargo-prebuild  B2  dependency bump, cook --seed" "$stores/b2" "$L" -f "$dfs" \
    --build-context "deps=docker-image://$REG/$REG_NS/app-deps:latest" -t "$NS/scenario-reg" "$wsb2"; then
    check "reg B2: the seed came from app-deps:latest in the registry" \
      log_has "$L" "^Trying to pull $REG/$REG_NS/app-deps:latest"
    check "reg B2: seeded cook ran and seeded target/" log_has "$L" 'Seeded `/app/target` from `/seed`'
    seed_ext=$(external_compiled "$L" "$COOK" | tr '\n' ' ')
    echo "    cold cook compiled: $cold_ext; seeded cook: $seed_ext"
    check "reg B2: seeded cook compiled exactly the bump's closure ($REG_CLOSURE)" \
      test "$(echo $seed_ext)" = "$REG_CLOSURE"
    check "reg B2: seeded cook compiled fewer crates than the cold cook" \
      test "$(count_words "$seed_ext")" -lt "$(count_words "$cold_ext")"
    check "reg B2: final build compiled no external crate" no_external_compiled "$L" "$FINAL"
    check "reg B2: image prints the output" in_store "$stores/b2" output_is "$NS/scenario-reg" "$(expected reg-v3 0.1.0)"
    check "reg B2: pushed the new dependency image" \
      push_deps "$stores/b2" "$dfs" "$wsb2" "$L" --build-context "deps=docker-image://$REG/$REG_NS/app-deps:latest"
  else
    fail "reg B2: dependency-bump build"
  fi
  L=$LOGS/reg-chef-b2-bump.log
  if reg_build "cargo-chef      B2  dependency bump" "$stores/b2" "$L" -f "$dfc" -t "$NS/scenario-reg-chef" "$wsb2"; then
    check "reg chef B2: cook re-ran and compiled every external crate again" \
      test "$(echo $(external_compiled "$L" "$CCOOK"))" = "$REG_ALL"
    check "reg chef B2: image prints the output" in_store "$stores/b2" output_is "$NS/scenario-reg-chef" "$(expected reg-v3 0.1.0)"
  else
    fail "reg chef B2: dependency-bump build"
  fi
  drop_store "$stores/b2"

  say "reg B3: another empty store, source edit after the bump, with the seed recipe as the only Dockerfile"
  pull_bases "$stores/b3" cargo-prebuild || return
  L=$LOGS/reg-b3-edit.log
  if reg_build "cargo-prebuild  B3  source edit, seed recipe" "$stores/b3" "$L" -f "$dfs" \
    --build-context "deps=docker-image://$REG/$REG_NS/app-deps:latest" -t "$NS/scenario-reg" "$wsb3"; then
    # B2 moved app-deps:latest, so the seed copy (keyed by its content) and the cook re-run
    # once; every dependency unit in the new seed is fresh for this skeleton
    check "reg B3: planner's skeleton is B2's (same digest)" same_skeleton "$LOGS/reg-b2-bump.log" "$L"
    check "reg B3: chef stage pulled from the registry cache" pulled_from_registry "$L" 'WORKDIR /app'
    check "reg B3: seeded cook compiled no external crate (the new seed is fresh)" no_external_compiled "$L" "$COOK"
    check "reg B3: no external crate compiled at all" test -z "$(externals "$L")"
    check "reg B3: image prints the edit" in_store "$stores/b3" output_is "$NS/scenario-reg" "$(expected reg-v4 0.1.0)"
  else
    fail "reg B3: source-edit build with the seed recipe"
  fi
  drop_store "$stores/b3"

  say "reg B4: another empty store, another source edit with the seed recipe (the seed has not moved since B3)"
  t0=$(now)
  pull_bases "$stores/b4" cargo-prebuild || return
  L=$LOGS/reg-b4-edit.log
  if reg_build "cargo-prebuild  B4  source edit, seed recipe" "$stores/b4" "$L" -f "$dfs" \
    --build-context "deps=docker-image://$REG/$REG_NS/app-deps:latest" -t "$NS/scenario-reg" "$wsb4"; then
    # the steady state: B3 pushed the seeded cook's layer, keyed by the same seed and skeleton
    check "reg B4: cook step is a cache hit pulled from the registry again" pulled_from_registry "$L" "$COOK"
    check "reg B4: no external crate compiled" test -z "$(externals "$L")"
    check "reg B4: image prints the edit" in_store "$stores/b4" output_is "$NS/scenario-reg" "$(expected reg-v5 0.1.0)"
  else
    fail "reg B4: second source-edit build with the seed recipe"
  fi
  TIMES+=("$(printf '%-44s %6ss' "[$ENGINE] reg B4, all (pulls included)" "$(since "$t0")")")

  reg_fleet b4   # takes B4's store down

  say "reg: builds on empty stores (wall time, external crates compiled)"
  printf '%-58s %8s %3s  %s\n' "build (runner, step)" wall ext "external crates compiled"
  printf '%s\n' "${REG_TABLE[@]}"
  TIMES+=("$(printf '%-44s %6ss' "[$ENGINE] reg, all" "$(since "$REG_T0")")")
}

# ------------------------------------------------------------------ docker 20.10
# Debian's docker.io 20.10 has BuildKit's built-in builder only: no `--cache-to`, no named
# build contexts. What it does have is the inline cache (`--build-arg BUILDKIT_INLINE_CACHE=1`),
# which records the cache of the stages that make up the image built, and `--cache-from
# <image>`. So the dependency image (`--target builder`, inline cache) is also the cache
# source, and the seed recipe gets its `deps` stage from a `FROM <registry>/app-deps:latest AS
# deps` line. Each runner is a dockerd of its own with an empty data-root. cargo-chef's recipe
# runs the same way on A, B1 and B2: its builder stage with the inline cache is app-chef-deps.

# docker_up DIR: start an empty dockerd for one runner (its exec-root is short: containerd's
# socket path must fit in a sockaddr_un)
docker_up() {
  local d=$1 x=/run/cpr-$$-$(basename "$1") i
  mkdir -p "$d"; echo "$x" >"$d/exec-root"
  /usr/sbin/dockerd --data-root "$d/root" --exec-root "$x" --pidfile "$d/dockerd.pid" \
    -H "unix://$d/docker.sock" --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    >"$d/dockerd.log" 2>&1 &
  echo $! >"$d/pid"
  for i in $(seq 1 60); do /usr/bin/docker -H "unix://$d/docker.sock" info >/dev/null 2>&1 && return 0; sleep 0.5; done
  tail -20 "$d/dockerd.log"; return 1
}
# docker_down DIR: stop that dockerd by its PID and delete its state
docker_down() {
  local d=$1 pid x
  pid=$(cat "$d/pid" 2>/dev/null) || return 0
  x=$(cat "$d/exec-root")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true   # its exit status is the signal's: not a failure here
  umount "$x/netns/default" 2>/dev/null || true
  rm -rf "$d" "$x"
}
in_daemon() { local DOCKER=(/usr/bin/docker -H "unix://$1/docker.sock"); shift; "$@"; }
dpush() { # dpush IMAGE REF
  local rc=0
  "${DOCKER[@]}" tag "$1" "$REG/$2" && "${DOCKER[@]}" push "$REG/$2" >>"$LOGS/push.log" 2>&1 || rc=$?
  "${DOCKER[@]}" image rm "$REG/$2" >/dev/null 2>&1   # only the tag: the registry's port changes per run
  [ "$rc" = 0 ] || tail -5 "$LOGS/push.log"
  return "$rc"
}
dpull_bases() { # dpull_bases [TOOL]: the tool image (default cargo-prebuild) and debian
  local img t0; t0=$(now)
  for img in "${1:-cargo-prebuild}" debian; do
    "${DOCKER[@]}" pull -q "$REG/$REG_NS/$img" >/dev/null || { fail "pull $img from the registry"; return 1; }
  done
  echo "    pulled ${1:-cargo-prebuild} and debian from the registry in $(since "$t0") s (not timed below)"
}
# dreg_build ROW LOG BUD-ARGS...: a timed build (in the daemon in_daemon chose)
dreg_build() {
  local row=$1 log=$2 t0 dt rc=0 ext; shift 2
  t0=$(now)
  bud "$log" "$@" || rc=$?
  dt=$(since "$t0")
  show_steps "$log"
  ext=$(externals "$log")
  REG_TABLE+=("$(printf '%-58s %7ss %3s  %s' "$row" "$dt" "$(count_words "$ext")" "$ext")")
  return "$rc"
}
# cache_imported LOG TEXT [REPO]: the step is CACHED in a build that imported its cache from
# the registry's REPO (default app-deps)
cache_imported() {
  step_cached "$1" "$2" || { echo "    step '$2': $(step_status "$1" "$2")"; return 1; }
  grep -q "importing cache manifest from $REG/$REG_NS/${3:-app-deps}:" "$1" \
    || { echo "    no cache imported from $REG/$REG_NS/${3:-app-deps}"; return 1; }
}
# dchef_tool: cargo-chef's tool image into the registry. From the main dockerd if it has it, else
# from the buildah store of the same work dir (.ci/run builds it there first: compiling
# cargo-chef again would cost minutes), else built here once (it then stays, like the base images).
dchef_tool() {
  local img=$NS/cargo-chef:0.1.78 b=(buildah --root "$WORK/storage/root" --runroot "$WORK/storage/run" --storage-driver overlay)
  if ! has_image "$img" && "${b[@]}" inspect --type image "$img" >/dev/null 2>&1; then
    "${b[@]}" push --tls-verify=false --disable-compression --quiet "$img" "docker://$REG/$REG_NS/cargo-chef" >>"$LOGS/push.log" 2>&1 \
      && { echo "    cargo-chef tool image pushed from the buildah store of $WORK"; return 0; }
  fi
  if ! has_image "$img"; then
    say "reg docker: cargo install cargo-chef --locked --version 0.1.78 (once per work dir)"
    render "$HERE/Dockerfile.cargo-chef" "$DF/Dockerfile.cargo-chef-tool" 0
    bud "$LOGS/dreg-chef-tool.log" -f "$DF/Dockerfile.cargo-chef-tool" --target chef -t "$img" "$RUN/tmp" || return 1
  fi
  dpush "$img" "$REG_NS/cargo-chef"
}

reg_scenario_docker() {
  local d=$RUN/dockers dfp dfs dfc wsa wsb1 wsb2 cold_ext seed_ext L digest CCOOK='cargo chef cook'
  local INLINE=(--build-arg BUILDKIT_INLINE_CACHE=1) FROMC CHEFC t0 chef_t=0
  say "reg (docker 20.10): ephemeral runners sharing nothing but a registry on loopback"
  REG_T0=$(now)
  registry_start
  FROMC=(--cache-from "$REG/$REG_NS/app-deps:latest")
  CHEFC=(--cache-from "$REG/$REG_NS/app-chef-deps:latest")
  dpush "$NS/debian" "$REG_NS/debian" && dpush "$TOOL" "$REG_NS/cargo-prebuild" && dchef_tool \
    || { fail "reg docker: push the base and tool images"; return; }
  dfp=$DF/Dockerfile.reg; dfs=$DF/Dockerfile.reg-seed; dfc=$DF/Dockerfile.reg-chef
  render_reg "$HERE/Dockerfile" "$dfp" cargo-prebuild
  render_reg "$HERE/Dockerfile.cargo-chef" "$dfc" cargo-chef
  { echo "FROM $REG/$REG_NS/app-deps:latest AS deps"; cat "$HERE/Dockerfile.seed"; } >"$RUN/Dockerfile.seed-deps"
  render_reg "$RUN/Dockerfile.seed-deps" "$dfs" cargo-prebuild
  wsa=$(new_ws dreg-a registry); set_label "$wsa" reg-v1
  wsb1=$(new_ws dreg-b1 registry); set_label "$wsb1" reg-v2
  wsb2=$(new_ws dreg-b2 registry registry-bump); set_label "$wsb2" reg-v3

  say "reg docker A: empty dockerd, cold build of the builder stage with the inline cache, pushed as app-deps"
  docker_up "$d/a" || { fail "reg docker: start a second dockerd"; return; }
  in_daemon "$d/a" dpull_bases || { docker_down "$d/a"; return; }
  L=$LOGS/dreg-a-cold.log
  if in_daemon "$d/a" dreg_build "cargo-prebuild  A   cold (docker)" "$L" -f "$dfp" "${INLINE[@]}" --target builder -t "$NS/app-deps" "$wsa"; then
    cold_ext=$(external_compiled "$L" "$COOK" | tr '\n' ' ')
    check "reg docker A: cook compiled every external crate" test "$(echo $cold_ext)" = "$REG_ALL"
    digest=$(skeleton_digest "$L"); digest=${digest#sha256:}
    check "reg docker A: pushed app-deps:<skeleton digest> and app-deps:latest (inline cache)" \
      in_daemon "$d/a" eval 'dpush "$NS/app-deps" "$REG_NS/app-deps:sha256-$digest" && dpush "$NS/app-deps" "$REG_NS/app-deps:latest"'
    if in_daemon "$d/a" bud "$LOGS/dreg-a-image.log" -f "$dfp" -t "$NS/scenario-reg" "$wsa"; then
      check "reg docker A: image prints the real output" in_daemon "$d/a" output_is "$NS/scenario-reg" "$(expected reg-v1 0.1.0)"
    else
      fail "reg docker A: runtime image"
    fi
  else
    fail "reg docker A: cold build"
  fi
  # cargo-chef's recipe the same way: its builder stage with the inline cache is the cache source
  t0=$(now)
  in_daemon "$d/a" dpull_bases cargo-chef >/dev/null || { docker_down "$d/a"; return; }
  L=$LOGS/dreg-chef-a-cold.log
  if in_daemon "$d/a" dreg_build "cargo-chef      A   cold (docker)" "$L" -f "$dfc" "${INLINE[@]}" --target builder -t "$NS/app-chef-deps" "$wsa"; then
    check "reg docker chef A: cook compiled every external crate" test "$(echo $(external_compiled "$L" "$CCOOK"))" = "$REG_ALL"
    check "reg docker chef A: pushed app-chef-deps:latest (inline cache)" in_daemon "$d/a" dpush "$NS/app-chef-deps" "$REG_NS/app-chef-deps:latest"
    if in_daemon "$d/a" bud "$LOGS/dreg-chef-a-image.log" -f "$dfc" -t "$NS/scenario-reg-chef" "$wsa"; then
      check "reg docker chef A: image prints the real output" in_daemon "$d/a" output_is "$NS/scenario-reg-chef" "$(expected reg-v1 0.1.0)"
    else
      fail "reg docker chef A: runtime image"
    fi
  else
    fail "reg docker chef A: cold build"
  fi
  chef_t=$(awk -v a="$chef_t" -v b="$(since "$t0")" 'BEGIN { print a + b }')
  docker_down "$d/a"

  say "reg docker B1: another empty dockerd, source edit, --cache-from app-deps:latest"
  docker_up "$d/b1" || { fail "reg docker: start a second dockerd"; return; }
  in_daemon "$d/b1" dpull_bases || { docker_down "$d/b1"; return; }
  L=$LOGS/dreg-b1-edit.log
  if in_daemon "$d/b1" dreg_build "cargo-prebuild  B1  source edit (docker)" "$L" -f "$dfp" "${FROMC[@]}" -t "$NS/scenario-reg" "$wsb1"; then
    check "reg docker B1: cook step CACHED, cache imported from the registry" cache_imported "$L" "$COOK"
    check "reg docker B1: no external crate compiled" test -z "$(externals "$L")"
    check "reg docker B1: image prints the edit" in_daemon "$d/b1" output_is "$NS/scenario-reg" "$(expected reg-v2 0.1.0)"
  else
    fail "reg docker B1: source-edit build"
  fi
  t0=$(now)
  in_daemon "$d/b1" dpull_bases cargo-chef >/dev/null || { docker_down "$d/b1"; return; }
  L=$LOGS/dreg-chef-b1-edit.log
  if in_daemon "$d/b1" dreg_build "cargo-chef      B1  source edit (docker)" "$L" -f "$dfc" "${CHEFC[@]}" -t "$NS/scenario-reg-chef" "$wsb1"; then
    check "reg docker chef B1: cook step CACHED, cache imported from the registry" cache_imported "$L" "$CCOOK" app-chef-deps
    check "reg docker chef B1: no external crate compiled" test -z "$(externals "$L")"
    check "reg docker chef B1: image prints the edit" in_daemon "$d/b1" output_is "$NS/scenario-reg-chef" "$(expected reg-v2 0.1.0)"
  else
    fail "reg docker chef B1: source-edit build"
  fi
  chef_t=$(awk -v a="$chef_t" -v b="$(since "$t0")" 'BEGIN { print a + b }')
  docker_down "$d/b1"

  say "reg docker B2: another empty dockerd, dependency bump, cook --seed from app-deps:latest"
  docker_up "$d/b2" || { fail "reg docker: start a second dockerd"; return; }
  in_daemon "$d/b2" dpull_bases || { docker_down "$d/b2"; return; }
  L=$LOGS/dreg-b2-bump.log
  if in_daemon "$d/b2" dreg_build "cargo-prebuild  B2  dependency bump, cook --seed (docker)" "$L" -f "$dfs" "${FROMC[@]}" -t "$NS/scenario-reg" "$wsb2"; then
    check "reg docker B2: seeded cook ran and seeded target/" log_has "$L" 'Seeded `/app/target` from `/seed`'
    seed_ext=$(external_compiled "$L" "$COOK" | tr '\n' ' ')
    echo "    cold cook compiled: $cold_ext; seeded cook: $seed_ext"
    check "reg docker B2: seeded cook compiled exactly the bump's closure ($REG_CLOSURE)" test "$(echo $seed_ext)" = "$REG_CLOSURE"
    check "reg docker B2: final build compiled no external crate" no_external_compiled "$L" "$FINAL"
    check "reg docker B2: image prints the output" in_daemon "$d/b2" output_is "$NS/scenario-reg" "$(expected reg-v3 0.1.0)"
  else
    fail "reg docker B2: dependency-bump build"
  fi
  t0=$(now)
  in_daemon "$d/b2" dpull_bases cargo-chef >/dev/null || { docker_down "$d/b2"; return; }
  L=$LOGS/dreg-chef-b2-bump.log
  if in_daemon "$d/b2" dreg_build "cargo-chef      B2  dependency bump (docker)" "$L" -f "$dfc" "${CHEFC[@]}" -t "$NS/scenario-reg-chef" "$wsb2"; then
    check "reg docker chef B2: cook re-ran and compiled every external crate again" \
      test "$(echo $(external_compiled "$L" "$CCOOK"))" = "$REG_ALL"
    check "reg docker chef B2: image prints the output" in_daemon "$d/b2" output_is "$NS/scenario-reg-chef" "$(expected reg-v3 0.1.0)"
  else
    fail "reg docker chef B2: dependency-bump build"
  fi
  chef_t=$(awk -v a="$chef_t" -v b="$(since "$t0")" 'BEGIN { print a + b }')
  TIMES+=("$(printf '%-44s %6ss' "[$ENGINE] reg cargo-chef runs (pulls included)" "$chef_t")")

  reg_fleet b2   # takes B2's dockerd down

  say "reg docker: builds on empty dockerds (wall time, external crates compiled)"
  printf '%-58s %8s %3s  %s\n' "build (runner, step)" wall ext "external crates compiled"
  printf '%s\n' "${REG_TABLE[@]}"
  TIMES+=("$(printf '%-44s %6ss' "[$ENGINE] reg, all" "$(since "$REG_T0")")")
}

. "$HERE/fleet.sh"

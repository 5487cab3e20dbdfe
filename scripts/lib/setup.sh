# setup.sh — shared set-up for scripts/demo and scripts/test: the Debian packages the project needs, and a
# quiet cmake configure+build. Sourced, not run. Not a general installer: Debian/Ubuntu (apt) only.

GOSSIP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GOSSIP_JOBS="${GOSSIP_JOBS:-2}"

# Everything the build, the tests, the benchmarks' plots and the namespace tests use.
GOSSIP_PACKAGES=(build-essential cmake pkg-config libzmq3-dev cppzmq-dev libtomlplusplus-dev libsodium-dev catch2 python3
                 graphviz python3-matplotlib iproute2 clang libclang-rt-14-dev)

# Installs whatever of GOSSIP_PACKAGES is missing. Silent when all are there. Runs `apt-get update` only when
# something is missing. Exits 1 with a message when something is missing and we are not root.
gossip_ensure_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "setup: not a Debian-based system (no dpkg-query); make sure these are installed:" >&2
    echo "  ${GOSSIP_PACKAGES[*]}" >&2
    return 0
  fi
  local missing=() p
  for p in "${GOSSIP_PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != "installed" ]; then
      missing+=("$p")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: run this script as root, or install them first:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq || ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "setup: apt-get failed to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installed ${missing[*]}"
}

# gossip_build DIR BUILD_TYPE [cmake args...] [-- target...]: configures the project in DIR and builds the
# given targets (all when none are given). Quiet on success (one line); the full output is in
# DIR/gossip-build.log and its tail is printed on failure (then exit 1).
gossip_build() {
  local dir="$1" type="$2"
  shift 2
  local args=() targets=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ $# -gt 0 ] && shift && targets=("$@")
  local log="$dir/gossip-build.log" started=$SECONDS
  mkdir -p "$dir"
  printf 'build: %s (%s%s) ... ' "${dir#"$GOSSIP_ROOT"/}" "$type" "${targets[*]:+: ${targets[*]}}"
  if ! { cmake -S "$GOSSIP_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" "${args[@]}" &&
         cmake --build "$dir" -j"$GOSSIP_JOBS" ${targets[@]:+--target "${targets[@]}"}; } >"$log" 2>&1; then
    echo "FAILED"
    tail -n 40 "$log" >&2
    echo "build: the full output is in $log" >&2
    exit 1
  fi
  local warnings note=""
  warnings=$(grep -c 'warning:' "$log" || true)
  [ "${warnings:-0}" -gt 0 ] && note=", $warnings compiler warnings: see $log"
  echo "ok ($((SECONDS - started)) s$note)"
}

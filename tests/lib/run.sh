# The shared part of the tests/*/run scripts: pinned tools (a venv from PyPI, packages from the
# npm registry), the binary under test, a free loopback port, a server started on a fresh data
# directory, and clean-up on exit. Sourced, never run: `. "$root/tests/lib/run.sh"` after the
# script has set `root` and `target`.
#
# Each function sets variables rather than printing, so that `set -e` sees its failures.

# Debian packages for commands this machine lacks: `need_debs CMD... -- PKG...`.
need_debs() {
  local cmds=() missing=0
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do cmds+=("$1"); shift; done
  shift
  for c in "${cmds[@]}"; do
    case "$c" in
      python3-venv) python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing=1 ;;
      font-ja) fc-list :lang=ja 2>/dev/null | grep -q . || missing=1 ;;
      *) command -v "$c" >/dev/null 2>&1 || missing=1 ;;
    esac
  done
  if [ "$missing" = 1 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
  fi
}

# A venv at $1 holding exactly the pins that follow (made again when they change).
pip_venv() {
  local venv="$1"; shift
  need_debs python3-venv -- python3-venv
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.pins" 2>/dev/null)" != "$*" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$@"
    echo "$*" > "$venv/.pins"
  fi
}

# npm packages at prefix $1, exactly the pins that follow.
npm_pinned() {
  local prefix="$1"; shift
  need_debs npm -- nodejs npm
  if [ ! -d "$prefix/node_modules" ] || [ "$(cat "$prefix/.pin" 2>/dev/null)" != "$*" ]; then
    rm -rf "$prefix"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --silent "$@"
    echo "$*" > "$prefix/.pin"
  fi
}

# A scratch directory removed on exit, with every server started by `start_carepath` stopped
# first: sets `work`.
work="$(mktemp -d)"
_server_pids=()
_cleanup() {
  local pid
  for pid in "${_server_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap _cleanup EXIT

# The binary under test, copied into $work (a shared target directory's binary can be replaced
# by another build while this runs): `$CAREPATH_BIN` if set, else built here (release when
# CI=true). Sets CAREPATH_BIN to the copy.
carepath_binary() {
  if [ -z "${CAREPATH_BIN:-}" ]; then
    local profile=()
    [ "${CI:-}" = "true" ] && profile=(--release)
    # The executable cargo reports (a shared target directory's `debug/carepath` may be another
    # checkout's).
    CAREPATH_BIN="$(cargo build "${profile[@]}" --bin carepath --message-format=json-render-diagnostics \
      | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "carepath":
        print(m["executable"])')"
  fi
  echo "binary: $CAREPATH_BIN"
  cp "$CAREPATH_BIN" "$work/carepath"
  CAREPATH_BIN="$work/carepath"
}

# A loopback port nobody listens on now: sets `port`.
free_port() {
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
}

# `start_carepath DATA_DIR [serve flags...]`: serves on a free port, waits for /healthz, logs to
# $work/server.log (shown if it dies). Sets `port`, `base` and `server_pid`. Environment set
# before the call (e.g. CAREPATH_RATE_LIMIT=0) reaches the server.
start_carepath() {
  local data="$1"; shift
  free_port
  base="http://127.0.0.1:$port"
  CAREPATH_LOG="${CAREPATH_LOG:-warn}" "$CAREPATH_BIN" serve --data-dir "$data" --bind "127.0.0.1:$port" "$@" \
    2> "$work/server.log" &
  server_pid=$!
  _server_pids+=("$server_pid")
  for _ in $(seq 1 100); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; return 1; }
    sleep 0.1
  done
  curl -fs "$base/healthz" >/dev/null
  echo "serving on $base (data in $data)"
}

# shellcheck shell=bash
# Shared by with-emulators.sh and with-ministack.sh (sourced, not run):
# messages, timing, cached venvs, free ports and stopping a process tree.
#
# The caller sets LOG_TAG (message prefix) before sourcing.
# Functions here are reached indirectly (traps, callers), which shellcheck
# cannot follow:
# shellcheck disable=SC2317,SC2034,SC2154

say() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The user cache that every clone and worktree shares.
REDLEASE_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/redlease"

# ensure_venv NAME REQUIREMENTS PYTHON: print the path of a venv built from
# REQUIREMENTS with PYTHON, under $REDLEASE_CACHE/venvs/NAME-KEY, where KEY
# hashes the requirements file and the interpreter (version and real path).
# A venv is built once per key and marked complete only when pip succeeded,
# so an interrupted build is rebuilt, never used. Builds are serialised with
# flock across processes.
ensure_venv() {
  local name="$1" req="$2" python="$3" key dir t0 lockfd
  key="$(
    {
      sha256sum "$req" | cut -d' ' -f1
      "$python" -c 'import os, sys; print(sys.version, os.path.realpath(sys.executable))'
    } | sha256sum | cut -c1-16
  )"
  dir="$REDLEASE_CACHE/venvs/$name-$key"
  if [[ -x "$dir/bin/python" && -f "$dir/.redlease-ok" ]]; then
    printf '%s\n' "$dir"
    return 0
  fi
  mkdir -p "$REDLEASE_CACHE/venvs"
  exec {lockfd}>"$REDLEASE_CACHE/venvs/.lock"
  flock "$lockfd"
  if [[ ! -f "$dir/.redlease-ok" ]]; then
    t0="$(now)"
    say "creating venv $name from $(basename "$req") (once; cached in $dir)"
    rm -rf "$dir"
    "$python" -m venv "$dir" >&2
    if ! "$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q \
      -r "$req" >"$dir.install.log" 2>&1; then
      tail -n 30 "$dir.install.log" >&2
      rm -rf "$dir"
      die "pip install -r $req failed (full log: $dir.install.log)"
    fi
    rm -f "$dir.install.log"
    touch "$dir/.redlease-ok"
    say "venv $name ready in $(elapsed "$t0")s"
  fi
  exec {lockfd}>&-
  printf '%s\n' "$dir"
}

# free_port: an unused TCP port on 127.0.0.1 (it may be taken again before
# use; callers retry on "address already in use").
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

is_running() { # pid: alive and not a zombie
  local st
  st="$(ps -o stat= -p "$1" 2>/dev/null || true)"
  [[ -n "$st" && "$st" != Z* ]]
}

descendants() { # pid: print all descendant pids
  local child
  for child in $(ps -e -o pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }'); do
    echo "$child"
    descendants "$child"
  done
}

session_members() { # sid: pids of the live processes in that session
  ps -e -o pid=,sid=,stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
}

STOP_TIMEOUT="${STOP_TIMEOUT:-15}" # seconds before SIGKILL

stop_tree() { # pid name [log done-pattern]
  # TERM the pid, its process group, its descendants and, when it leads a
  # session (setsid), every process of that session, which catches children
  # that were orphaned earlier; wait up to STOP_TIMEOUT, then KILL whatever
  # is left. If LOG shows DONE-PATTERN (the process finished its own
  # shutdown), wait only 1 more second.
  local pid="$1" name="$2" log="${3:-}" done_re="${4:-}" i p left deadline
  [[ -n "$pid" ]] || return 0
  local pids=("$pid")
  mapfile -t -O 1 pids < <(descendants "$pid")
  if [[ "$(ps -o sid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
    mapfile -t -O "${#pids[@]}" pids < <(session_members "$pid")
  fi
  kill -TERM -- "-$pid" 2>/dev/null || true # only works if pid leads a group
  kill -TERM "${pids[@]}" 2>/dev/null || true
  deadline=$((STOP_TIMEOUT * 10))
  for ((i = 0; i < deadline; i++)); do
    left=""
    for p in "${pids[@]}"; do is_running "$p" && left+=" $p"; done
    [[ -n "$left" ]] || break
    if [[ -n "$done_re" ]] && ((deadline > i + 10)) && grep -q "$done_re" "$log" 2>/dev/null; then
      deadline=$((i + 10))
    fi
    sleep 0.1
  done
  if [[ -n "$left" ]]; then
    if ((deadline < STOP_TIMEOUT * 10)); then
      say "$name: services stopped; SIGKILL to skip its slow interpreter teardown"
    else
      say "$name: pids${left} ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
    fi
    kill -KILL -- "-$pid" 2>/dev/null || true
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# The command a harness runs, and how it ended. run_command, on_signal and
# finish_run_dir are the harnesses' shared start and end.
CMD_PID="" CMD_STATUS="" RUN_DIR=""

# run_command CMD...: run CMD in the background, so that INT/TERM reach the
# caller's trap at once, and set CMD_STATUS. `<&0` keeps the caller's stdin
# (bash gives background jobs /dev/null otherwise).
run_command() {
  say "running: $*"
  set +e
  "$@" <&0 &
  CMD_PID=$!
  wait "$CMD_PID"
  CMD_STATUS=$?
  set -e
  CMD_PID=""
}

on_signal() { # signal-number: for `trap 'on_signal N' SIG`
  say "got signal $1, stopping"
  CMD_STATUS=$((128 + $1))
  exit "$CMD_STATUS"
}

finish_run_dir() { # rc: remove RUN_DIR after a success, keep it for a failure
  if [[ -n "$RUN_DIR" && -d "$RUN_DIR" ]]; then
    if [[ "$1" -eq 0 ]]; then
      rm -rf "$RUN_DIR"
    else
      say "kept logs in $RUN_DIR"
    fi
  fi
}

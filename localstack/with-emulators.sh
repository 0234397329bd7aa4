#!/usr/bin/env bash
# Run a command against local AWS emulators for the redlease integration tests.
#
#   localstack/with-emulators.sh CMD [ARGS...]   start emulators, run CMD, stop them
#   localstack/with-emulators.sh --venv-only     only create the cached venvs; print their paths
#
# LocalStack 4.14.0 (S3, EventBridge, SQS) and moto server (DynamoDB) run as
# plain Python processes on free 127.0.0.1 ports; see localstack/README.md.
# Exits with CMD's status. Harness messages go to stderr, prefixed [emulators].
#
# Functions and variables here are reached indirectly ("${name}_healthy",
# printf -v, traps), which shellcheck cannot follow:
# shellcheck disable=SC2317,SC2329,SC2034
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOG_TAG=emulators
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
HEALTH_TIMEOUT="${REDLEASE_EMULATORS_TIMEOUT:-120}" # seconds, per emulator

NAME=redlease-it
EVENTS_QUEUE=redlease-it-events

# LocalStack 4.14.0 needs Python >= 3.13 although its metadata says >= 3.10
# (PEP 695 generics; `threading.Lock | None` annotations). The machine's
# python3 is 3.11, so look for a 3.13: $REDLEASE_EMULATORS_PYTHON, python3.13
# on PATH, pyenv's 3.13.x, then python3 itself.
find_python() {
  local c pyenv_pythons=()
  mapfile -t pyenv_pythons < <(
    printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13.*/bin/python3.13 | sort -V -r
  )
  for c in "${REDLEASE_EMULATORS_PYTHON:-}" python3.13 "${pyenv_pythons[@]}" python3; do
    [[ -n "$c" ]] || continue
    if "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 13))' >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  die "no Python >= 3.13 found (LocalStack 4.14.0 needs it); set REDLEASE_EMULATORS_PYTHON"
}

# The venvs live in the user cache ($REDLEASE_CACHE/venvs), keyed by their
# requirements file and the interpreter, so every clone and worktree shares
# them. One per emulator: localstack-core pulls moto-ext, which installs the
# same `moto` package as moto itself.
ensure_venvs() {
  BASE_PYTHON="$(find_python)"
  LS_VENV="$(ensure_venv localstack "$HERE/requirements.txt" "$BASE_PYTHON")"
  MOTO_VENV="$(ensure_venv moto "$HERE/requirements-moto.txt" "$BASE_PYTHON")"
}

# ---------------------------------------------------------------------------
# process handling
# ---------------------------------------------------------------------------
LS_PID=""
MOTO_PID=""

cleanup() {
  local rc=$? t0
  trap - EXIT INT TERM
  set +e
  [[ -n "$CMD_STATUS" ]] && rc="$CMD_STATUS"
  stop_tree "$CMD_PID" "command"
  if [[ -n "$MOTO_PID$LS_PID" ]]; then
    t0="$(now)"
    stop_tree "$MOTO_PID" "moto"
    # LocalStack logs this once its services are stopped; what follows is
    # only the interpreter's final garbage collection, which takes seconds.
    stop_tree "$LS_PID" "localstack" "$LS_LOG" '\[shutdown\] Stopping all services'
    say "emulators stopped in $(elapsed "$t0")s"
  fi
  finish_run_dir "$rc"
  exit "$rc"
}

fail_start() { # name log
  say "$1 did not become healthy; last lines of $2:"
  tail -n 40 "$2" >&2 || true
  exit 1
}

# LocalStack. Notes (checked against localstack-core 4.14.0):
# - OVERRIDE_IN_DOCKER=0: this machine has /.dockerenv, which would otherwise
#   switch LocalStack to container paths and 0.0.0.0 defaults.
# - GATEWAY_SERVER=hypercorn: the default twisted server ignores the host in
#   GATEWAY_LISTEN and binds 0.0.0.0; hypercorn binds 127.0.0.1 as asked.
# - DNS_ADDRESS=0 disables its DNS server (port 53); SKIP_SSL_CERT_DOWNLOAD=1
#   makes it self-sign instead of downloading a cert; DISABLE_EVENTS=1 turns
#   off analytics. What remains is one DNS lookup of s3.<LOCALSTACK_HOST host>
#   (it fails, and LocalStack carries on); nothing else leaves the machine.
# - SQS_ENDPOINT_STRATEGY=path: queue URLs http://127.0.0.1:<port>/queue/...
#   (the default puts sqs.<region>. in front of the host, unresolvable here).
launch_localstack() {
  LS_PORT="$(free_port)"
  LS_T0="$(now)"
  env OVERRIDE_IN_DOCKER=0 \
    GATEWAY_LISTEN="127.0.0.1:$LS_PORT" \
    LOCALSTACK_HOST="127.0.0.1:$LS_PORT" \
    GATEWAY_SERVER=hypercorn \
    DNS_ADDRESS=0 \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    DISABLE_EVENTS=1 \
    FILESYSTEM_ROOT="$RUN_DIR/localstack-fs" \
    PERSISTENCE=0 \
    SERVICES=s3,events,sqs \
    EAGER_SERVICE_LOADING=1 \
    SQS_ENDPOINT_STRATEGY=path \
    SQS_DISABLE_CLOUDWATCH_METRICS=1 \
    setsid "$LS_VENV/bin/python" -m localstack.runtime.main >"$LS_LOG" 2>&1 </dev/null &
  LS_PID=$!
}

localstack_healthy() {
  grep -q '^Ready\.' "$LS_LOG" || return 1
  LS_HEALTH="$(curl -fsS --max-time 2 "http://127.0.0.1:$LS_PORT/_localstack/health" 2>/dev/null)" ||
    return 1
  "$LS_VENV/bin/python" -c '
import json, sys
h = json.loads(sys.argv[1])
ok = all(h["services"].get(s) in ("running", "available") for s in ("s3", "events", "sqs"))
sys.exit(0 if ok else 1)' "$LS_HEALTH"
}

localstack_broken() {
  grep -q 'could not load service plugin\|^ERROR' "$LS_LOG"
}

launch_moto() {
  MOTO_PORT="$(free_port)"
  MOTO_T0="$(now)"
  # moto_serial.py: moto's server, one request at a time (see the file).
  setsid "$MOTO_VENV/bin/python" "$HERE/moto_serial.py" 127.0.0.1 "$MOTO_PORT" \
    >"$MOTO_LOG" 2>&1 </dev/null &
  MOTO_PID=$!
}

moto_healthy() {
  # A real (unsigned-but-accepted) DynamoDB call, so the backend is loaded.
  curl -fsS --max-time 2 -o /dev/null \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' "http://127.0.0.1:$MOTO_PORT/" 2>/dev/null
}

moto_broken() { return 1; }

# await NAME PREFIX: poll NAME_healthy until it passes (PREFIX_PID, _LOG, _T0
# describe the process); relaunch on a new port up to twice if it died on a
# port clash; otherwise fail with the end of its log.
await() {
  local name="$1" prefix="$2" attempt=1 pid log
  local pidvar="${prefix}_PID" logvar="${prefix}_LOG" t0var="${prefix}_T0"
  while :; do
    pid="${!pidvar}" log="${!logvar}"
    if "${name}_healthy"; then
      printf -v "${prefix}_STARTUP" '%s' "$(elapsed "${!t0var}")"
      return 0
    fi
    if "${name}_broken"; then
      fail_start "$name (failed to load)" "$log"
    fi
    if ! is_running "$pid"; then
      wait "$pid" 2>/dev/null || true
      printf -v "$pidvar" '%s' ""
      if grep -qi "address already in use" "$log" && ((attempt < 3)); then
        say "$name: port was taken; retrying on another"
        attempt=$((attempt + 1))
        "launch_$name"
        continue
      fi
      fail_start "$name (exited)" "$log"
    fi
    if awk -v a="${!t0var}" -v b="$(now)" -v t="$HEALTH_TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
      fail_start "$name (not healthy after ${HEALTH_TIMEOUT}s)" "$log"
    fi
    sleep 0.1
  done
}

localstack_version_line() { # health-json
  "$LS_VENV/bin/python" -c '
import json, sys
h = json.loads(sys.argv[1])
s = h["services"]
print("{} (edition={}, s3={}, events={}, sqs={})".format(
    h.get("version"), h.get("edition"), s["s3"], s["events"], s["sqs"]))' "$1"
}

# ---------------------------------------------------------------------------
# main: one function, so bash has parsed all of it before it runs anything
# (editing this file cannot disturb a run in progress).
# ---------------------------------------------------------------------------
main() {
  if [[ "${1:-}" == "--venv-only" ]]; then
    ensure_venvs
    printf 'localstack=%s\nmoto=%s\n' "$LS_VENV" "$MOTO_VENV"
    exit 0
  fi
  [[ $# -gt 0 ]] || die "usage: $0 CMD [ARGS...]  |  $0 --venv-only"
  command -v curl >/dev/null || die "curl not found"

  trap cleanup EXIT
  trap 'on_signal 2' INT
  trap 'on_signal 15' TERM

  ensure_venvs

  mkdir -p "$HERE/state"
  # Logs of failed runs are kept for a day.
  find "$HERE/state" -mindepth 1 -maxdepth 1 -name 'run.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
  RUN_DIR="$(mktemp -d "$HERE/state/run.XXXXXX")"
  LS_LOG="$RUN_DIR/localstack.log"
  MOTO_LOG="$RUN_DIR/moto.log"

  # Hermetic AWS client environment, for the emulators, the setup and CMD.
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
    AWS_ENDPOINT_URL AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  export AWS_EC2_METADATA_DISABLED=true
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

  # Launch both, then wait: they start in parallel, LocalStack being the slow one.
  launch_localstack
  launch_moto
  await moto MOTO
  await localstack LS
  say "localstack $(localstack_version_line "$LS_HEALTH") on http://127.0.0.1:$LS_PORT (pid $LS_PID)"
  say "moto $("$MOTO_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))') (dynamodb) on http://127.0.0.1:$MOTO_PORT (pid $MOTO_PID)"
  say "emulator-startup localstack=${LS_STARTUP}s moto=${MOTO_STARTUP}s"

  export REDLEASE_IT=1
  export REDLEASE_IT_LOCALSTACK_PYTHON="$LS_VENV/bin/python"
  export REDLEASE_IT_S3_ENDPOINT="http://127.0.0.1:$LS_PORT"
  export REDLEASE_IT_EVENTS_ENDPOINT="http://127.0.0.1:$LS_PORT"
  export REDLEASE_IT_SQS_ENDPOINT="http://127.0.0.1:$LS_PORT"
  export REDLEASE_IT_DYNAMODB_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
  export REDLEASE_IT_BUCKET="$NAME"
  export REDLEASE_IT_TABLE="$NAME"
  export REDLEASE_IT_EVENT_BUS="$NAME"

  local t0
  t0="$(now)"
  REDLEASE_IT_EVENTS_QUEUE_URL="$(
    REDLEASE_IT_EVENTS_QUEUE="$EVENTS_QUEUE" "$LS_VENV/bin/python" "$HERE/setup_resources.py"
  )" || die "creating test resources failed"
  export REDLEASE_IT_EVENTS_QUEUE_URL
  say "test resources created in $(elapsed "$t0")s"

  run_command "$@"
  say "command exited with status $CMD_STATUS"
  exit "$CMD_STATUS"
}

main "$@"

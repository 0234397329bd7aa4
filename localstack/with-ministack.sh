#!/usr/bin/env bash
# Run a command against two MiniStack instances for the redlease end-to-end
# test (make test-e2e).
#
#   localstack/with-ministack.sh CMD [ARGS...]   start both, run CMD, stop them
#   localstack/with-ministack.sh --venv-only     only create the cached venv; print its path
#
# - plain: http, no IAM enforcement (any well-formed signature passes);
# - iam:   https with a certificate made here for 127.0.0.1, AUTH=true
#          (SigV4 verified, IAM policies evaluated, also for the functions'
#          execution roles).
# Each listens on a free 127.0.0.1 port, with its own temporary directory
# and a hermetic environment (the Lambda bootstraps it starts inherit it).
# Both are stopped, with every function process they started, by pid when
# CMD ends, fails or is interrupted. Exits with CMD's status. Messages go to
# stderr, prefixed [ministack]; see localstack/README.md.
#
# Functions and variables here are reached indirectly (printf -v, traps):
# shellcheck disable=SC2317,SC2329,SC2034
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOG_TAG=ministack
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
HEALTH_TIMEOUT="${REDLEASE_MINISTACK_TIMEOUT:-60}" # seconds, per instance

# MiniStack needs Python >= 3.10; the machine's python3 (3.11) does.
BASE_PYTHON="${REDLEASE_MINISTACK_PYTHON:-python3}"

PLAIN_PID="" IAM_PID=""

# launch NAME: start instance NAME (plain or iam) on a free port.
launch() {
  local name="$1" port scheme=http dir
  port="$(free_port)"
  dir="$RUN_DIR/$name"
  mkdir -p "$dir/tmp"
  local env_vars=(
    PATH=/usr/bin:/bin
    HOME="$dir"
    TMPDIR="$dir/tmp"
    BIND_HOST=127.0.0.1
    GATEWAY_PORT="$port"
    MINISTACK_REGION=us-east-1
    S3_DATA_DIR="$dir/s3"
    STATE_DIR="$dir/state"
    AWS_ACCESS_KEY_ID=test
    AWS_SECRET_ACCESS_KEY=test
    AWS_EC2_METADATA_DISABLED=true
  )
  local tls_args=()
  if [[ "$name" == iam ]]; then
    scheme=https
    # USE_SSL tells MiniStack it is served over TLS (https URLs, and the
    # bucket policies' aws:SecureTransport); hypercorn serves the
    # certificate. SSL_CERT_FILE makes the functions' Go SDK trust it.
    env_vars+=(AUTH=true USE_SSL=1
      MINISTACK_SSL_CERT="$RUN_DIR/tls/cert.pem" MINISTACK_SSL_KEY="$RUN_DIR/tls/key.pem"
      SSL_CERT_FILE="$RUN_DIR/tls/cert.pem")
    tls_args=(--certfile "$RUN_DIR/tls/cert.pem" --keyfile "$RUN_DIR/tls/key.pem")
  fi
  # The provided.* bootstraps call back to MiniStack through the endpoint in
  # MiniStack's own environment (it sets none itself).
  env_vars+=(AWS_ENDPOINT_URL="$scheme://127.0.0.1:$port")
  # hypercorn directly, as `ministack --detach` does: `python -m ministack`
  # with USE_SSL also binds 127.0.0.1:443 whenever it can, a fixed port.
  env -i "${env_vars[@]}" setsid "$VENV/bin/python" -m hypercorn ministack.app:app \
    --bind "127.0.0.1:$port" --keep-alive 75 "${tls_args[@]}" \
    >"$dir/ministack.log" 2>&1 </dev/null &
  printf -v "${name^^}_PID" '%s' "$!"
  printf -v "${name^^}_PORT" '%s' "$port"
  printf -v "${name^^}_URL" '%s' "$scheme://127.0.0.1:$port"
  printf -v "${name^^}_T0" '%s' "$(now)"
}

healthy() { # name
  local url_var="${1^^}_URL" ca=()
  [[ "$1" == iam ]] && ca=(--cacert "$RUN_DIR/tls/cert.pem")
  curl -fsS --max-time 2 "${ca[@]}" "${!url_var}/_ministack/health" 2>/dev/null |
    grep -q '"cloudformation": "available"'
}

await() { # name
  local name="$1" attempt=1 pid_var="${1^^}_PID" t0_var="${1^^}_T0" url_var="${1^^}_URL"
  local log="$RUN_DIR/$1/ministack.log"
  while ! healthy "$name"; do
    if ! is_running "${!pid_var}"; then
      wait "${!pid_var}" 2>/dev/null || true
      if grep -qi "address already in use" "$log" && ((attempt < 3)); then
        say "$name: port was taken; retrying on another"
        attempt=$((attempt + 1))
        launch "$name"
        continue
      fi
      printf -v "$pid_var" '%s' ""
      say "$name exited; last lines of $log:"
      tail -n 40 "$log" >&2
      exit 1
    fi
    if awk -v a="${!t0_var}" -v b="$(now)" -v t="$HEALTH_TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
      say "$name not healthy after ${HEALTH_TIMEOUT}s; last lines of $log:"
      tail -n 40 "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  say "$name ministack $MINISTACK_VERSION on ${!url_var} (pid ${!pid_var}), healthy in $(elapsed "${!t0_var}")s"
}

# make_certificate: a self-signed certificate for 127.0.0.1 and localhost,
# valid for one day, made fresh for every run.
make_certificate() {
  mkdir -p "$RUN_DIR/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=redlease-e2e" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$RUN_DIR/tls/key.pem" -out "$RUN_DIR/tls/cert.pem" >/dev/null 2>&1 ||
    die "openssl could not make the test certificate"
}

stop_instance() { # name
  local name="$1" pid_var="${1^^}_PID" pid members
  pid="${!pid_var}"
  [[ -n "$pid" ]] || return 0
  # Everything MiniStack started runs in its session: hypercorn, its worker
  # and one process per warm function environment.
  members="$(session_members "$pid" | wc -l)"
  stop_tree "$pid" "$name"
  if [[ -n "$(session_members "$pid")" ]]; then
    say "$name: processes left in its session: $(session_members "$pid" | tr '\n' ' ')"
    return 1
  fi
  say "$name stopped ($members processes, function processes included)"
  printf -v "$pid_var" '%s' ""
}

cleanup() {
  local rc=$? t0 stopped=0
  trap - EXIT INT TERM
  set +e
  [[ -n "$CMD_STATUS" ]] && rc="$CMD_STATUS"
  stop_tree "$CMD_PID" "command"
  if [[ -n "$PLAIN_PID$IAM_PID" ]]; then
    t0="$(now)"
    stop_instance plain || stopped=1
    stop_instance iam || stopped=1
    say "ministack-stop $(elapsed "$t0")s"
    ((stopped == 0)) || { [[ "$rc" -ne 0 ]] || rc=1; }
  fi
  finish_run_dir "$rc"
  exit "$rc"
}


main() {
  local t0
  t0="$(now)"
  VENV="$(ensure_venv ministack "$HERE/requirements-ministack.txt" "$BASE_PYTHON")"
  if [[ "${1:-}" == "--venv-only" ]]; then
    printf 'ministack=%s\n' "$VENV"
    exit 0
  fi
  [[ $# -gt 0 ]] || die "usage: $0 CMD [ARGS...]  |  $0 --venv-only"
  command -v curl >/dev/null || die "curl not found"
  command -v openssl >/dev/null || die "openssl not found"
  MINISTACK_VERSION="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("ministack"))')"
  say "ministack-venv $(elapsed "$t0")s"

  trap cleanup EXIT
  trap 'on_signal 2' INT
  trap 'on_signal 15' TERM

  mkdir -p "$HERE/state"
  # Logs of failed runs are kept for a day.
  find "$HERE/state" -mindepth 1 -maxdepth 1 -name 'e2e.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
  RUN_DIR="$(mktemp -d "$HERE/state/e2e.XXXXXX")"
  make_certificate

  t0="$(now)"
  launch plain
  launch iam
  await plain
  await iam
  say "ministack-start $(elapsed "$t0")s"

  # Hermetic AWS client environment for CMD: MiniStack's root keys, one
  # region, no profiles, no instance metadata.
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
    AWS_ENDPOINT_URL AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_CA_BUNDLE
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  export AWS_EC2_METADATA_DISABLED=true
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  export REDLEASE_E2E=1
  export REDLEASE_E2E_ENDPOINT="$PLAIN_URL"
  export REDLEASE_E2E_IAM_ENDPOINT="$IAM_URL"
  export REDLEASE_E2E_CA_FILE="$RUN_DIR/tls/cert.pem"
  export REDLEASE_E2E_REPORT="$RUN_DIR/report.txt"

  run_command "$@"
  [[ -f "$REDLEASE_E2E_REPORT" ]] && cat "$REDLEASE_E2E_REPORT" >&2
  say "command exited with status $CMD_STATUS"
  exit "$CMD_STATUS"
}

main "$@"

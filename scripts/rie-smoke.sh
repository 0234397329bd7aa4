#!/usr/bin/env bash
# Smoke-test the real Lambda bootstraps under the AWS Lambda Runtime
# Interface Emulator: uses $RIE when set, else installs a pinned
# aws-lambda-rie into .tools/bin (once); then runs test/smoke, which uses the
# bootstraps under $LAMBDA_DIR/{arm64,amd64}/<function>/bootstrap when
# LAMBDA_DIR is set (make lambdas), else builds every function itself with
# the deployment flags (-tags lambda.norpc -trimpath -ldflags="-s -w"),
# starts one emulator per function on free 127.0.0.1 ports, posts the sample
# events from events/, checks the response bodies, stops each emulator by
# pid, and logs bootstrap sizes and cold-start init times.
set -euo pipefail
cd "$(dirname "$0")/.."

# The emulator's repository has no semver tags, so the module proxy only
# offers pseudo-versions; this one is the newest at the time of pinning.
RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
TOOLS="$PWD/.tools/bin"
STAMP="$TOOLS/.aws-lambda-rie.version"

if [[ -z "${RIE:-}" ]]; then
  RIE="$TOOLS/aws-lambda-rie"
  if [[ ! -x "$RIE" || "$(cat "$STAMP" 2>/dev/null)" != "$RIE_VERSION" ]]; then
    mkdir -p "$TOOLS"
    GOWORK=off GOBIN="$TOOLS" go install "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION"
    echo "$RIE_VERSION" > "$STAMP"
  fi
fi
if [[ -n "${LAMBDA_DIR:-}" ]]; then
  export REDLEASE_LAMBDA_DIR
  REDLEASE_LAMBDA_DIR=$(cd "$LAMBDA_DIR" && pwd)
fi

REDLEASE_RIE="$RIE" GOWORK=off go test -count=1 -v -run 'TestLambdaBootstrapsUnderRIE' ./test/smoke/ "$@"

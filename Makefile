# redlease — every set-up step lives here, so `make run` and `make test` work
# on a fresh machine with only the Go, Python and Node toolchains present.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO            ?= go
# Each module builds on its own; go.work is there for editors and gopls.
export GOWORK := off
TOOLS_BIN     := $(CURDIR)/.tools/bin
# One Lambda function per folder functions/<name> (test/consistency holds
# the folders to the route table).
FUNCTIONS     := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
LAMBDA_DIR    := build/lambda
LAMBDA_FLAGS  := -tags lambda.norpc -trimpath -ldflags="-s -w -buildid="

# Pinned tool versions.
GOLANGCI_LINT_VERSION := v2.15.0
# The Lambda Runtime Interface Emulator publishes no semver tags.
RIE_VERSION           := v0.0.0-20261030222936-bef5c4ba774d

GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint
RIE           := $(TOOLS_BIN)/aws-lambda-rie

# Short fuzz runs in `make test`, longer ones in `make fuzz`.
FUZZTIME_SHORT ?= 10s
FUZZTIME       ?= 2m

ADDR ?= 127.0.0.1:8080
DATA ?= ./.redlease

-include localstack/localstack.mk
-include infra/infra.mk

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: run
run: ## serve the API on $(ADDR) with the embedded file backend in $(DATA)
	$(GO) run ./cmd/redlease serve --addr $(ADDR) --data $(DATA)

.PHONY: build
build: ## build the redlease binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/redlease ./cmd/redlease

# Lambda bootstrap binaries for provided.al2023, both architectures.
LAMBDA_ARM64 := $(foreach f,$(FUNCTIONS),$(LAMBDA_DIR)/arm64/$(f)/bootstrap)
LAMBDA_AMD64 := $(foreach f,$(FUNCTIONS),$(LAMBDA_DIR)/amd64/$(f)/bootstrap)

.PHONY: lambdas lambdas-arm64 lambdas-amd64
lambdas: lambdas-arm64 lambdas-amd64 ## build every Lambda bootstrap (arm64 and amd64)
lambdas-arm64: $(LAMBDA_ARM64)
lambdas-amd64: $(LAMBDA_AMD64)

$(LAMBDA_DIR)/%/bootstrap: FORCE
	@arch=$$(echo $* | cut -d/ -f1); fn=$$(echo $* | cut -d/ -f2); \
	CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$$fn

.PHONY: FORCE
FORCE:

$(GOLANGCI_LINT):
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

$(RIE):
	GOBIN=$(TOOLS_BIN) GOWORK=off $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

.PHONY: fmt
fmt: ## format the Go code
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: $(GOLANGCI_LINT) ## golangci-lint (pinned) on both modules
	$(GOLANGCI_LINT) run --allow-serial-runners ./...
	cd infra && $(GOLANGCI_LINT) run --allow-serial-runners ./...

.PHONY: test
test: test-unit test-fuzz-short test-smoke test-integration test-reddb test-infra test-e2e ## everything: unit, fuzz, Lambda smoke, LocalStack, stock RedDB, CDK, deployed stack
	@echo "make test: all suites passed"

.PHONY: test-unit
test-unit: ## unit tests with the race detector, and every benchmark run once (so none rots)
	GOWORK=off $(GO) vet ./...
	GOWORK=off $(GO) test -race -count=1 ./...
	GOWORK=off $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./...

# Every fuzz target, a short fixed time each.
FUZZ_TARGETS = $(shell GOWORK=off $(GO) test -list '^Fuzz' ./... 2>/dev/null | awk '/^Fuzz/{print $$0}' | sort -u)

.PHONY: test-fuzz-short fuzz
test-fuzz-short: ## run every fuzz target for $(FUZZTIME_SHORT)
	@scripts/fuzz.sh $(FUZZTIME_SHORT)
fuzz: ## run every fuzz target for $(FUZZTIME)
	@scripts/fuzz.sh $(FUZZTIME)

.PHONY: test-smoke
test-smoke: lambdas $(RIE) ## invoke the real bootstrap binaries under the Lambda Runtime Interface Emulator
	RIE=$(RIE) LAMBDA_DIR=$(LAMBDA_DIR) scripts/rie-smoke.sh

.PHONY: test-integration
# The packages that hold integration-tagged tests; their unit tests run again
# there, which costs seconds and keeps the list from going stale.
IT_PKGS = $(shell grep -rl --include='*_test.go' '^//go:build integration' pkg test bench | xargs -n1 dirname | sort -u | sed 's|^|./|')

test-integration: ## integration tests against LocalStack S3/EventBridge and the DynamoDB emulator
	bash localstack/with-emulators.sh $(GO) test -tags integration -race -count=1 -timeout 30m $(IT_PKGS)

# Stock RedDB in the loop: builds `red` from crates.io once (10 to 25 min on
# 2 cores, cached under $${XDG_CACHE_HOME:-~/.cache}/redlease), fetches
# libfaketime, then runs every test tagged reddb.
REDDB_PKGS = $(shell grep -rl --include='*_test.go' '^//go:build reddb' internal pkg test 2>/dev/null | xargs -r -n1 dirname | sort -u | sed 's|^|./|')

.PHONY: test-reddb reddb-bin
reddb-bin: ## build the stock RedDB binary (reddb-io, pinned) into the user cache
	scripts/ensure-reddb.sh
test-reddb: ## tests with a stock RedDB server in the loop (builds it once)
	REDDB_BIN=$$(scripts/ensure-reddb.sh) FAKETIME_LIB=$$(scripts/ensure-faketime.sh) \
	  $(GO) test -tags reddb -race -count=1 -timeout 20m $(REDDB_PKGS)

.PHONY: test-e2e
# MiniStack runs the bootstraps as host processes and ignores Architectures,
# so the deployed code is the host-architecture build of the same source.
HOST_ARCH   := $(shell $(GO) env GOARCH)
LAMBDA_HOST := $(foreach f,$(FUNCTIONS),$(LAMBDA_DIR)/$(HOST_ARCH)/$(f)/bootstrap)

test-e2e: $(LAMBDA_HOST) build $(INFRA_CDK_STAMP) $(INFRA_APP) ## deploy the real stack (both storage variants) on MiniStack and drive it end to end
	REDLEASE_E2E_CDK=$(INFRA_CDK) REDLEASE_E2E_CDK_APP=$(INFRA_APP) \
	REDLEASE_E2E_LAMBDA_DIR=$(CURDIR)/$(LAMBDA_DIR)/$(HOST_ARCH) REDLEASE_E2E_CLI=$(CURDIR)/bin/redlease \
	REDDB_BIN=$$(scripts/ensure-reddb.sh) FAKETIME_LIB=$$(scripts/ensure-faketime.sh) \
	  bash localstack/with-ministack.sh $(GO) test -tags e2e -count=1 -timeout 20m ./test/e2e/

.PHONY: bench
bench: ## benchmarks (unit backends)
	GOWORK=off $(GO) test -run '^$$' -bench . -benchmem ./...

# The sweep in its steady state (pkg/sweep/sweeptest): requests, wall time
# and monthly cost per run at 1,000 to 100,000 keys in process over the
# request-counting fakes, and at 10,000 on LocalStack S3 and moto DynamoDB.
SWEEP_BENCH_OUT := build/bench-sweep.txt

.PHONY: bench-sweep
bench-sweep: ## the sweep's requests, time and monthly cost per run: 1k-100k keys in process, 10k on the emulators
	@mkdir -p build
	$(GO) test -run '^$$' -bench '^BenchmarkSweepSteady$$' -benchtime 3x -timeout 30m ./pkg/backend/s3/ ./pkg/backend/dynamodb/ | tee $(SWEEP_BENCH_OUT)
	bash localstack/with-emulators.sh $(GO) test -tags integration -run '^$$' -bench '^BenchmarkSweepEmulator$$' -benchtime 2x -timeout 30m ./pkg/backend/s3/ ./pkg/backend/dynamodb/ | tee -a $(SWEEP_BENCH_OUT)
	@echo
	@$(GO) run ./internal/sweepbench/sweeptable < $(SWEEP_BENCH_OUT)

.PHONY: bench-integration
bench-integration: ## per-operation latency benchmarks against the emulators
	bash localstack/with-emulators.sh $(GO) test -tags integration -run '^$$' -bench . -benchtime 200x ./pkg/backend/s3/ ./pkg/backend/dynamodb/

# The benchmark report (issue #14): everything side by side in one run on
# the emulators, printed as Markdown, written to docs/ and as JSON (a
# timestamped copy stays in $(BENCH_OUT) for comparing runs:
# go run ./cmd/benchreport compare OLD.json NEW.json).
BENCH_OUT ?= build/bench
BENCH_RUN  = bash localstack/with-emulators.sh $(BENCH_OUT)/benchreport -repo . \
	-lambda-dir $(LAMBDA_DIR) -rie $(RIE) -redlease bin/redlease -history $(BENCH_OUT)

.PHONY: bench-report bench-report-smoke benchreport-bin
benchreport-bin:
	GOWORK=off $(GO) build -o $(BENCH_OUT)/benchreport ./cmd/benchreport

bench-report: lambdas build $(RIE) benchreport-bin ## the benchmark report: lease ops vs RedDB, Lambda start-up, local server, cost (docs/performance.md)
	$(BENCH_RUN) -md docs/performance.md -json docs/performance.json

bench-report-smoke: lambdas build $(RIE) benchreport-bin ## the same pipeline with a few iterations (into $(BENCH_OUT), docs untouched)
	$(BENCH_RUN) -smoke -md $(BENCH_OUT)/smoke.md -json $(BENCH_OUT)/smoke.json > /dev/null

.PHONY: clean
clean: ## remove build output
	rm -rf build bin

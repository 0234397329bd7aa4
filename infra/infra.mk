# infra/infra.mk -- CDK infrastructure targets. Included by the root Makefile and
# run from the repository root:
#
#   make infra-tools   install the pinned CDK CLI (npm ci) and lint tools (.venv)
#   make synth         synthesise the s3 and dynamodb variants into infra/cdk.out/
#   make deploy        cdk deploy the s3 variant (STORAGE=dynamodb for the other)
#   make test-infra    go test + cfn-lint + checkov on the synthesised templates
#
# Lambda binaries: synth/deploy need build/lambda/arm64/<fn>/bootstrap. They depend
# on $(LAMBDA_ARM64_STAMP) if the root Makefile sets it, else on its lambdas-arm64
# target. To synthesise against other binaries (or dummies) without building:
#   make synth INFRA_LAMBDA_DIR=/tmp/lambdas INFRA_LAMBDA_DEPS=

INFRA_DIR        := infra
INFRA_ABS        := $(CURDIR)/$(INFRA_DIR)
INFRA_OUT        := $(INFRA_DIR)/cdk.out
INFRA_VARIANTS   := s3 dynamodb
INFRA_LAMBDA_DIR ?= $(CURDIR)/build/lambda/arm64
INFRA_LAMBDA_DEPS ?= $(if $(LAMBDA_ARM64_STAMP),$(LAMBDA_ARM64_STAMP),lambdas-arm64)

# Deploy settings: STORAGE=s3|dynamodb, extra context as INFRA_CONTEXT="-c k=v ...".
STORAGE          ?= s3
INFRA_CONTEXT    ?=
CDK_REQUIRE_APPROVAL ?= broadening

# Tools, all installed under infra/ (ignored by git and by `go ... ./...`).
INFRA_NPM_DIR    := $(INFRA_DIR)/.tools/cdk
INFRA_CDK_STAMP  := $(INFRA_NPM_DIR)/.stamp
INFRA_CDK        := $(INFRA_ABS)/.tools/cdk/node_modules/.bin/cdk
INFRA_VENV       := $(INFRA_DIR)/.venv
INFRA_VENV_STAMP := $(INFRA_VENV)/.stamp
INFRA_APP        := $(INFRA_ABS)/.tools/redlease-cdk-app
INFRA_GO_SRC     := $(shell find $(INFRA_DIR) -name '*.go' -not -path '*/.tools/*' -not -path '*/cdk.out/*' -not -path '*/.venv/*' 2>/dev/null)

# The infra module stands alone: GOWORK=off keeps a half-edited root module from
# breaking synthesis. CLI runs offline and quietly: no telemetry, no version
# check, no notices (--no-notices below). jsii warns loudly on Node 20 (EOL): it
# still works, so the banner is silenced for that version only.
INFRA_ENV := GOWORK=off \
	CDK_DISABLE_CLI_TELEMETRY=true \
	CDK_DISABLE_VERSION_CHECK=true \
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

INFRA_CDK_FLAGS := --no-notices --app $(INFRA_APP) -c lambdaDir=$(INFRA_LAMBDA_DIR)

.PHONY: infra-tools synth deploy test-infra infra-clean

infra-tools: $(INFRA_CDK_STAMP) $(INFRA_VENV_STAMP)

# npm ci needs package.json and package-lock.json side by side; they are kept in
# infra/ and copied into the tools dir so node_modules stays out of the Go module.
$(INFRA_CDK_STAMP): $(INFRA_DIR)/package.json $(INFRA_DIR)/package-lock.json
	mkdir -p $(INFRA_NPM_DIR)
	cp $(INFRA_DIR)/package.json $(INFRA_DIR)/package-lock.json $(INFRA_NPM_DIR)/
	cd $(INFRA_NPM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	# Only `cdk init` uses these; their %name%.template.go files would trip a
	# repository-wide `gofmt -l .`.
	rm -rf $(INFRA_NPM_DIR)/node_modules/aws-cdk/lib/init-templates
	$(INFRA_ENV) $(INFRA_CDK) --version
	touch $@

$(INFRA_VENV_STAMP): $(INFRA_DIR)/requirements.txt
	test -x $(INFRA_VENV)/bin/python || python3 -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(INFRA_DIR)/requirements.txt
	touch $@

# The CDK app, built once (cdk.json's `go run .` relinks on every invocation).
$(INFRA_APP): $(INFRA_GO_SRC) $(INFRA_DIR)/go.mod $(INFRA_DIR)/go.sum
	cd $(INFRA_DIR) && $(INFRA_ENV) go build -o $(INFRA_APP) .

synth: $(INFRA_CDK_STAMP) $(INFRA_APP) $(INFRA_LAMBDA_DEPS)
	@for v in $(INFRA_VARIANTS); do \
	  echo "cdk synth storage=$$v -> $(INFRA_OUT)/$$v"; \
	  rm -rf $(INFRA_OUT)/$$v; \
	  (cd $(INFRA_DIR) && $(INFRA_ENV) $(INFRA_CDK) synth --quiet $(INFRA_CDK_FLAGS) \
	    -c storage=$$v $(INFRA_CONTEXT) --output cdk.out/$$v) || exit 1; \
	done

deploy: $(INFRA_CDK_STAMP) $(INFRA_APP) $(INFRA_LAMBDA_DEPS)
	cd $(INFRA_DIR) && $(INFRA_ENV) $(INFRA_CDK) deploy $(INFRA_CDK_FLAGS) \
	  -c storage=$(STORAGE) $(INFRA_CONTEXT) --output cdk.out/$(STORAGE) \
	  --require-approval $(CDK_REQUIRE_APPROVAL)

# Unit tests without -race (jsii calls are slow enough already), then both linters
# on every synthesised template, and on a third one with what the defaults
# leave out (tenant policies). Any cfn-lint finding or unsuppressed checkov
# failure fails the target.
INFRA_LINT_CONTEXT := -c storage=s3 -c tenantPrefixes=tenants/a/,tenants/b/
test-infra: synth $(INFRA_VENV_STAMP)
	rm -rf $(INFRA_OUT)/lint
	cd $(INFRA_DIR) && $(INFRA_ENV) $(INFRA_CDK) synth --quiet $(INFRA_CDK_FLAGS) $(INFRA_LINT_CONTEXT) --output cdk.out/lint
	cd $(INFRA_DIR) && $(INFRA_ENV) go test -count=1 ./...
	$(INFRA_VENV)/bin/cfn-lint $(INFRA_OUT)/*/*.template.json
	$(INFRA_VENV)/bin/checkov --framework cloudformation --skip-download --compact --quiet \
	  $$(for f in $(INFRA_OUT)/*/*.template.json; do printf -- '-f %s ' "$$f"; done)

infra-clean:
	rm -rf $(INFRA_OUT) $(INFRA_APP)

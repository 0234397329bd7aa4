# Emulator harness for the integration tests; included by the root Makefile.
# Usage in a recipe: $(WITH_EMULATORS) go test -tags integration ./...
WITH_EMULATORS := localstack/with-emulators.sh

# Create (or refresh after a requirements change) the cached emulator venvs.
.PHONY: emulators-venv
emulators-venv:
	bash $(WITH_EMULATORS) --venv-only

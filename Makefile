# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing.
SWIFT ?= swift

.PHONY: run test bench build release deps test-deps clean

run: release
	@./scripts/run-local.sh

test: test-deps
	$(SWIFT) build
	$(SWIFT) test --disable-xctest

bench: deps
	$(SWIFT) build -c release
	./.build/release/ledger-bench --output BENCHMARKS.md

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product ledgerd
	$(SWIFT) build -c release --product ledgerctl

deps:
	@./scripts/install-deps.sh

test-deps:
	@./scripts/install-deps.sh --test

clean:
	rm -rf .build

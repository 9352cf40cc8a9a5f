# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing.
SWIFT ?= swift

.PHONY: run test bench build release deps test-deps clean fuzz

run: release
	@./scripts/run-local.sh

# Two runs: the tests with real swarms inside the test process first, on their own, because the other
# suites block the few cooperative threads while they wait for child processes (ledgerd, Chromium,
# Python), and a swarm starved for seconds meets its handshake deadlines.
IN_PROCESS_NETWORK = ^NetworkTests\.|HostilePeerTests
test: test-deps
	$(SWIFT) build
	$(SWIFT) test --disable-xctest --filter '$(IN_PROCESS_NETWORK)'
	$(SWIFT) test --disable-xctest --skip '$(IN_PROCESS_NETWORK)'

# Longer fuzzing than `make test` runs: schemathesis against specs/openapi.yaml, more cases per operation.
fuzz: test-deps
	$(SWIFT) build
	LEDGERD_SCHEMATHESIS_EXAMPLES=$${LEDGERD_SCHEMATHESIS_EXAMPLES:-200} $(SWIFT) test --disable-xctest --filter SchemathesisTests

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

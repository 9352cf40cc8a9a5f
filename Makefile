# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing.
SWIFT ?= swift

.PHONY: run test bench fuzz sim build release deps test-deps clean

run: release
	@./scripts/run-local.sh

# Two runs: the tests with real swarms inside the test process first, on their own, because the other
# suites block the few cooperative threads while they wait for child processes (ledgerd, Chromium,
# Python), and a swarm starved for seconds meets its handshake deadlines.
# The consensus simulation runs on its own last: it keeps both cores busy, which would starve the
# real-process tests' deadlines. SIM_SEEDS is the CI budget of seeds.
IN_PROCESS_NETWORK = ^NetworkTests\.|HostilePeerTests
SIMULATION = ConsensusSimulationTests
SIM_SEEDS ?= 1000
test: test-deps
	$(SWIFT) build
	$(SWIFT) test --disable-xctest --filter '$(IN_PROCESS_NETWORK)'
	$(SWIFT) test --disable-xctest --skip '$(IN_PROCESS_NETWORK)|$(SIMULATION)'
	LEDGERD_SIM_SEEDS=$(SIM_SEEDS) $(SWIFT) test --disable-xctest --filter '$(SIMULATION)'

# The deterministic consensus simulation: make sim SEEDS=N runs seeds 1…N (FIRST=K starts elsewhere);
# make sim SEED=S replays one seed exactly (TRACE=K prints what bookkeeper K receives and does).
sim: test-deps
	$(SWIFT) build --build-tests
	LEDGERD_SIM_SEEDS=$${SEEDS:-10000} LEDGERD_SIM_FIRST_SEED=$${FIRST:-1} $${SEED:+LEDGERD_SIM_SEED=$$SEED} $${TRACE:+LEDGERD_SIM_TRACE=$$TRACE} \
		$(SWIFT) test --skip-build --disable-xctest --filter '$(SIMULATION)'

# Longer searches than make test's: the seeded adversarial search over transactions (32 seeds of
# 50,000; LEDGERD_FUZZ_SEED=S replays one seed exactly; LEDGERD_FUZZ_SEEDS and LEDGERD_FUZZ_TRANSACTIONS
# override), and schemathesis against specs/openapi.yaml with more cases per operation.
fuzz: test-deps
	$(SWIFT) build --build-tests
	LEDGERD_FUZZ_SEEDS=$${LEDGERD_FUZZ_SEEDS:-32} LEDGERD_FUZZ_TRANSACTIONS=$${LEDGERD_FUZZ_TRANSACTIONS:-50000} \
		$(SWIFT) test --disable-xctest --filter AdversarialSearchTests
	LEDGERD_SCHEMATHESIS_EXAMPLES=$${LEDGERD_SCHEMATHESIS_EXAMPLES:-200} $(SWIFT) test --disable-xctest --filter SchemathesisTests

bench: test-deps
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

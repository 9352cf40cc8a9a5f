#!/usr/bin/env bash
# Plants a known safety bug in the Tendermint machine (a fresh proposal is prevoted even when the node
# is locked on another value: line 23 without its lock condition), runs the simulation, and expects it
# to report a violation with a replayable seed; then restores the file, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
file=Sources/Consensus/Tendermint.swift
cp "$file" "$file.orig"
trap 'mv "$file.orig" "$file"' EXIT
sed -i 's/let accept = valid \&\& proposal.timely \&\& (lockedRound == -1 || lockedValue == proposal.value)/let accept = valid \&\& proposal.timely/' "$file"
grep -q 'let accept = valid && proposal.timely$' "$file" || { echo "the planted bug did not apply" >&2; exit 2; }
swift build --build-tests >/dev/null
if LEDGERD_SIM_SEEDS="${SEEDS:-1000}" swift test --skip-build --disable-xctest --filter ConsensusSimulationTests >/tmp/planted-bug.log 2>&1; then
    echo "the simulation did NOT find the planted bug (skipped lock)" >&2
    exit 1
fi
grep -m1 -o 'seed [0-9]* ([^)]*): agreement[^—]*— replay with make sim SEED=[0-9]*' /tmp/planted-bug.log || grep -m1 'seed [0-9]*' /tmp/planted-bug.log
echo "the simulation found the planted bug; $file is restored"

#!/usr/bin/env bash
# `make run`: a local network of four bookkeepers on loopback, the newcomer's own node among them
# (node 0, in $LEDGERD_DATA or ~/.ledgerd), created on first use with `ledgerd testnet`.
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/.build/release"
# The same rule as ledgerd and ledgerctl (DataDirectory.defaultPath): $LEDGERD_DATA, else $HOME/.ledgerd.
data="${LEDGERD_DATA:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.ledgerd}"
others="$data-testnet"
if [[ ! -f "$data/ledger.sqlite" ]]; then
    "$bin/ledgerd" testnet --nodes 4 --dir "$others" --node0 "$data"
elif [[ ! -f "$data/ledgerd.toml" ]]; then
    echo "$data holds a single node from an earlier version; move it away to start the four-bookkeeper network" >&2
    exit 1
fi
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for k in 1 2 3; do
    "$bin/ledgerd" run --data "$others/node$k" >"$others/node$k.log" 2>&1 &
    pids+=($!)
done
http="$(sed -n 's/^http = "\(.*\)"$/\1/p' "$data/ledgerd.toml")"
cat <<TXT

  Four bookkeepers are starting on loopback; yours is node 0, with data in $data
  Explorer:  http://$http/            (the bookkeepers: http://$http/bookkeepers)
  API:       http://$http/api/v1/status
  The other three log to $others/node1.log … node3.log

  In another terminal, try:
    export PATH="$bin:\$PATH"
    ledgerctl status
    ledgerctl key new alice
    ledgerctl transfer --to alice --amount 1MiB      (decided by the four within a pulse or two)
    ledgerctl block show 1                           (its certificate: who precommitted, in which round)
    ledgerctl org create --name "Open Video"
    ledgerctl credit grant --to alice --limit 10GiB

  Stop all four with Ctrl-C.

TXT
"$bin/ledgerd" run --data "$data" &
pids+=($!)
wait "${pids[-1]}"

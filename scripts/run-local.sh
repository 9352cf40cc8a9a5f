#!/usr/bin/env bash
# `make run`: start the newcomer's own node from the release build, creating it on first use.
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/.build/release"
# The same rule as ledgerd and ledgerctl (DataDirectory.defaultPath): $LEDGERD_DATA, else $HOME/.ledgerd.
data="${LEDGERD_DATA:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.ledgerd}"
http="${LEDGERD_HTTP:-127.0.0.1:8650}"
if [[ ! -f "$data/ledger.sqlite" ]]; then
    "$bin/ledgerd" init --data "$data"
fi
cat <<TXT

  ledgerd is starting with data in $data
  Explorer:  http://$http/
  API:       http://$http/api/v1/status

  In another terminal, try:
    export PATH="$bin:\$PATH"
    ledgerctl status
    ledgerctl org create --name "Open Video"
    ledgerctl key new alice
    ledgerctl credit grant --to alice --limit 10GiB
    ledgerctl credit revoke --to alice
    ledgerctl block show 1

  Stop the node with Ctrl-C.

TXT
exec "$bin/ledgerd" run --data "$data" --http "$http"

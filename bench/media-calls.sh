#!/usr/bin/env bash
# Concurrent calls with media: SIPp callers that talk the whole time (looping A-law via
# rtp_stream) while a release `hotline serve` plays the greeting to each and records every call
# in stereo. For each N it holds N calls, then over a 10 s window reports the server's CPU per
# call, RSS, RTP send jitter (lateness against the 20 ms grid, p50/p99, from /healthz) and
# the media clock's overruns. Loopback only; each step is bounded in calls and time.
#   bash bench/media-calls.sh [N...]        default: 100 500 1000
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sipp >/dev/null || { echo "needs sipp (apt-get install sip-tester)" >&2; exit 1; }
read -r -a LEVELS <<<"${*:-100 500 1000}"
SIP_PORT=${SIP_PORT:-9070}
HTTP_PORT=${HTTP_PORT:-9090}
BIN=${HOTLINE_BIN:-${CARGO_TARGET_DIR:-target}/release/hotline}

[ -n "${HOTLINE_BIN:-}" ] || cargo build --release --quiet --bin hotline
work=$(mktemp -d)
cleanup() { kill "${sipp_pid:-}" "${server:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cp tests/media/caller-speech.alaw "$work/"

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
health() { curl -sf "http://127.0.0.1:$HTTP_PORT/healthz"; }
field() { health | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

printf '%-6s %-10s %-14s %-10s %-12s %-12s %-10s %-8s\n' calls legs cpu_ms/call/s rss_mb rss_kb/call jitter_p50 jitter_p99 sipp_cpu%
for n in "${LEVELS[@]}"; do
  rm -rf "$work/data"
  RUST_LOG=warn "$BIN" serve --sip-listen 127.0.0.1:$SIP_PORT --http-listen 127.0.0.1:$HTTP_PORT \
    --rtp-ports 40000-59999 --data-dir "$work/data" 2>"$work/server.log" &
  server=$!
  for _ in $(seq 50); do health >/dev/null 2>&1 && break; sleep 0.2; done
  idle_rss=$(rss_kb "$server")
  rate=$(( n < 100 ? n : 100 ))
  hold_ms=$(( (n / rate) * 1000 + 25000 ))
  (cd "$work" && timeout $(( hold_ms / 1000 + 60 )) sipp "127.0.0.1:$SIP_PORT" -sf "$OLDPWD/bench/sipp/uac_hold.xml" \
     -i 127.0.0.1 -mi 127.0.0.1 -p $((SIP_PORT + 1)) -mp 6000 -s 12348 -m "$n" -l "$n" -r "$rate" -d "$hold_ms" \
     -timeout $(( hold_ms / 1000 + 40 )) -nostdin >"$work/sipp.out" 2>&1) &
  sipp_pid=$!
  for _ in $(seq 120); do [ "$(field media_legs)" -ge "$n" ] && break; sleep 0.5; done
  sleep 2
  sp=$(pgrep -n -x sipp || echo "")
  c0=$(cpu_ticks "$server"); s0=$([ -n "$sp" ] && cpu_ticks "$sp" || echo 0); t0=$(date +%s.%N)
  sleep 10
  c1=$(cpu_ticks "$server"); s1=$([ -n "$sp" ] && cpu_ticks "$sp" || echo 0); t1=$(date +%s.%N)
  legs=$(field media_legs); p50=$(field send_jitter_p50_us); p99=$(field send_jitter_p99_us); rss=$(rss_kb "$server")
  awk -v n="$n" -v legs="$legs" -v c0="$c0" -v c1="$c1" -v s0="$s0" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v hz="$ticks" \
      -v rss="$rss" -v idle="$idle_rss" -v p50="$p50" -v p99="$p99" 'BEGIN {
    secs = t1 - t0; cpu_ms = (c1 - c0) * 1000 / hz;
    printf "%-6d %-10d %-14.3f %-10.1f %-12.1f %-12s %-10s %-8.0f\n", n, legs, cpu_ms / secs / legs, rss / 1024,
      (rss - idle) / legs, p50 "us", p99 "us", 100 * (s1 - s0) / hz / secs }'
  wait "$sipp_pid" || true
  kill "$server"; wait "$server" || true
done

# Shared helpers of the bench scripts (sourced, not run). Everything runs on 127.0.0.1.
#
# Ports (chosen away from the e2e tests' ranges: their SIPp media 10000-19999, their servers'
# RTP 20000-31999, and their SIP/HTTP ports from the ephemeral range):
#   SIP 9060 (UDP+TCP), HTTP 9080, SIPp callers 9061, the answering SIPp 9062,
#   SIPp media from 6000 (callers) and 7000 (answering side), server RTP 40000-59999.
# CPU: the server's own CPU comes from /proc/PID/stat (utime+stime); "background" is the
# whole machine's busy time (/proc/stat) minus everything the bench started (the server, SIPp
# and this script's own children, live or already reaped), in cores (2.0 = both cores busy).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$BENCH_DIR/.." && pwd)
BIN=${HOTLINE_BIN:-${CARGO_TARGET_DIR:-$ROOT_DIR/target}/release/hotline}
SIP_PORT=${SIP_PORT:-9060}
HTTP_PORT=${HTTP_PORT:-9080}
CALLER_PORT=$((SIP_PORT + 1))
LAWYER_PORT=$((SIP_PORT + 2))
RTP_PORTS=${RTP_PORTS:-40000-59999}
TICKS=$(getconf CLK_TCK)
NCPU=$(getconf _NPROCESSORS_ONLN)
# The process whose descendants count as "the bench" (run.sh exports it for its children).
export BENCH_ROOT=${BENCH_ROOT:-$$}

say() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

need_tools() {
  command -v sipp >/dev/null || { echo "needs sipp: apt-get install sip-tester (bench/run.sh installs it)" >&2; exit 1; }
  command -v curl >/dev/null || { echo "needs curl" >&2; exit 1; }
  [ -x "$BIN" ] || { echo "no hotline binary at $BIN: cargo build --release --bin hotline" >&2; exit 1; }
}

# A fresh work dir, removed on exit (KEEP_WORK=1 keeps it for reading logs).
bench_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/hotline-bench.XXXXXX")
  trap bench_cleanup EXIT
}

bench_cleanup() {
  local p
  for p in ${SIPP_PIDS:-} ${LAWYER_PID:-} ${SERVER:-}; do
    kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "${KEEP_WORK:-0}" = 1 ]; then say "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}

# ---------------------------------------------------------------- the server

# start_server NAME [more serve flags...]: a fresh data dir $WORK/NAME, the bench dialplan.
start_server() {
  local name=$1
  shift
  SERVER_DATA=$WORK/$name
  mkdir -p "$SERVER_DATA"
  RUST_LOG=${BENCH_RUST_LOG:-warn} "$BIN" serve --sip-listen 127.0.0.1:$SIP_PORT \
    --http-listen 127.0.0.1:$HTTP_PORT --rtp-ports "$RTP_PORTS" --data-dir "$SERVER_DATA" \
    --dialplans "$BENCH_DIR/dialplans" --node bench "$@" 2>"$SERVER_DATA/server.log" </dev/null &
  SERVER=$!
  local _
  for _ in $(seq 100); do
    health >/dev/null 2>&1 && return 0
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.2
  done
  echo "hotline serve did not come up; its log:" >&2
  tail -20 "$SERVER_DATA/server.log" >&2
  exit 1
}

stop_server() {
  [ -n "${SERVER:-}" ] || return 0
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=
}

health() { curl -sf --max-time 2 "http://127.0.0.1:$HTTP_PORT/healthz"; }

# hz FIELD: one number from /healthz (empty when the server does not answer).
hz() { health | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }

# wait_drained SECS: waits until no call and no media leg is left; returns 1 on timeout.
wait_drained() {
  local end=$((SECONDS + $1)) h
  while [ $SECONDS -lt $end ]; do
    h=$(health) || { sleep 0.5; continue; }
    if echo "$h" | grep -q '"active_calls":0,' && echo "$h" | grep -q '"media_legs":0,'; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

# ---------------------------------------------------------------- /proc figures

proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# CPU ticks of the bench: BENCH_ROOT and all its descendants, with their reaped children.
tree_ticks() {
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    echo "${f//[^0-9]/} ${line##*) }"
  done | awk -v root="$BENCH_ROOT" '
    # $1 pid, then stat from the state on: $3 ppid, $13 utime, $14 stime, $15 cutime, $16 cstime
    { ppid[$1] = $3; t[$1] = $13 + $14 + $15 + $16 }
    END {
      for (p in t) {
        q = p; n = 0
        while (q != "" && q != root && q > 1 && n++ < 64) q = ppid[q]
        if (q == root) s += t[p]
      }
      print s + 0
    }'
}

# busy and total ticks of the whole machine (all cores)
machine_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# window_begin / window_end: background CPU (cores) between the two calls, in BG_CORES, and
# the machine's busy cores in BUSY_CORES.
window_begin() {
  read -r W_BUSY0 W_TOTAL0 <<<"$(machine_ticks)"
  W_TREE0=$(tree_ticks)
}
window_end() {
  local b1 t1 tree1
  read -r b1 t1 <<<"$(machine_ticks)"
  tree1=$(tree_ticks)
  read -r BG_CORES BUSY_CORES <<<"$(awk -v b0="$W_BUSY0" -v b1="$b1" -v t0="$W_TOTAL0" -v t1="$t1" \
    -v r0="$W_TREE0" -v r1="$tree1" -v n="$NCPU" 'BEGIN {
      secs_ticks = (t1 - t0) / n; if (secs_ticks <= 0) secs_ticks = 1
      bg = (b1 - b0 - (r1 - r0)) / secs_ticks; if (bg < 0) bg = 0
      printf "%.2f %.2f", bg, (b1 - b0) / secs_ticks }')"
}

# ---------------------------------------------------------------- SIPp

# sipp_stat FILE COLUMN: the last value of a column of SIPp's -trace_stat CSV, by name.
sipp_stat() {
  [ -s "$1" ] || { echo 0; return; }
  awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    { v = $c } END { print v + 0 }' "$1"
}

# sipp_rate FILE: the call rate SIPp achieved while placing calls: the median of its per-period
# rates (-fd 1) over the periods in which it placed calls (the calls' own length not counted).
sipp_rate() {
  [ -s "$1" ] || { echo 0; return; }
  awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "CallRate(P)") r = i; if ($i == "OutgoingCall(P)") o = i }; next }
    $o > 0 { print $r }' "$1" | { mapfile -t v; median "${v[@]}"; }
}

# Registers the answering SIPp as phone USER (password PW) from LAWYER_PORT.
register_lawyer() {
  (cd "$WORK" && timeout 20 sipp 127.0.0.1:$SIP_PORT -sf "$BENCH_DIR/sipp/register.xml" -s "$1" \
    -au "$1" -ap "$2" -i 127.0.0.1 -p $LAWYER_PORT -m 1 -timeout 15 -timeout_error -nostdin \
    >"$WORK/register.out" 2>&1) || { echo "registering $1 failed:" >&2; tail -20 "$WORK/register.out" >&2; exit 1; }
}

# ---------------------------------------------------------------- numbers

# median of the arguments (numbers; empty arguments skipped)
median() {
  printf '%s\n' "$@" | { grep -v '^$' || true; } | sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "-"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# fmt DECIMALS VALUE
fmt() { awk -v d="$1" -v v="$2" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%." d "f", v }'; }

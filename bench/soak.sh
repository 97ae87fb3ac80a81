#!/usr/bin/env bash
# Soak: IVR calls (bench dialplan: answer, 1.4 s prompt, hang up) at a low rate for a long time
# against one `hotline serve`, sampling its RSS every SAMPLE seconds. Reports RSS growth per
# hour as the slope of a least-squares line through the samples after the first WARMUP seconds
# (allocator pools and the SQLite cache fill up first), plus failed calls, CPU per call and the
# background CPU. Prints a markdown table.
#   bash bench/soak.sh [SECONDS]          default 600 (10 min)
# Env: SOAK_RATE (20 calls/s), SAMPLE (10 s), WARMUP (60 s, at most a third of the run).
# Bounded: SOAK_RATE*SECONDS calls, at most SECONDS+60 s; loopback only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SECS=${1:-${SOAK_SECS:-600}}
RATE=${SOAK_RATE:-20}
SAMPLE=${SAMPLE:-10}
WARMUP=${WARMUP:-60}
[ "$WARMUP" -le $((SECS / 3)) ] || WARMUP=$((SECS / 3))
need_tools
bench_workdir

calls=$((RATE * SECS))
say "soak: $calls IVR calls at $RATE/s over $SECS s"
start_server soak
sleep 1
idle=$(rss_kb "$SERVER")
c0=$(proc_ticks "$SERVER"); window_begin; start=$(date +%s.%N)
(cd "$WORK" && exec timeout $((SECS + 60)) sipp 127.0.0.1:$SIP_PORT -sf "$BENCH_DIR/sipp/uac_ivr.xml" -s 12348 \
  -i 127.0.0.1 -mi 127.0.0.1 -p $CALLER_PORT -mp 6000 -r "$RATE" -m "$calls" -l $((RATE * 4 + 20)) \
  -timeout $((SECS + 50)) -timeout_error -nostdin -trace_stat -stf "$WORK/stat.csv" -fd 10 -max_socket 100 \
  >"$WORK/sipp.out" 2>&1) &
SIPP_PIDS=$!
: >"$WORK/samples"
while kill -0 "$SIPP_PIDS" 2>/dev/null; do
  now=$(date +%s.%N)
  echo "$(awk -v a="$start" -v b="$now" 'BEGIN {printf "%.1f", b - a}') $(rss_kb "$SERVER")" >>"$WORK/samples"
  sleep "$SAMPLE"
done
wait "$SIPP_PIDS" || true
SIPP_PIDS=
drained=yes
wait_drained 30 || drained=no
c1=$(proc_ticks "$SERVER"); window_end; end=$(date +%s.%N)
end_rss=$(rss_kb "$SERVER"); hwm=$(hwm_kb "$SERVER")
ok=$(sipp_stat "$WORK/stat.csv" 'SuccessfulCall(C)')
created=$(sipp_stat "$WORK/stat.csv" 'OutgoingCall(C)')
failed=$(( $(sipp_stat "$WORK/stat.csv" 'FailedCall(C)') + calls - created ))
stop_server

# least-squares slope of RSS (KiB) over time (s) after the warm-up, in MiB per hour
slope=$(awk -v w="$WARMUP" '$1 >= w { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
  END { d = n * sxx - sx * sx; if (n < 3 || d == 0) { print "-"; exit }
        printf "%.1f", (n * sxy - sx * sy) / d * 3600 / 1024 }' "$WORK/samples")
first=$(awk -v w="$WARMUP" '$1 >= w { print $2; exit }' "$WORK/samples")
last=$(tail -1 "$WORK/samples" | awk '{print $2}')
mins=$(awk -v s="$SECS" 'BEGIN {printf "%g", s / 60}')

echo
echo "### Soak"
echo
echo "One run of ${mins} min at $RATE IVR calls/s; RSS sampled every ${SAMPLE} s, growth = least-squares slope after the first ${WARMUP} s; \`bash bench/soak.sh $SECS\`"
echo
echo "| length | calls ok | failed | server CPU ms per call | RSS idle (MiB) | RSS after warm-up (MiB) | RSS at end of load (MiB) | RSS peak (MiB) | RSS after drain (MiB) | RSS growth (MiB per hour) | background CPU (cores) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
awk -v m="$mins" -v ok="$ok" -v f="$failed" -v c0="$c0" -v c1="$c1" -v hz="$TICKS" -v idle="$idle" -v first="$first" \
  -v last="$last" -v hwm="$hwm" -v e="$end_rss" -v slope="$slope" -v bg="$BG_CORES" 'BEGIN {
  printf "| %s min | %d | %d | %.3f | %.1f | %.1f | %.1f | %.1f | %.1f | %s | %s |\n", m, ok, f,
    (ok + f > 0 ? (c1 - c0) * 1000 / hz / (ok + f) : 0), idle / 1024, first / 1024, last / 1024, hwm / 1024,
    e / 1024, slope, bg }'
[ "$drained" = yes ] || echo "Warning: calls or media legs were still up 30 s after the soak's last call."

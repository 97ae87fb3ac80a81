#!/usr/bin/env bash
# Call-rate ladder: SIPp places calls against a release `hotline serve` (bench dialplan:
# answer, play a 1.4 s prompt, hang up) at increasing rates, REPEAT times on a fresh server
# each, and prints a markdown table of medians per rate: achieved rate, failed calls, server
# CPU ms per call (utime+stime from /proc/PID/stat, from the first INVITE until every call is
# gone), the server's RSS (idle before the ladder, peak = VmHWM, after each step) and the
# background CPU of the machine. Then the highest rate whose median failure rate is < 1 %.
#   bash bench/call-rate.sh ivr  [RATES...]   IVR calls (uac_ivr.xml: the server hangs up after the prompt)
#   bash bench/call-rate.sh bare [RATES...]   bare signalling (uac_bye.xml: caller BYEs right after ACK)
# Env: REPEAT (3), STEP_SECS (5: calls per step = rate * STEP_SECS, at least 100),
#      STOP_FAIL_PCT (10: stop climbing once a step fails this much).
# Every step is bounded: its calls, at most STEP_SECS*4+30 s, loopback only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

MODE=${1:-ivr}
shift || true
case $MODE in
  ivr) SCENARIO=uac_ivr.xml; DEFAULT_RATES="50 100 200 400 800" ;;
  bare) SCENARIO=uac_bye.xml; DEFAULT_RATES="100 200 400 800 1600" ;;
  *) echo "usage: bash bench/call-rate.sh ivr|bare [RATES...]" >&2; exit 2 ;;
esac
read -r -a RATES <<<"${*:-$DEFAULT_RATES}"
REPEAT=${REPEAT:-3}
STEP_SECS=${STEP_SECS:-5}
STOP_FAIL_PCT=${STOP_FAIL_PCT:-10}
need_tools
bench_workdir

# results: one line per (repeat, rate) in $WORK/rows
: >"$WORK/rows"
for rep in $(seq "$REPEAT"); do
  start_server "rate-$MODE-$rep"
  sleep 1
  idle=$(rss_kb "$SERVER")
  for rate in "${RATES[@]}"; do
    calls=$((rate * STEP_SECS))
    [ "$calls" -ge 100 ] || calls=100
    limit=$((rate * 3 + 50))
    say "$MODE ladder, run $rep/$REPEAT: $calls calls at $rate/s"
    c0=$(proc_ticks "$SERVER"); window_begin
    set +e
    (cd "$WORK" && timeout $((STEP_SECS * 4 + 30)) sipp 127.0.0.1:$SIP_PORT -sf "$BENCH_DIR/sipp/$SCENARIO" \
      -s 12348 -i 127.0.0.1 -mi 127.0.0.1 -p $CALLER_PORT -mp 6000 -r "$rate" -m "$calls" -l "$limit" \
      -timeout $((STEP_SECS * 4 + 20)) -timeout_error -nostdin -trace_stat -stf "$WORK/stat.csv" \
      -fd 1 -max_socket 100 >"$WORK/sipp.out" 2>&1)
    set -e
    drained=yes
    wait_drained 30 || drained=no
    c1=$(proc_ticks "$SERVER"); window_end
    ok=$(sipp_stat "$WORK/stat.csv" 'SuccessfulCall(C)')
    failed=$(sipp_stat "$WORK/stat.csv" 'FailedCall(C)')
    created=$(sipp_stat "$WORK/stat.csv" 'OutgoingCall(C)')
    # calls SIPp never placed (it ran out of time) count as failed too
    failed=$((failed + calls - created))
    achieved=$(sipp_rate "$WORK/stat.csv")
    mv "$WORK/stat.csv" "$WORK/stat-$MODE-$rep-$rate.csv"
    awk -v rate="$rate" -v rep="$rep" -v calls="$calls" -v ok="$ok" -v failed="$failed" \
      -v c0="$c0" -v c1="$c1" -v hz="$TICKS" -v achieved="$achieved" -v idle="$idle" \
      -v hwm="$(hwm_kb "$SERVER")" -v rss="$(rss_kb "$SERVER")" -v bg="$BG_CORES" -v drained="$drained" 'BEGIN {
        printf "%s %s %.0f %d %d %.2f %.3f %.1f %.1f %.1f %s %s\n", rate, rep, achieved, ok, failed,
          100 * failed / calls, (c1 - c0) * 1000 / hz / calls, idle / 1024, hwm / 1024, rss / 1024, bg, drained }' >>"$WORK/rows"
    tail -1 "$WORK/rows" | awk '{printf "  achieved %s/s, %s ok, %s failed (%s %%), %s ms CPU per call, RSS %s MiB, background %s cores, drained %s\n", $3, $4, $5, $6, $7, $10, $11, $12}' >&2
    if awk -v p="$(tail -1 "$WORK/rows" | awk '{print $6}')" -v s="$STOP_FAIL_PCT" 'BEGIN {exit !(p >= s)}'; then
      say "  $STOP_FAIL_PCT % or more failed: stopping this ladder"
      break
    fi
    sleep 1
  done
  stop_server
done

title=$([ "$MODE" = ivr ] && echo "IVR calls (answer, 1.4 s prompt, server hangs up)" || echo "Bare signalling (answer, caller BYEs at once)")
echo
echo "### Call-rate ladder: $title"
echo
echo "Medians of $REPEAT run(s), ${STEP_SECS} s of calls per step; \`bash bench/call-rate.sh $MODE ${RATES[*]}\`"
echo
echo "| target calls/s | achieved calls/s | runs | failed % | server CPU ms per call | RSS idle (MiB) | RSS peak (MiB) | RSS after (MiB) | background CPU (cores) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
best=-
for rate in "${RATES[@]}"; do
  col() { awk -v r="$rate" -v c="$1" '$1 == r {print $c}' "$WORK/rows"; }
  runs=$(col 1 | wc -l)
  [ "$runs" -gt 0 ] || continue
  # shellcheck disable=SC2046
  fail=$(median $(col 6))
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$rate" "$(fmt 0 "$(median $(col 3))")" "$runs" \
    "$(fmt 2 "$fail")" "$(fmt 3 "$(median $(col 7))")" "$(fmt 1 "$(median $(col 8))")" \
    "$(fmt 1 "$(median $(col 9))")" "$(fmt 1 "$(median $(col 10))")" "$(fmt 2 "$(median $(col 11))")"
  if [ "$runs" -eq "$REPEAT" ] && awk -v f="$fail" 'BEGIN {exit !(f < 1)}'; then best=$rate; fi
done
echo
echo "Highest rate with < 1 % failed calls (median of $REPEAT): **$best calls/s**."
undrained=$(awk '$12 == "no"' "$WORK/rows" | wc -l)
[ "$undrained" -eq 0 ] || echo "Warning: $undrained step(s) still had calls or media legs 30 s after SIPp finished."

#!/usr/bin/env bash
# Overload and recovery: IVR calls (bench dialplan) at a normal rate, then far past the limit
# for OVER_SECS, then the normal rate again, then nothing. The server must recover: calls at
# the normal rate succeed again, no call or media leg is left (active_calls and media_legs back
# to 0), every RTP port is returned (free_rtp_ports back to its idle value), and memory comes
# back near its baseline (RSS after a warm-up phase at the normal rate). REPEAT runs on a fresh
# server each; prints a markdown table (medians) and the checks of every run.
#   bash bench/overload.sh
# Env: NORMAL_RATE (50/s), OVER_RATE (2000/s), OVER_SECS (20), NORMAL_SECS (10), REPEAT (3),
#      OVER_LIMIT (6000: most calls SIPp keeps open at once while overloading).
# Bounded: NORMAL_RATE*NORMAL_SECS, OVER_RATE*OVER_SECS and NORMAL_RATE*20 calls, each phase
# at most its length + 40 s; loopback only. RSS is read 5 s and 80 s after the calls drained.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NORMAL_RATE=${NORMAL_RATE:-50}
OVER_RATE=${OVER_RATE:-2000}
OVER_SECS=${OVER_SECS:-20}
NORMAL_SECS=${NORMAL_SECS:-10}
OVER_LIMIT=${OVER_LIMIT:-6000}
REPEAT=${REPEAT:-3}
need_tools
bench_workdir

# phase NAME RATE SECS LIMIT: one SIPp run of IVR calls; sets P_OK P_FAILED P_RATE P_PCT
phase() {
  local calls=$(($2 * $3)) created
  say "  $1: $calls calls at $2/s"
  (cd "$WORK" && timeout $(($3 + 40)) sipp 127.0.0.1:$SIP_PORT -sf "$BENCH_DIR/sipp/uac_ivr.xml" -s 12348 \
    -i 127.0.0.1 -mi 127.0.0.1 -p $CALLER_PORT -mp 6000 -r "$2" -m "$calls" -l "$4" -timeout $(($3 + 30)) \
    -timeout_error -nostdin -trace_stat -stf "$WORK/stat.csv" -fd 1 -max_socket 100 >"$WORK/sipp-$1.out" 2>&1) || true
  P_OK=$(sipp_stat "$WORK/stat.csv" 'SuccessfulCall(C)')
  created=$(sipp_stat "$WORK/stat.csv" 'OutgoingCall(C)')
  P_FAILED=$(( $(sipp_stat "$WORK/stat.csv" 'FailedCall(C)') + calls - created ))
  P_RATE=$(fmt 0 "$(sipp_rate "$WORK/stat.csv")")
  P_PCT=$(awk -v f="$P_FAILED" -v n="$calls" 'BEGIN {printf "%.2f", 100 * f / n}')
  rm -f "$WORK/stat.csv"
  say "    achieved $P_RATE/s, ok $P_OK, failed $P_FAILED ($P_PCT %)"
}

: >"$WORK/rows"
: >"$WORK/checks"
for rep in $(seq "$REPEAT"); do
  say "overload and recovery, run $rep/$REPEAT"
  start_server "overload-$rep"
  sleep 1
  idle_rss=$(rss_kb "$SERVER"); idle_ports=$(hz free_rtp_ports)
  phase warmup "$NORMAL_RATE" "$NORMAL_SECS" $((NORMAL_RATE * 4 + 20))
  wait_drained 30 || true
  sleep 2
  base_rss=$(rss_kb "$SERVER")
  c0=$(proc_ticks "$SERVER"); window_begin; t0=$(date +%s.%N)
  phase overload "$OVER_RATE" "$OVER_SECS" "$OVER_LIMIT"
  window_end; c1=$(proc_ticks "$SERVER"); t1=$(date +%s.%N)
  over_rate=$P_RATE; over_pct=$P_PCT; over_bg=$BG_CORES; over_busy=$BUSY_CORES
  # SIPp's phase lasts longer than OVER_SECS when the server falls behind: divide by its length
  over_cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$TICKS" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.2f", (b - a) / hz / (t1 - t0)}')
  peak_rss=$(hwm_kb "$SERVER")
  phase recovery "$NORMAL_RATE" 20 $((NORMAL_RATE * 4 + 20))
  rec_pct=$P_PCT
  drain_t0=$SECONDS
  drained=yes
  wait_drained 60 || drained=no
  drain_s=$((SECONDS - drain_t0))
  # ports come back once each recording is finished (fsync on its own thread), after the legs
  ports_t0=$SECONDS
  while [ "$(hz free_rtp_ports)" != "$idle_ports" ] && [ $((SECONDS - ports_t0)) -lt 60 ]; do sleep 0.5; done
  ports_s=$((SECONDS - drain_t0))
  ports_back=$(hz free_rtp_ports)
  sleep 5
  end_rss=$(rss_kb "$SERVER"); end_ports=$(hz free_rtp_ports)
  end_calls=$(hz active_calls); end_legs=$(hz media_legs)
  # settled: the burst's last SIP transactions are freed 32 s (Timer J/K) after their calls,
  # and the server returns freed heap to the system a minute after a burst (src/memory.rs)
  while [ $((SECONDS - drain_t0)) -lt 80 ]; do sleep 1; done
  settled_rss=$(rss_kb "$SERVER")
  stop_server
  growth=$(awk -v a="$end_rss" -v b="$base_rss" 'BEGIN {printf "%.1f", 100 * (a - b) / b}')
  echo "$rep $over_rate $over_pct $over_cpu $over_busy $over_bg $rec_pct $((idle_rss / 1024)) $((base_rss / 1024)) $((peak_rss / 1024)) $((end_rss / 1024)) $growth $idle_ports $end_ports $end_calls $end_legs $drain_s $ports_s $((settled_rss / 1024))" >>"$WORK/rows"
  {
    printf -- '- run %s: after the overload, %s active calls and %s media legs (%s within 60 s), free RTP ports %s of %s idle after %s s%s, %s 5 s later, RSS %s MiB vs %s MiB baseline (%s %%), %s MiB 80 s after the drain, recovery phase %s %% failed\n' \
      "$rep" "$end_calls" "$end_legs" "$([ "$drained" = yes ] && echo "drained in ${drain_s} s" || echo "NOT drained")" \
      "$ports_back" "$idle_ports" "$ports_s" "$([ "$ports_back" = "$idle_ports" ] || echo ' (gave up waiting)')" "$end_ports" "$((end_rss / 1024))" "$((base_rss / 1024))" "$growth" "$((settled_rss / 1024))" "$rec_pct"
  } >>"$WORK/checks"
  tail -1 "$WORK/checks" >&2
done

col() { awk -v c="$1" '{print $c}' "$WORK/rows"; }
echo
echo "### Overload and recovery"
echo
echo "Medians of $REPEAT run(s): ${NORMAL_SECS} s at $NORMAL_RATE IVR calls/s (warm-up, then the RSS baseline), ${OVER_SECS} s at $OVER_RATE/s (at most $OVER_LIMIT open), 20 s at $NORMAL_RATE/s, then idle; \`bash bench/overload.sh\`"
echo
echo "| overload achieved calls/s | overload failed % | server CPU in overload (cores) | machine busy (cores) | background (cores) | recovery failed % | RSS idle / baseline / peak / after (MiB) | RSS after vs baseline | RSS 80 s after the drain (MiB) | free RTP ports idle / after | calls / legs left | calls drained after (s) | ports back after (s) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
# shellcheck disable=SC2046
printf '| %s | %s | %s | %s | %s | %s | %s / %s / %s / %s | %s %% | %s | %s / %s | %s / %s | %s | %s |\n' \
  "$(median $(col 2))" "$(median $(col 3))" "$(median $(col 4))" "$(median $(col 5))" "$(median $(col 6))" \
  "$(median $(col 7))" "$(median $(col 8))" "$(median $(col 9))" "$(median $(col 10))" "$(median $(col 11))" \
  "$(median $(col 12))" "$(median $(col 19))" "$(median $(col 13))" "$(median $(col 14))" "$(median $(col 15))" "$(median $(col 16))" \
  "$(median $(col 17))" "$(median $(col 18))"
echo
cat "$WORK/checks"

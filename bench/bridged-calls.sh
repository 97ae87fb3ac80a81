#!/usr/bin/env bash
# Concurrent bridged and recorded calls: a SIPp answering side registers as the phone
# `benchlawyer` (digest auth), then N SIPp callers dial that username; the server bridges each
# call straight to the phone (src/calls/flows.rs `direct_call`) and records it in stereo
# (left: caller, right: what the caller hears, i.e. the lawyer). Both sides talk the whole time
# (looping A-law via rtp_stream), so the server relays 2 x N streams and writes N recordings.
# Once all N calls are up it measures over WINDOW seconds: server CPU, RSS per call, RTP send
# jitter p50/p99 (the server's histogram on /healthz, since the server started), UDP packets
# dropped at the server's RTP sockets (the `drops` column of /proc/net/udp: on loopback, a
# packet is only lost when a receive buffer overflows), the send lateness and sequence gaps of
# a sample of the server's streams in this window only (bench/rtp_probe.py, when run as root:
# SIPp's rtp_stream never reads what it is sent), SIPp's CPU and the background CPU;
# then it checks that N recordings were written. REPEAT runs per N on a fresh server each;
# prints a markdown table of medians.
#   bash bench/bridged-calls.sh [N...]        default: 100 500 1000
# Env: REPEAT (3), WINDOW (10 s), RATE (call set-up rate, 100/s). Bounded: N calls per step,
# each held ~N/RATE + WINDOW + 10 s; loopback only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

read -r -a LEVELS <<<"${*:-100 500 1000}"
REPEAT=${REPEAT:-3}
WINDOW=${WINDOW:-10}
RATE=${RATE:-100}
USER_NAME=benchlawyer
need_tools
bench_workdir
cp "$ROOT_DIR/tests/media/caller-speech.alaw" "$WORK/"

# drops UDP datagrams dropped so far at sockets bound to ports LO..HI on 127.0.0.1
udp_drops() {
  awk -v lo="$1" -v hi="$2" 'function hex(h,  i, n) { n = 0
      for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1
      return n }
    NR > 1 { split($2, a, ":"); p = hex(a[2]); if (p >= lo && p <= hi) d += $NF } END { print d + 0 }' /proc/net/udp
}
RTP_LO=${RTP_PORTS%-*}
RTP_HI=${RTP_PORTS#*-}

: >"$WORK/rows"
for n in "${LEVELS[@]}"; do
  for rep in $(seq "$REPEAT"); do
    say "bridged calls: N=$n, run $rep/$REPEAT"
    # a fresh data dir per run; all removed at exit (deleting thousands of files between runs
    # would make ext4 slower at creating the next run's recordings)
    data=bridged-$n-$rep
    echo "bench-lawyer-password-$$" | "$BIN" phone add "$USER_NAME" --password-stdin \
      --data-dir "$WORK/$data" >/dev/null 2>"$WORK/phone-add.log" \
      || { cat "$WORK/phone-add.log" >&2; exit 1; }
    start_server "$data"
    register_lawyer "$USER_NAME" "bench-lawyer-password-$$"
    idle=$(rss_kb "$SERVER")
    hold_ms=$(( (n / RATE) * 1000 + (WINDOW + 12) * 1000 ))
    limit_s=$(( hold_ms / 1000 + 60 ))
    (cd "$WORK" && exec timeout $limit_s sipp -sf "$BENCH_DIR/sipp/uas_lawyer.xml" -i 127.0.0.1 -mi 127.0.0.1 \
      -p $LAWYER_PORT -mp 7000 -m "$n" -timeout $limit_s -nostdin -trace_stat -stf "$WORK/lawyer.csv" -fd 1 \
      >"$WORK/lawyer.out" 2>&1) &
    LAWYER_PID=$!
    sleep 0.5
    (cd "$WORK" && exec timeout $limit_s sipp 127.0.0.1:$SIP_PORT -sf "$BENCH_DIR/sipp/uac_hold.xml" \
      -s "$USER_NAME" -i 127.0.0.1 -mi 127.0.0.1 -p $CALLER_PORT -mp 6000 -m "$n" -l "$n" -r "$RATE" \
      -d "$hold_ms" -timeout $limit_s -nostdin -trace_stat -stf "$WORK/caller.csv" -fd 1 \
      >"$WORK/caller.out" 2>&1) &
    SIPP_PIDS=$!
    up=no
    for _ in $(seq $(( n / RATE * 4 + 60 ))); do
      [ "$(hz media_legs || echo 0)" -ge $((2 * n)) ] && { up=yes; break; }
      kill -0 "$SIPP_PIDS" 2>/dev/null || break
      sleep 0.5
    done
    legs=$(hz media_legs || echo 0)
    [ "$up" = yes ] || say "  only $legs of $((2 * n)) media legs came up"
    sleep 2
    # both SIPps (each is the child of its `timeout`)
    sipp_pids=$(pgrep -d' ' -x sipp -P "$LAWYER_PID,$SIPP_PIDS" || true)
    s0=0; for p in $sipp_pids; do s0=$((s0 + $(proc_ticks "$p" || echo 0))); done
    c0=$(proc_ticks "$SERVER"); d0=$(udp_drops "$RTP_LO" "$RTP_HI"); window_begin; t0=$(date +%s.%N)
    # a sample of streams (the first ~20 server legs) watched on loopback for this window only
    probe_pid=
    if [ "$(id -u)" = 0 ]; then
      python3 "$BENCH_DIR/rtp_probe.py" "$RTP_LO" $((RTP_LO + 39)) "$WINDOW" >"$WORK/probe.out" 2>"$WORK/probe.err" &
      probe_pid=$!
    fi
    sleep "$WINDOW"
    c1=$(proc_ticks "$SERVER"); d1=$(udp_drops "$RTP_LO" "$RTP_HI"); window_end; t1=$(date +%s.%N)
    s1=0; for p in $sipp_pids; do s1=$((s1 + $(proc_ticks "$p" || echo 0))); done
    probe="- - - -"
    if [ -n "$probe_pid" ] && wait "$probe_pid"; then
      read -r _ _ pp50 pp99 pmax pgaps <"$WORK/probe.out" && probe="$pp50 $pp99 $pmax $pgaps"
    fi
    legs_in_window=$(hz media_legs || echo 0)
    p50=$(hz send_jitter_p50_us || echo -); p99=$(hz send_jitter_p99_us || echo -)
    rss=$(rss_kb "$SERVER")
    wait "$SIPP_PIDS" || true
    SIPP_PIDS=
    drained=yes
    wait_drained 30 || drained=no
    wait "$LAWYER_PID" || true
    LAWYER_PID=
    ok=$(sipp_stat "$WORK/caller.csv" 'SuccessfulCall(C)')
    failed=$(sipp_stat "$WORK/caller.csv" 'FailedCall(C)')
    recs=$(find "$SERVER_DATA/recordings" -maxdepth 1 -name '*.wav' -size +44c | wc -l)
    stop_server
    rm -f "$WORK/caller.csv" "$WORK/lawyer.csv"
    awk -v n="$n" -v rep="$rep" -v legs="$legs_in_window" -v c0="$c0" -v c1="$c1" -v s0="$s0" -v s1="$s1" \
      -v hz="$TICKS" -v t0="$t0" -v t1="$t1" -v rss="$rss" -v idle="$idle" -v p50="$p50" -v p99="$p99" \
      -v d="$((d1 - d0))" -v dtot="$d1" -v ok="$ok" -v failed="$failed" -v recs="$recs" -v bg="$BG_CORES" \
      -v drained="$drained" -v probe="$probe" 'BEGIN {
        secs = t1 - t0; calls = legs / 2; if (calls < 1) calls = 1
        expected = legs * 50 * secs
        printf "%d %d %d %.3f %.3f %.1f %.1f %.2f %.2f %d %.4f %d %d %d %d %.2f %.2f %s %s\n", n, rep, legs,
          (c1 - c0) * 1000 / hz / secs, (c1 - c0) / hz / secs, rss / 1024, (rss - idle) / calls,
          p50 / 1000, p99 / 1000, d, (expected > 0 ? 100 * d / expected : 0), dtot, ok, failed, recs,
          (s1 - s0) / hz / secs, bg, drained, probe }' >>"$WORK/rows"
    tail -1 "$WORK/rows" | awk '{printf "  legs %s, server %s cores, RSS %s MiB (%s KiB/call), jitter p50 %s ms p99 %s ms, drops %s in window (%s total), calls ok %s failed %s, recordings %s, SIPp %s cores, background %s cores, drained %s; probe: lateness p50 %s ms p99 %s ms max %s ms, %s sequence gaps\n", $3, $5, $6, $7, $8, $9, $10, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22}' >&2
  done
done

echo
echo "### Concurrent bridged, recorded calls"
echo
echo "Medians of $REPEAT run(s), ${WINDOW} s window with all calls up; \`bash bench/bridged-calls.sh ${LEVELS[*]}\`"
echo
echo "| calls | media legs | server CPU (cores) | server CPU ms per call per s | RSS (MiB) | RSS per call (KiB) | send jitter p50 / p99 since start (ms, /healthz) | send lateness p50 / p99 / max in window (ms, probe) | sequence gaps (probe) | packets dropped at server sockets in window | loss % | calls ok / failed | recordings | SIPp CPU (cores) | background CPU (cores) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${LEVELS[@]}"; do
  col() { awk -v r="$n" -v c="$1" '$1 == r {print $c}' "$WORK/rows"; }
  [ -n "$(col 1)" ] || continue
  # shellcheck disable=SC2046
  printf '| %s | %s | %s | %s | %s | %s | %s / %s | %s / %s / %s | %s | %s | %s | %s / %s | %s | %s | %s |\n' "$n" \
    "$(fmt 0 "$(median $(col 3))")" "$(fmt 2 "$(median $(col 5))")" \
    "$(fmt 3 "$(awk -v c="$(median $(col 4))" -v n="$n" 'BEGIN {print c / n}')")" \
    "$(fmt 1 "$(median $(col 6))")" "$(fmt 0 "$(median $(col 7))")" "$(fmt 2 "$(median $(col 8))")" \
    "$(fmt 2 "$(median $(col 9))")" "$(fmt 2 "$(median $(col 19))")" "$(fmt 2 "$(median $(col 20))")" \
    "$(fmt 2 "$(median $(col 21))")" "$(fmt 0 "$(median $(col 22))")" \
    "$(fmt 0 "$(median $(col 10))")" "$(fmt 3 "$(median $(col 11))")" \
    "$(fmt 0 "$(median $(col 13))")" "$(fmt 0 "$(median $(col 14))")" "$(fmt 0 "$(median $(col 15))")" \
    "$(fmt 2 "$(median $(col 16))")" "$(fmt 2 "$(median $(col 17))")"
done
undrained=$(awk '$18 == "no"' "$WORK/rows" | wc -l)
[ "$undrained" -eq 0 ] || echo "Warning: $undrained run(s) still had calls or media legs 30 s after the callers hung up."

#!/usr/bin/env bash
# Real-time factor of transcription: the whole pipeline (`hotline transcribe`: stereo split,
# 8 -> 16 kHz, voice-activity detection, whisper per channel, quality checks) against raw
# whisper-rs on the same audio (`hotline transcribe --raw`: the file mixed to mono and given to
# whisper whole), for tiny.en and base, 1 thread, release build. Reports the median RTF
# (processing s / audio s) over RUNS runs and the peak RSS (GNU time).
#   bash bench/transcribe-rtf.sh            models from $HOTLINE_TEST_MODEL_DIR or
#                                           ~/.cache/hotline/models (`hotline model fetch`)
# Test calls are synthesised with espeak-ng + sox: a 1-minute English call (caller and lawyer
# taking turns, silence on the other channel) and a 1-minute Mandarin one, as 8 kHz stereo.
set -euo pipefail
cd "$(dirname "$0")/.."
for c in espeak-ng sox /usr/bin/time; do command -v "$c" >/dev/null || { echo "needs $c" >&2; exit 1; }; done
MODELS=${HOTLINE_TEST_MODEL_DIR:-$HOME/.cache/hotline/models}
RUNS=${RUNS:-3}
BIN=${HOTLINE_BIN:-${CARGO_TARGET_DIR:-target}/release/hotline}
[ -n "${HOTLINE_BIN:-}" ] || cargo build --release --quiet --bin hotline
"$BIN" model fetch --dir "$MODELS" --model base --model tiny.en >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# say VOICE TEXT OUT: telephone-band 8 kHz mono
say() { espeak-ng -v "$1" -s 150 -w "$work/raw.wav" "$2"; sox "$work/raw.wav" -r 8000 -c 1 -b 16 "$3" sinc 300-3400 pad 0.5 0.5; }
# call OUT VOICE_CALLER VOICE_LAWYER TURN...: alternating turns, caller first
call() {
  local out=$1 vc=$2 vl=$3; shift 3
  local left=() right=() i=0
  for text in "$@"; do
    say "$([ $((i % 2)) -eq 0 ] && echo "$vc" || echo "$vl")" "$text" "$work/t$i.wav"
    sox -n -r 8000 -c 1 -b 16 "$work/s$i.wav" trim 0 "$(soxi -D "$work/t$i.wav")"
    if [ $((i % 2)) -eq 0 ]; then left+=("$work/t$i.wav"); right+=("$work/s$i.wav")
    else left+=("$work/s$i.wav"); right+=("$work/t$i.wav"); fi
    i=$((i + 1))
  done
  sox "${left[@]}" "$work/left.wav"; sox "${right[@]}" "$work/right.wav"
  sox -M "$work/left.wav" "$work/right.wav" "$out"
}
en_turns=(
  "Hello, is this the legal aid hotline? I need some advice about my job."
  "Yes, this is the twelve three four eight hotline. How can I help you today?"
  "My employer has not paid my salary for three months. He says the company has no money."
  "I see. Do you have a written labour contract with the company?"
  "Yes, I signed a contract last year. It says I am paid on the fifteenth of every month."
  "Then you can apply for labour arbitration. It is free, and you should bring the contract."
  "Where do I apply? And how long does it take?"
  "At the labour dispute arbitration committee of your district. It usually takes about forty five days."
  "Thank you. Can the company fire me if I apply?"
  "No. Dismissing you for applying is unlawful, and you could claim compensation."
)
call "$work/call-en.wav" en-us en-gb "${en_turns[@]}"
zh_turns=(
  "ni3 hao3, qing3 wen4 shi4 fa3 lü4 yuan2 zhu4 re4 xian4 ma5?"
  "shi4 de5, zhe4 li3 shi4 yi1 er4 san1 si4 ba1. qing3 wen4 you3 shen2 me5 ke3 yi3 bang1 nin2?"
  "wo3 de5 lao3 ban3 san1 ge4 yue4 mei2 you3 fa1 gong1 zi1."
  "nin2 he2 gong1 si1 qian1 le5 lao2 dong4 he2 tong2 ma5?"
  "qian1 le5, qu4 nian2 qian1 de5."
  "na4 nin2 ke3 yi3 shen1 qing3 lao2 dong4 zhong4 cai2, bu4 shou1 fei4."
)
call "$work/call-zh.wav" cmn-latn-pinyin cmn-latn-pinyin "${zh_turns[@]}"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf '| model | audio | language | mode | audio s | median RTF | peak RSS MiB |\n|---|---|---|---|---|---|---|\n'
for model in tiny.en base; do
  for clip in en zh; do
    [ "$model" = tiny.en ] && [ "$clip" = zh ] && continue
    for mode in pipeline raw; do
      flags=(--model "$MODELS/ggml-$model.bin" --language "$clip" --threads 1)
      [ "$mode" = raw ] && flags+=(--raw)
      rtfs=() rss=0
      for _ in $(seq "$RUNS"); do
        /usr/bin/time -v -o "$work/time" "$BIN" transcribe "${flags[@]}" "$work/call-$clip.wav" >"$work/out" 2>/dev/null
        rtfs+=("$(grep -o 'RTF [0-9.]*' "$work/out" | tail -n1 | cut -d' ' -f2)")
        r=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$work/time")
        [ "$r" -gt "$rss" ] && rss=$r
      done
      secs=$(soxi -D "$work/call-$clip.wav")
      printf '| %s | call-%s.wav | %s | %s | %.1f | %s | %d |\n' "$model" "$clip" "$clip" "$mode" "$secs" \
        "$(printf '%s\n' "${rtfs[@]}" | median)" $((rss / 1024))
    done
  done
done

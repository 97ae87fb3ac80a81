#!/usr/bin/env bash
# Speaks the prompt texts of a dialplan (DIR/prompts/texts.toml) into WAV files
# DIR/prompts/<lang>/<name>.wav, 8 kHz 16-bit mono (telephony quality, small files):
#   bash scripts/make-prompts.sh [DIR]        # DIR defaults to ./dialplans
# Voices: espeak-ng `cmn` for zh (Mandarin), `en-us` for en, `yue` for yue (Cantonese).
# Installs espeak-ng and sox (Debian packages) when missing. These synthetic prompts are
# placeholders: replace the WAVs with studio recordings of the same texts for production.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-dialplans}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v espeak-ng >/dev/null 2>&1 || ! command -v sox >/dev/null 2>&1; then
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends espeak-ng sox
fi

# espeak-ng's Mandarin is slow at the default rate: speak it faster
speed() { if [ "$1" = zh ] || [ "$1" = yue ]; then echo 210; else echo 160; fi; }

voice() {
    case "$1" in
        zh) echo cmn ;;
        en) echo en-us ;;
        yue) echo yue ;;
        *) echo "$1" ;;
    esac
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cargo run -q -p hotline-ivr --example prompt_texts -- "$dir" >"$tmp/texts.tsv"

count=0
while IFS=$'\t' read -r lang name text; do
    out="$dir/prompts/$lang/$name.wav"
    mkdir -p "$(dirname "$out")"
    # Mandarin texts may end in an English sentence (the language menu): speak that part
    # with the English voice and join the two.
    if [ "$lang" = zh ] && [[ "$text" =~ ^([^A-Za-z]+)([A-Za-z].*)$ ]]; then
        espeak-ng -v cmn -s "$(speed zh)" -w "$tmp/a.wav" "${BASH_REMATCH[1]}"
        espeak-ng -v en-us -s "$(speed en)" -w "$tmp/b.wav" "${BASH_REMATCH[2]}"
        sox "$tmp/a.wav" "$tmp/b.wav" "$tmp/raw.wav"
    else
        espeak-ng -v "$(voice "$lang")" -s "$(speed "$lang")" -w "$tmp/raw.wav" "$text"
    fi
    sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out" gain -n -3
    count=$((count + 1))
done <"$tmp/texts.tsv"
echo "wrote $count prompts under $dir/prompts/"

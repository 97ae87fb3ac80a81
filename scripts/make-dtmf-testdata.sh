#!/usr/bin/env bash
# Makes the test data of the DTMF tests (sip/src/media/tone_detector.rs and dtmf.rs):
#   bash scripts/make-dtmf-testdata.sh [OUT_DIR, default sip/testdata]
#
# Speech for the "speech must not be detected as DTMF" tests, 8 kHz mono G.711 μ-law, raw
# (no header), band-limited to the telephone band 300-3400 Hz, long pauses cut:
#   sip/testdata/speech-en.ulaw   espeak-ng, English, a male and a female voice  (8.5 s)
#   sip/testdata/speech-cmn.ulaw  espeak-ng, Mandarin (-v cmn), male and female  (8.5 s)
#   sip/testdata/speech-asterisk-en.ulaw  a real human recording from the Debian package
#       asterisk-core-sounds-en-wav (Allison Smith for Digium, licence CC-BY-SA 3.0; see
#       /usr/share/doc/asterisk-core-sounds-en-wav/copyright)                     (5 s)
# The files are small (8 kB a second) because they are committed; the tests read them with
# include_bytes! and decode them with crate::media::g711, so nothing is needed at run time.
#
# It also prints the RFC 4733 payloads of SIPp's DTMF pcaps (Debian package sip-tester),
# which the RFC 4733 receiver tests in dtmf.rs copy byte for byte.
#
# Needs: espeak-ng, sox, asterisk-core-sounds-en-wav, sip-tester, python3 (pcap dump only):
#   apt-get install -y espeak-ng sox asterisk-core-sounds-en-wav sip-tester
set -euo pipefail

cd "$(dirname "$0")/.."
out=${1:-sip/testdata}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install -y espeak-ng sox" >&2; exit 1; }
done

# No dither, fixed random seed: the same files every run.
sox() { command sox -D -R "$@"; }

# To the telephone channel: 8 kHz mono 16 bit, 300-3400 Hz, pauses over 0.3 s shortened,
# peak normalised to -3 dBFS (loud speech is the harder case for a DTMF detector).
telephone() { # in.wav out.wav
    sox "$1" -r 8000 -c 1 -b 16 "$2" sinc 300-3400 silence -l 1 0.02 0.5% -1 0.3 0.5% gain -n -3
}

en_text="The public legal service hotline helps citizens with labour disputes, unpaid wages, \
family matters, inheritance, traffic accidents and consumer rights. Please describe your problem \
after the tone. Our lawyers are available from eight in the morning until nine in the evening, \
seven days a week. If you are calling about a workplace injury, have your contract and medical \
records ready. Thank you for calling, and have a good day."
cmn_text="您好，这里是一二三四八公共法律服务热线。劳动争议、婚姻家庭、拖欠工资，\
请按一。法律援助申请，请按二。请您不要挂机，律师马上为您解答。请说出您的姓名和所在的城市。"

# English: 4.25 s of a male voice, then 4.25 s of a high female voice (en+f2, pitch 90) taken
# from 13.5 s on, without cutting pauses. That stretch is the one closest to a DTMF key ('*',
# 941 + 1209 Hz) found in 80 minutes of espeak-ng and Asterisk speech: a detector without the
# level-steadiness check reports a '*' in it at some window alignments.
espeak-ng -v en -p 50 -s 150 -w "$tmp/en-m.wav" "$en_text"
telephone "$tmp/en-m.wav" "$tmp/en-m-8k.wav"
sox "$tmp/en-m-8k.wav" "$tmp/en-m-cut.wav" trim 0 4.25
espeak-ng -v en+f2 -p 90 -s 140 -w "$tmp/en-f.wav" "$en_text"
sox "$tmp/en-f.wav" -r 8000 -c 1 -b 16 "$tmp/en-f-8k.wav" sinc 300-3400 gain -n -3
sox "$tmp/en-f-8k.wav" "$tmp/en-f-cut.wav" trim 13.5 4.25
sox "$tmp/en-m-cut.wav" "$tmp/en-f-cut.wav" -t raw -e mu-law -b 8 "$out/speech-en.ulaw"

# Mandarin: 4.25 s each of a male and a female voice.
espeak-ng -v cmn -s 150 -w "$tmp/cmn-m.wav" "$cmn_text"
espeak-ng -v cmn+f3 -p 70 -s 150 -w "$tmp/cmn-f.wav" "$cmn_text"
for v in cmn-m cmn-f; do
    telephone "$tmp/$v.wav" "$tmp/$v-8k.wav"
    sox "$tmp/$v-8k.wav" "$tmp/$v-cut.wav" trim 0 4.25
done
sox "$tmp/cmn-m-cut.wav" "$tmp/cmn-f-cut.wav" -t raw -e mu-law -b 8 "$out/speech-cmn.ulaw"

sounds=/usr/share/asterisk/sounds/en
if [ -d "$sounds" ]; then
    sox "$sounds/tt-weasels.wav" "$sounds/vm-intro.wav" "$tmp/ast.wav"
    telephone "$tmp/ast.wav" "$tmp/ast-8k.wav"
    sox "$tmp/ast-8k.wav" -t raw -e mu-law -b 8 "$out/speech-asterisk-en.ulaw" trim 0 5
else
    echo "asterisk-core-sounds-en-wav missing: speech-asterisk-en.ulaw not made" >&2
fi
ls -l "$out"

pcaps=/usr/share/sip-tester
if [ -d "$pcaps" ] && command -v python3 >/dev/null; then
    echo "RFC 4733 packets of SIPp's pcaps (M = marker bit, payload hex):"
    python3 - "$pcaps"/dtmf_2833_1.pcap "$pcaps"/dtmf_2833_pound.pcap <<'EOF'
import struct, sys
for name in sys.argv[1:]:
    data = open(name, "rb").read()
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4 and struct.unpack("<I", data[20:24])[0] == 1
    off, print_name = 24, True
    while off < len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = pkt[14:]  # Ethernet
        rtp = ip[(ip[0] & 15) * 4 + 8:]  # IPv4 header, UDP header
        _, b1, seq, ts = struct.unpack(">BBHI", rtp[:8])
        if print_name:
            print(name)
            print_name = False
        print(f"  PT {b1 & 127} M {b1 >> 7} seq {seq} ts {ts} payload {rtp[12:].hex()}")
EOF
fi

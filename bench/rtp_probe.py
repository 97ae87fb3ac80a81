#!/usr/bin/env python3
"""Windowed RTP send lateness and sequence gaps of a sample of the server's streams.

Why: the server's /healthz jitter percentiles count every packet since the server started,
so a benchmark's steady state cannot be told from its ramp-up; and SIPp's rtp_stream never
reads the RTP it is sent, so it cannot count lost packets. This probe watches loopback with
an AF_PACKET socket (root needed), filtered in the kernel (classic BPF) to UDP from the
server's RTP source ports LO..HI, and takes the kernel's receive timestamps. For each stream
(source port, destination port, SSRC) a packet's lateness is its arrival minus its place on
the stream's own 20 ms grid (RTP timestamp / 8000), relative to the stream's earliest packet;
the same quantity the server measures, for this window only. Sequence gaps are packets the
server never sent (loopback loses nothing before the receiving socket's buffer).

    python3 bench/rtp_probe.py LO HI SECONDS      prints: streams packets p50_ms p99_ms max_ms gaps
"""

import ctypes
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
PACKET_OUTGOING = 4


def bpf_filter(lo, hi):
    """IPv4, UDP, not a fragment, source port in [lo, hi]: accept 96 bytes, else drop."""
    ins = [
        (0x28, 0, 0, 12),  # ldh [12]            ethertype
        (0x15, 0, 9, ETH_P_IP),  # jeq IPv4
        (0x30, 0, 0, 23),  # ldb [23]            protocol
        (0x15, 0, 7, 17),  # jeq UDP
        (0x28, 0, 0, 20),  # ldh [20]            flags + fragment offset
        (0x45, 5, 0, 0x1FFF),  # jset fragment -> drop
        (0xB1, 0, 0, 14),  # ldxb 4*([14]&0xf)   IP header length
        (0x48, 0, 0, 14),  # ldh [x+14]          UDP source port
        (0x35, 0, 2, lo),  # jge lo
        (0x25, 1, 0, hi),  # jgt hi -> drop
        (0x06, 0, 0, 96),  # ret 96
        (0x06, 0, 0, 0),  # ret 0
    ]
    return b"".join(struct.pack("HBBI", *i) for i in ins)


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main():
    lo, hi, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    prog = bpf_filter(lo, hi)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("HL", len(prog) // 8, ctypes.addressof(buf))
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("lo", ETH_P_IP))
    s.settimeout(0.2)
    streams = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, anc, _flags, addr = s.recvmsg(128, 64)
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING or len(data) < 14 + 20 + 8 + 12:
            continue
        ts = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                ts = sec + nsec / 1e9
        if ts is None:
            continue
        ihl = (data[14] & 0x0F) * 4
        udp = 14 + ihl
        sport, dport = struct.unpack("!HH", data[udp : udp + 4])
        rtp = data[udp + 8 :]
        if len(rtp) < 12 or rtp[0] >> 6 != 2 or 200 <= rtp[1] <= 204:
            continue  # not RTP (RTCP shares nothing here, but be safe)
        seq, rts, ssrc = struct.unpack("!HII", rtp[2:12])
        streams.setdefault((sport, dport, ssrc), []).append((ts, seq, rts))
    lateness = []
    gaps = 0
    packets = 0
    for pkts in streams.values():
        if len(pkts) < 10:
            continue
        packets += len(pkts)
        base_ts = pkts[0][2]
        offsets = [t - ((rts - base_ts) & 0xFFFFFFFF) / 8000.0 for t, _, rts in pkts]
        first = min(offsets)
        lateness.extend(o - first for o in offsets)
        seqs = sorted({(seq - pkts[0][1]) & 0xFFFF for _, seq, _ in pkts})
        gaps += seqs[-1] + 1 - len(seqs)
    lateness.sort()
    print(
        len([p for p in streams.values() if len(p) >= 10]),
        packets,
        "%.2f" % (percentile(lateness, 50) * 1000),
        "%.2f" % (percentile(lateness, 99) * 1000),
        "%.2f" % ((lateness[-1] if lateness else 0) * 1000),
        gaps,
    )


if __name__ == "__main__":
    main()

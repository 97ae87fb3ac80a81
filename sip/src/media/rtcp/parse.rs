//! Reading compound RTCP packets (RFC 3550 §6.1, A.2): SR, RR, SDES and BYE, anything else
//! skipped by its length.

use super::{
    MAX_BLOCKS, PT_BYE, PT_RR, PT_SDES, PT_SR, REPORT_BLOCK_LEN, ReportBlock, RtcpError,
    RtcpPacket, SDES_CNAME, SenderInfo, VERSION,
};

/// Parses a compound RTCP packet (RFC 3550 §6.1). Never panics: every read is bounds-checked,
/// and a datagram whose lengths don't add up is rejected whole (A.2).
pub fn parse_compound(mut buf: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if buf.is_empty() {
        return Err(RtcpError::Truncated(0));
    }
    let mut out = Vec::new();
    while !buf.is_empty() {
        let [b0, pt, l0, l1, ..] = *buf else {
            return Err(RtcpError::Truncated(buf.len()));
        };
        if b0 >> 6 != VERSION {
            return Err(RtcpError::Version(b0 >> 6));
        }
        let len = (usize::from(u16::from_be_bytes([l0, l1])) + 1) * 4;
        if len > buf.len() {
            return Err(RtcpError::Length {
                declared: len,
                remaining: buf.len(),
            });
        }
        let mut body = &buf[4..len];
        buf = &buf[len..];
        if b0 & 0x20 != 0 {
            let pad = usize::from(body.last().copied().unwrap_or(0));
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::Malformed(pt));
            }
            body = &body[..body.len() - pad];
        }
        let count = usize::from(b0 & 0x1f);
        let packet = match pt {
            PT_SR => parse_sr(body, count),
            PT_RR => parse_rr(body, count),
            PT_SDES => parse_sdes(body, count),
            PT_BYE => parse_bye(body, count),
            _ => Some(RtcpPacket::Other(pt)),
        };
        out.push(packet.ok_or(RtcpError::Malformed(pt))?);
    }
    Ok(out)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn parse_blocks(b: &[u8], count: usize) -> Option<Vec<ReportBlock>> {
    (0..count)
        .map(|i| {
            let at = i * REPORT_BLOCK_LEN;
            let lost = be32(b, at + 4)?;
            Some(ReportBlock {
                ssrc: be32(b, at)?,
                fraction_lost: (lost >> 24) as u8,
                // Sign-extend the 24-bit field.
                cumulative_lost: ((lost << 8) as i32) >> 8,
                extended_highest_seq: be32(b, at + 8)?,
                jitter: be32(b, at + 12)?,
                last_sr: be32(b, at + 16)?,
                delay_since_last_sr: be32(b, at + 20)?,
            })
        })
        .collect()
}

fn parse_sr(b: &[u8], count: usize) -> Option<RtcpPacket> {
    let info = SenderInfo {
        ntp_timestamp: u64::from(be32(b, 4)?) << 32 | u64::from(be32(b, 8)?),
        rtp_timestamp: be32(b, 12)?,
        packet_count: be32(b, 16)?,
        octet_count: be32(b, 20)?,
    };
    let reports = parse_blocks(b.get(24..)?, count)?;
    Some(RtcpPacket::SenderReport {
        ssrc: be32(b, 0)?,
        info,
        reports,
    })
}

fn parse_rr(b: &[u8], count: usize) -> Option<RtcpPacket> {
    let reports = parse_blocks(b.get(4..)?, count)?;
    Some(RtcpPacket::ReceiverReport {
        ssrc: be32(b, 0)?,
        reports,
    })
}

fn parse_sdes(b: &[u8], count: usize) -> Option<RtcpPacket> {
    let mut chunks = Vec::with_capacity(count.min(MAX_BLOCKS));
    let mut at = 0;
    for _ in 0..count {
        let ssrc = be32(b, at)?;
        at += 4;
        let mut cname = None;
        loop {
            let kind = *b.get(at)?;
            if kind == 0 {
                // End of item list: skip the null octet(s) to the next 32-bit boundary (§6.5).
                at = (at / 4 + 1) * 4;
                break;
            }
            let len = usize::from(*b.get(at + 1)?);
            let text = b.get(at + 2..at + 2 + len)?;
            if kind == SDES_CNAME {
                cname = Some(String::from_utf8_lossy(text).into_owned());
            }
            at += 2 + len;
        }
        chunks.push((ssrc, cname));
    }
    Some(RtcpPacket::SourceDescription(chunks))
}

fn parse_bye(b: &[u8], count: usize) -> Option<RtcpPacket> {
    let sources = (0..count)
        .map(|i| be32(b, i * 4))
        .collect::<Option<Vec<_>>>()?;
    let reason = match b.get(count * 4) {
        Some(&len) if len > 0 => {
            let start = count * 4 + 1;
            let text = b.get(start..start + usize::from(len))?;
            Some(String::from_utf8_lossy(text).into_owned())
        }
        _ => None,
    };
    Some(RtcpPacket::Goodbye { sources, reason })
}

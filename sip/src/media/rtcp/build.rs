//! Writing compound RTCP packets: SR or RR, SDES CNAME, and BYE on hangup (RFC 3550 §6).

use super::{
    MAX_BLOCKS, PT_BYE, PT_RR, PT_SDES, PT_SR, REPORT_BLOCK_LEN, ReportBlock, SDES_CNAME,
    SenderInfo, VERSION,
};

/// Writes a packet header with a placeholder length; [`finish`] fills the length in.
fn begin(buf: &mut Vec<u8>, count: usize, pt: u8) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[VERSION << 6 | (count as u8 & 0x1f), pt, 0, 0]);
    start
}

/// Pads to 32 bits and sets the length field in 32-bit words minus one (§6.4.1).
fn finish(buf: &mut Vec<u8>, start: usize) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
    let words = ((buf.len() - start) / 4 - 1) as u16;
    buf[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
}

/// Longest prefix of `s` that fits in `max` bytes without splitting a UTF-8 character.
fn truncate(s: &str, max: usize) -> &[u8] {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s.as_bytes()[..end]
}

/// Builds the compound packet every report interval: SR if `sender` is given (we sent RTP since
/// the last report, §6.4) else RR, then SDES with our CNAME, which §6.1 requires in every
/// compound packet. At most 31 report blocks are encoded (5-bit count).
pub fn build_report(
    ssrc: u32,
    sender: Option<&SenderInfo>,
    blocks: &[ReportBlock],
    cname: &str,
) -> Vec<u8> {
    let blocks = &blocks[..blocks.len().min(MAX_BLOCKS)];
    let mut buf = Vec::with_capacity(28 + blocks.len() * REPORT_BLOCK_LEN + 12 + cname.len());
    let start = begin(
        &mut buf,
        blocks.len(),
        if sender.is_some() { PT_SR } else { PT_RR },
    );
    buf.extend_from_slice(&ssrc.to_be_bytes());
    if let Some(info) = sender {
        buf.extend_from_slice(&info.ntp_timestamp.to_be_bytes());
        for v in [info.rtp_timestamp, info.packet_count, info.octet_count] {
            buf.extend_from_slice(&v.to_be_bytes());
        }
    }
    for b in blocks {
        let lost = (b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
        buf.extend_from_slice(&b.ssrc.to_be_bytes());
        buf.extend_from_slice(&(u32::from(b.fraction_lost) << 24 | lost).to_be_bytes());
        for v in [
            b.extended_highest_seq,
            b.jitter,
            b.last_sr,
            b.delay_since_last_sr,
        ] {
            buf.extend_from_slice(&v.to_be_bytes());
        }
    }
    finish(&mut buf, start);
    let start = begin(&mut buf, 1, PT_SDES);
    buf.extend_from_slice(&ssrc.to_be_bytes());
    let text = truncate(cname, 255);
    buf.extend_from_slice(&[SDES_CNAME, text.len() as u8]);
    buf.extend_from_slice(text);
    buf.push(0); // end of item list; finish() pads the rest of the word with nulls
    finish(&mut buf, start);
    buf
}

/// Builds the hangup packet: the usual report + SDES followed by BYE (RFC 3550 §6.6; a BYE
/// must still be part of a compound packet that starts with SR/RR, §6.1). An empty `reason` is
/// left out.
pub fn build_bye(
    ssrc: u32,
    sender: Option<&SenderInfo>,
    blocks: &[ReportBlock],
    cname: &str,
    reason: &str,
) -> Vec<u8> {
    let mut buf = build_report(ssrc, sender, blocks, cname);
    let start = begin(&mut buf, 1, PT_BYE);
    buf.extend_from_slice(&ssrc.to_be_bytes());
    if !reason.is_empty() {
        let text = truncate(reason, 255);
        buf.push(text.len() as u8);
        buf.extend_from_slice(text);
    }
    finish(&mut buf, start);
    buf
}

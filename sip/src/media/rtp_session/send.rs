//! The sending half of a leg: audio and RFC 4733 telephone-event packets with continuous
//! sequence numbers and timestamps (RFC 3550 §5.1, RFC 3551 §4.1).

use rtp_rs::{RtpPacketBuildError, RtpPacketBuilder, Seq};

use super::{RtpError, RtpSession};

/// RFC 4733 §2.5.1.4: the final packet of an event is sent three times.
const EVENT_END_COPIES: usize = 3;
const RTP_HEADER_LEN: usize = 12;

impl RtpSession {
    /// Builds one audio packet: `samples` is the packet's duration in clock ticks (160 for
    /// 20 ms at 8 kHz), by which the timestamp advances (RFC 3550 §5.1). The marker is also set
    /// automatically on the first packet and after [`Self::advance_silence`] (RFC 3551 §4.1).
    pub fn build_audio(
        &mut self,
        payload: &[u8],
        samples: u32,
        marker: bool,
    ) -> Result<Vec<u8>, RtpError> {
        let mut buf = vec![0; RTP_HEADER_LEN + payload.len()];
        let n = self.build_audio_into(payload, samples, marker, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// [`Self::build_audio`] into a caller-owned buffer (no allocation); returns the length.
    pub fn build_audio_into(
        &mut self,
        payload: &[u8],
        samples: u32,
        marker: bool,
        out: &mut [u8],
    ) -> Result<usize, RtpError> {
        let pt = self.payload_type.ok_or(RtpError::NotNegotiated)?;
        let marker = marker || self.talkspurt_start;
        let n = self.write(pt, self.timestamp, marker, payload, out)?;
        self.talkspurt_start = false;
        self.timestamp = self.timestamp.wrapping_add(samples);
        Ok(n)
    }

    /// Accounts for time in which we sent nothing (hold, suppressed silence): the timestamp
    /// must keep tracking the sampling clock (RFC 3550 §5.1), and the next audio packet starts
    /// a talkspurt (marker set, RFC 3551 §4.1).
    pub fn advance_silence(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
        self.talkspurt_start = true;
    }

    /// Builds RFC 4733 telephone-event packets for forwarding DTMF to the bridged leg.
    /// `new_event` starts an event at the current media timestamp; every packet of the event
    /// carries that timestamp and the first one the marker (§2.2); `duration` is in clock
    /// ticks since the start (§2.3). With `end`, the final packet is returned three
    /// times with fresh sequence numbers (§2.5.1.4) and the audio timestamp moves past the
    /// event. The caller may space the copies at its packet interval.
    pub fn build_telephone_event(
        &mut self,
        event: u8,
        end: bool,
        duration: u16,
        volume: u8,
        new_event: bool,
    ) -> Result<Vec<Vec<u8>>, RtpError> {
        let pt = self.event_pt.ok_or(RtpError::NoTelephoneEvent)?;
        let (timestamp, mut marker) = match self.event_timestamp {
            Some(ts) if !new_event => (ts, false),
            _ => (self.timestamp, true),
        };
        self.event_timestamp = Some(timestamp);
        let [d0, d1] = duration.to_be_bytes();
        let payload = [event, u8::from(end) << 7 | (volume & 0x3f), d0, d1];
        let copies = if end { EVENT_END_COPIES } else { 1 };
        let mut packets = Vec::with_capacity(copies);
        for _ in 0..copies {
            let mut buf = [0u8; RTP_HEADER_LEN + 4];
            let n = self.write(pt, timestamp, marker, &payload, &mut buf)?;
            packets.push(buf[..n].to_vec());
            marker = false;
        }
        if end {
            self.event_timestamp = None;
            let elapsed = self.timestamp.wrapping_sub(timestamp);
            if u32::from(duration) > elapsed {
                self.timestamp = timestamp.wrapping_add(u32::from(duration));
            }
        }
        Ok(packets)
    }

    fn write(
        &mut self,
        pt: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, RtpError> {
        let builder = RtpPacketBuilder::new()
            .payload_type(pt)
            .ssrc(self.ssrc)
            .sequence(Seq::from(self.seq))
            .timestamp(timestamp)
            .marked(marker)
            .payload(payload);
        let n = builder.build_into(out).map_err(|e| match e {
            RtpPacketBuildError::BufferTooSmall => RtpError::BufferTooSmall {
                needed: builder.target_length(),
            },
            // No extension is ever set, so only the payload type can be rejected.
            _ => RtpError::InvalidPayloadType(pt),
        })?;
        self.seq = self.seq.wrapping_add(1);
        self.sent_since_report = true;
        self.counters.packets_sent = self.counters.packets_sent.wrapping_add(1);
        self.counters.octets_sent = self.counters.octets_sent.wrapping_add(payload.len() as u32);
        Ok(n)
    }
}

//! One call leg's media, sans-IO: RTP in (latching, jitter buffer, G.711 decoding, DTMF from
//! RFC 4733 / SIP INFO / in-band tones merged into one digit stream), what the leg hears out
//! (prompt, bridged peer, forwarded digits), RTCP, and the stereo recording.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use tracing::{debug, info, warn};

use super::dtmf::{Digit, DtmfMerger, Source, TelephoneEventReceiver};
use super::g711::{self, G711};
use super::jitter::{JitterBuffer, JitterConfig, Pop};
use super::prompt::{FRAME_SAMPLES, Playback, Prompt};
use super::recorder::{Recorder, RecordingInfo};
use super::rtcp::{generate_cname, next_report_at, ntp_timestamp};
use super::rtp_session::{Received, RtpConfig, RtpSession};
use super::tone_detector::ToneDetector;

/// A caller whose phone sent nothing for this long is gone (a dead rural line, a crashed
/// phone); the call is ended rather than held open forever.
pub const RTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Negotiated media for a leg (from the SDP offer/answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegParams {
    /// The G.711 law in use.
    pub codec: G711,
    /// Its payload type.
    pub payload_type: u8,
    /// The peer's telephone-event payload type, if negotiated (RFC 4733).
    pub telephone_event_pt: Option<u8>,
    /// Where the SDP says to send (latching may correct it); `None` on hold.
    pub remote: Option<SocketAddr>,
    /// Whether we may send (false when the peer put us on hold: `sendonly`/`inactive` from it).
    pub send: bool,
}

/// What a leg reports, without its id (the engine adds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LegEvent {
    Digit(char),
    PlaybackDone { interrupted: bool },
    RtpTimeout,
}

/// Sends one digit to the peer: RFC 4733 events when the peer negotiated them, else tones.
#[derive(Debug)]
struct DigitSender {
    digit: Digit,
    ticks: u16,
}

/// A key press lasts 100 ms on the wire, then 60 ms of pause (ITU-T Q.24 allows 40 ms+).
const DIGIT_TICKS: u16 = 5;
const DIGIT_PAUSE_TICKS: u16 = 3;

pub(super) struct MediaLeg {
    params: LegParams,
    rtp: RtpSession,
    jitter: JitterBuffer,
    events_in: TelephoneEventReceiver,
    tones: ToneDetector,
    merger: DtmfMerger,
    playback: Option<(Playback, bool)>,
    recorder: Option<Recorder>,
    message: Option<Recorder>,
    received: [i16; FRAME_SAMPLES],
    decoded: Vec<i16>,
    encoded: Vec<u8>,
    started: Instant,
    last_rx: Instant,
    timed_out: bool,
    latched: Option<SocketAddr>,
    forward: Vec<char>,
    sending_digits: std::collections::VecDeque<Digit>,
    current_digit: Option<DigitSender>,
    extra: Vec<Vec<u8>>,
    next_rtcp: Instant,
    rtcp_out: Option<Vec<u8>>,
    cname: String,
    events: Vec<LegEvent>,
}

impl MediaLeg {
    /// A leg with its stereo recording already created (see `opener`), or none.
    pub(super) fn new(params: LegParams, recorder: Option<Recorder>, now: Instant) -> Self {
        let mut rtp = RtpSession::new(None, 8000, RtpConfig::default());
        if let Err(e) = rtp.set_remote(
            params.remote,
            params.payload_type,
            params.telephone_event_pt,
        ) {
            warn!(error = %e, "RTP parameters refused");
        }
        MediaLeg {
            params,
            rtp,
            jitter: JitterBuffer::new(JitterConfig::default()),
            events_in: TelephoneEventReceiver::new(),
            tones: ToneDetector::new(),
            merger: DtmfMerger::new(),
            playback: None,
            recorder,
            message: None,
            received: [0; FRAME_SAMPLES],
            decoded: Vec::with_capacity(FRAME_SAMPLES),
            encoded: Vec::with_capacity(FRAME_SAMPLES),
            started: now,
            last_rx: now,
            timed_out: false,
            latched: None,
            forward: Vec::new(),
            sending_digits: Default::default(),
            current_digit: None,
            extra: Vec::new(),
            next_rtcp: next_report_at(now),
            rtcp_out: None,
            cname: generate_cname(),
            events: Vec::new(),
        }
    }

    /// New negotiated media (re-INVITE): codec, address, hold.
    pub(super) fn update(&mut self, params: LegParams) {
        if let Err(e) = self.rtp.set_remote(
            params.remote,
            params.payload_type,
            params.telephone_event_pt,
        ) {
            warn!(error = %e, "RTP parameters refused");
        }
        self.params = params;
    }

    fn ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.started).as_millis() as u64
    }

    /// One datagram from the RTP socket.
    pub(super) fn on_packet(&mut self, bytes: &[u8], source: SocketAddr, now: Instant) {
        // RTCP multiplexed on the RTP port (RFC 5761 §4): packet types 200-204.
        if bytes.len() > 1 && (200..=204).contains(&bytes[1]) {
            return self.on_rtcp(bytes, source, now);
        }
        let digit = match self.rtp.handle_packet(bytes, source, now) {
            Received::Audio(p) => {
                self.jitter.push(p.ssrc, p.seq, p.timestamp, p.payload, now);
                None
            }
            Received::TelephoneEvent(p) => {
                let now_ms = now.saturating_duration_since(self.started).as_millis() as u64;
                self.events_in
                    .push(p.timestamp, p.marker, p.payload, now_ms)
            }
            Received::Ignored(reason) => {
                debug!(?reason, "RTP packet ignored");
                return;
            }
        };
        self.last_rx = now;
        if self.rtp.latched() != self.latched {
            self.latched = self.rtp.latched();
            info!(source = ?self.latched, advertised = ?self.params.remote, "RTP latched");
        }
        if let Some(d) = digit {
            self.digit(Source::Rfc4733, d, now);
        }
    }

    /// One datagram from the RTCP socket.
    pub(super) fn on_rtcp(&mut self, bytes: &[u8], source: SocketAddr, now: Instant) {
        if let Err(e) = self.rtp.handle_rtcp(bytes, source, now) {
            debug!(error = %e, "RTCP packet ignored");
        }
    }

    /// A digit that arrived as SIP INFO.
    pub(super) fn info_digit(&mut self, c: char, now: Instant) {
        if let Some(d) = Digit::from_char(c) {
            self.digit(Source::SipInfo, d, now);
        }
    }

    fn digit(&mut self, source: Source, digit: Digit, now: Instant) {
        let now_ms = self.ms(now);
        let Some(d) = self.merger.push(source, digit, now_ms) else {
            return;
        };
        info!(digit = %d.as_char(), ?source, "DTMF");
        self.events.push(LegEvent::Digit(d.as_char()));
        self.forward.push(d.as_char());
        if matches!(self.playback, Some((_, true))) {
            self.playback = None;
            self.events
                .push(LegEvent::PlaybackDone { interrupted: true });
        }
    }

    /// Digits to forward to the bridged peer since the last call.
    pub(super) fn take_forward_digits(&mut self) -> Vec<char> {
        std::mem::take(&mut self.forward)
    }

    /// Queues a digit to send to this leg's phone (forwarded from the bridged peer).
    pub(super) fn send_digit(&mut self, c: char) {
        if let Some(d) = Digit::from_char(c) {
            self.sending_digits.push_back(d);
        }
    }

    pub(super) fn play(&mut self, prompts: Vec<Prompt>, barge_in: bool, looping: bool) {
        if self.playback.take().is_some() {
            self.events
                .push(LegEvent::PlaybackDone { interrupted: true });
        }
        let playback = if looping {
            Playback::looping_all(prompts)
        } else {
            Playback::new(prompts)
        };
        self.playback = Some((playback, barge_in));
    }

    pub(super) fn stop_playback(&mut self) {
        if self.playback.take().is_some() {
            self.events
                .push(LegEvent::PlaybackDone { interrupted: true });
        }
    }

    /// Takes this tick's received frame out of the jitter buffer.
    pub(super) fn pull_frame(&mut self, now: Instant) {
        self.received = [0; FRAME_SAMPLES];
        if let Pop::Frame(frame) = self.jitter.pop(now) {
            self.decoded.clear();
            g711::decode_frame(self.params.codec, &frame.payload, &mut self.decoded);
            let n = self.decoded.len().min(FRAME_SAMPLES);
            self.received[..n].copy_from_slice(&self.decoded[..n]);
        }
        if self.merger.inband_wanted() {
            let found = self.tones.push(&self.received);
            for d in found {
                self.digit(Source::InBand, d, now);
            }
        }
        let on_hold = self.params.remote.is_none();
        if !self.timed_out && !on_hold && now.saturating_duration_since(self.last_rx) > RTP_TIMEOUT
        {
            self.timed_out = true;
            self.events.push(LegEvent::RtpTimeout);
        }
    }

    /// The frame received this tick (silence when nothing arrived).
    pub(super) fn received(&self) -> &[i16; FRAME_SAMPLES] {
        &self.received
    }

    /// What this leg hears this tick: a prompt, else the bridged peer, else silence; records
    /// it beside what the leg said, and returns the RTP packet to send.
    pub(super) fn produce(
        &mut self,
        heard: Option<&[i16; FRAME_SAMPLES]>,
        now: Instant,
    ) -> Option<(Vec<u8>, SocketAddr)> {
        let mut out = [0i16; FRAME_SAMPLES];
        let mut from_prompt = false;
        if let Some((playback, _)) = self.playback.as_mut() {
            from_prompt = true;
            if !playback.next_frame(&mut out) {
                self.playback = None;
                self.events
                    .push(LegEvent::PlaybackDone { interrupted: false });
            }
        }
        if !from_prompt && let Some(h) = heard {
            out = *h;
        }
        let event_packets = self.digit_tick(&mut out);
        if let Some(rec) = self.recorder.as_mut()
            && let Err(e) = rec.push(Some(&self.received), Some(&out))
        {
            warn!(error = %e, "recording stopped");
            self.recorder = None;
        }
        if let Some(msg) = self.message.as_mut()
            && let Err(e) = msg.push(Some(&self.received), None)
        {
            warn!(error = %e, "message recording stopped");
            self.message = None;
        }
        if now >= self.next_rtcp {
            self.next_rtcp = next_report_at(now);
            self.rtcp_out = Some(self.rtp.rtcp_report(
                now,
                ntp_timestamp(SystemTime::now()),
                &self.cname,
            ));
        }
        let dest = self.rtp.send_destination().filter(|_| self.params.send);
        let Some(dest) = dest else {
            self.rtp.advance_silence(FRAME_SAMPLES as u32);
            return None;
        };
        if let Some(packets) = event_packets {
            let mut packets = packets.into_iter();
            let first = packets.next();
            self.extra.splice(0..0, packets);
            return first.map(|p| (p, dest));
        }
        self.encoded.clear();
        g711::encode_frame(self.params.codec, &out, &mut self.encoded);
        match self
            .rtp
            .build_audio(&self.encoded, FRAME_SAMPLES as u32, false)
        {
            Ok(packet) => Some((packet, dest)),
            Err(e) => {
                debug!(error = %e, "RTP not built");
                None
            }
        }
    }

    /// Advances digit sending by one tick: RFC 4733 packets, or a dual tone mixed into `out`.
    fn digit_tick(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Option<Vec<Vec<u8>>> {
        if self.current_digit.is_none() {
            let digit = self.sending_digits.pop_front()?;
            self.current_digit = Some(DigitSender { digit, ticks: 0 });
        }
        let sender = self.current_digit.as_mut().expect("set above");
        sender.ticks += 1;
        let (digit, ticks) = (sender.digit, sender.ticks);
        if ticks >= DIGIT_TICKS + DIGIT_PAUSE_TICKS {
            self.current_digit = None;
        }
        if ticks > DIGIT_TICKS {
            *out = [0; FRAME_SAMPLES]; // inter-digit pause
            return None;
        }
        if self.params.telephone_event_pt.is_some() {
            let end = ticks == DIGIT_TICKS;
            let duration = ticks * FRAME_SAMPLES as u16;
            return self
                .rtp
                .build_telephone_event(digit.event_code(), end, duration, 10, ticks == 1)
                .ok();
        }
        dual_tone(digit, ticks, out);
        None
    }

    /// The RTCP report due this tick (RFC 3550 §6.4), for the engine's RTCP socket.
    pub(super) fn take_rtcp(&mut self) -> Option<(Vec<u8>, SocketAddr)> {
        let report = self.rtcp_out.take()?;
        Some((report, self.rtp.rtcp_destination()?))
    }

    /// RTP packets beyond this tick's first (the repeated RFC 4733 end packets).
    pub(super) fn poll_extra_packet(&mut self) -> Option<(Vec<u8>, SocketAddr)> {
        let dest = self.rtp.send_destination()?;
        (!self.extra.is_empty()).then(|| (self.extra.remove(0), dest))
    }

    pub(super) fn drain_events(&mut self) -> Vec<LegEvent> {
        std::mem::take(&mut self.events)
    }

    /// Starts a separate recording of what the caller says (a voicemail message) into a file
    /// already created.
    pub(super) fn start_message(&mut self, recorder: Recorder) {
        self.message = Some(recorder);
    }

    /// Stops the message recording, handing it back to be finished off the media thread.
    pub(super) fn stop_message(&mut self) -> Option<Recorder> {
        self.message.take()
    }

    /// Ends the leg: finishes the recording (header and fsync).
    pub(super) fn close(self) -> Option<RecordingInfo> {
        let rec = self.recorder?;
        match rec.finish() {
            Ok(info) => Some(info),
            Err(e) => {
                warn!(error = %e, "recording could not be finished");
                None
            }
        }
    }
}

/// DTMF frequency pairs (ITU-T Q.23): rows 697/770/852/941 Hz, columns 1209/1336/1477/1633 Hz.
fn dual_tone(digit: Digit, tick: u16, out: &mut [i16; FRAME_SAMPLES]) {
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    let idx = "123A456B789C*0#D".find(digit.as_char()).unwrap_or(0);
    let (low, high) = (ROWS[idx / 4], COLS[idx % 4]);
    let amplitude = 0.25 * f64::from(i16::MAX); // about -15 dBm0 per tone
    let offset = f64::from(tick - 1) * FRAME_SAMPLES as f64;
    for (i, s) in out.iter_mut().enumerate() {
        let t = (offset + i as f64) / 8000.0;
        let v = amplitude
            * ((std::f64::consts::TAU * low * t).sin() + (std::f64::consts::TAU * high * t).sin());
        *s = v as i16;
    }
}

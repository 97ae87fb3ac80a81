//! The media driver: one thread that owns every call leg's RTP socket and runs them all on one
//! 20 ms clock. Each tick it drains the sockets, takes one frame from every leg's jitter buffer,
//! decides what each leg hears (a prompt, the bridged peer, silence), sends, and records.
//!
//! One clock for all legs keeps the send pacing free of drift (deadlines are `start + n*20ms`,
//! never `now + 20ms`) and costs one wake-up per tick instead of one per call. The legs
//! themselves ([`MediaLeg`]) are sans-IO. File system work stays off the clock: recording
//! files are created by the opener thread every command passes through first
//! ([`super::opener`]), and finished (header, fsync) by the finisher thread.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::{debug, warn};

pub use super::leg::LegParams;
use super::leg::{LegEvent, MediaLeg};
use super::opener::{self, Prepared};
use super::prompt::Prompt;
use super::recorder::{Recorder, RecordingInfo};
use super::stats::MediaStats;
use crate::shrink::ShrinkSparse;

/// The 20 ms packetisation interval of G.711 telephony (RFC 3551 §4.5).
pub const FRAME: Duration = Duration::from_millis(20);

/// Legs are spread over this many 1 ms slots of the frame.
const SLOTS: usize = 20;
const SLOT: Duration = Duration::from_millis(1);
/// RTCP sockets are read every this many frames (reports come every few seconds).
const RTCP_POLL_FRAMES: u64 = 10;

/// The application's name for one leg (one RTP stream to one phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// Commands from the call logic.
#[derive(Debug)]
pub enum MediaCommand {
    /// Starts a leg on a bound socket; records to `record` when given (stereo: this leg's
    /// caller on the left, what the caller hears on the right).
    Open {
        /// The leg.
        leg: LegId,
        /// Its RTP socket (bound on the port in our SDP).
        socket: UdpSocket,
        /// Its RTCP socket (the next port, RFC 3550 §11), if it could be bound.
        rtcp_socket: Option<UdpSocket>,
        /// Negotiated media.
        params: LegParams,
        /// Recording file.
        record: Option<PathBuf>,
    },
    /// New negotiated media after a re-INVITE (hold, codec change, new address).
    Update(LegId, LegParams),
    /// Plays prompts in order; `barge_in` stops them at the first digit.
    Play {
        /// The leg.
        leg: LegId,
        /// Prompts to play.
        prompts: Vec<Prompt>,
        /// Stop on a digit.
        barge_in: bool,
        /// Loop (hold music).
        looping: bool,
    },
    /// Stops the current prompt.
    StopPlay(LegId),
    /// Connects two legs: each hears the other; digits of one are forwarded to the other.
    Bridge(LegId, LegId),
    /// Disconnects a leg from its peer (both go back to silence or prompts).
    Unbridge(LegId),
    /// A digit that arrived by SIP INFO for this leg.
    InfoDigit(LegId, char),
    /// Closes a leg: finishes its recording.
    Close(LegId),
    /// Starts recording what the caller says into its own file (a voicemail message).
    StartMessage(LegId, PathBuf),
    /// Stops the message recording; `MessageRecorded` follows.
    StopMessage(LegId),
}

/// What the media side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A key press, reported once however many ways the phone signalled it.
    Digit {
        /// The leg.
        leg: LegId,
        /// `0-9`, `*`, `#`, `A-D`.
        digit: char,
    },
    /// The prompts queued with `Play` finished (or were stopped by a digit).
    PlaybackDone {
        /// The leg.
        leg: LegId,
        /// Stopped early by barge-in or `StopPlay`.
        interrupted: bool,
    },
    /// No RTP from the phone for a long time (a dead caller line): the call should end.
    RtpTimeout {
        /// The leg.
        leg: LegId,
    },
    /// A message recording (`StartMessage`) is complete.
    MessageRecorded {
        /// The leg.
        leg: LegId,
        /// The message, if anything was written.
        recording: Option<RecordingInfo>,
    },
    /// The leg is closed; its recording, if any, is complete.
    Closed {
        /// The leg.
        leg: LegId,
        /// The finished recording.
        recording: Option<RecordingInfo>,
    },
}

/// Handle to the media thread.
#[derive(Debug, Clone)]
pub struct MediaEngine {
    commands: std_mpsc::Sender<MediaCommand>,
}

impl MediaEngine {
    /// Starts the media thread; events go to `events`, figures to `stats`.
    pub fn start(
        events: mpsc::UnboundedSender<MediaEvent>,
        stats: Arc<MediaStats>,
    ) -> std::io::Result<MediaEngine> {
        let (commands, rx) = std_mpsc::channel();
        let (prepared, prepared_rx) = std_mpsc::channel();
        opener::spawn(rx, prepared)?;
        thread::Builder::new()
            .name("media".into())
            .spawn(move || Engine::new(prepared_rx, events, stats).run())?;
        Ok(MediaEngine { commands })
    }

    /// Queues a command; the media thread picks it up at the next tick.
    pub fn send(&self, cmd: MediaCommand) {
        if self.commands.send(cmd).is_err() {
            warn!("media thread has stopped");
        }
    }
}

struct LegIo {
    slot: usize,
    socket: UdpSocket,
    rtcp_socket: Option<UdpSocket>,
    leg: MediaLeg,
    peer: Option<LegId>,
}

struct Engine {
    /// Commands, with their files created by the opener thread.
    commands: std_mpsc::Receiver<Prepared>,
    events: mpsc::UnboundedSender<MediaEvent>,
    legs: HashMap<LegId, LegIo>,
    slots: Vec<Vec<LegId>>,
    buf: Vec<u8>,
    stats: Arc<MediaStats>,
    /// Closed legs go here: finishing a recording fsyncs, which must not stall the clock.
    finisher: std_mpsc::Sender<Finish>,
}

/// Work for the finisher thread.
enum Finish {
    Leg(LegId, Box<MediaLeg>),
    Message(LegId, Recorder),
}

impl Finish {
    fn run(self) -> MediaEvent {
        match self {
            Finish::Leg(leg, media) => MediaEvent::Closed {
                leg,
                recording: media.close(),
            },
            Finish::Message(leg, rec) => {
                let recording = rec
                    .finish()
                    .map_err(|e| warn!(error = %e, "message not finished"))
                    .ok();
                MediaEvent::MessageRecorded { leg, recording }
            }
        }
    }
}

impl Engine {
    fn new(
        commands: std_mpsc::Receiver<Prepared>,
        events: mpsc::UnboundedSender<MediaEvent>,
        stats: Arc<MediaStats>,
    ) -> Self {
        let (finisher, closed) = std_mpsc::channel::<Finish>();
        let done = events.clone();
        let spawned = thread::Builder::new()
            .name("media-finish".into())
            .spawn(move || {
                for work in closed {
                    let _ = done.send(work.run());
                }
            });
        if let Err(e) = spawned {
            warn!(error = %e, "no recording finisher thread; recordings finish on the media thread");
        }
        Engine {
            commands,
            events,
            legs: HashMap::new(),
            slots: vec![Vec::new(); SLOTS],
            buf: vec![0u8; 2048],
            stats,
            finisher,
        }
    }

    /// Wakes every millisecond and serves the legs of that slot: each leg keeps its own 20 ms
    /// grid, offset by its slot, so the work of a thousand calls is spread over the frame instead
    /// of piling up behind one deadline.
    fn run(mut self) {
        let mut start = Instant::now();
        let mut n: u64 = 0;
        loop {
            if self.legs.is_empty() {
                // Idle: sleep until there is work instead of waking every millisecond.
                match self.commands.recv() {
                    Ok(cmd) => self.command(cmd, Instant::now()),
                    Err(_) => return,
                }
                (start, n) = (Instant::now(), 0);
            }
            let due = start + SLOT * n as u32;
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            } else if now - due > FRAME {
                self.stats.overruns.fetch_add(1, Ordering::Relaxed);
                if now - due > FRAME * 5 {
                    let behind_ms = (now - due).as_millis() as u64;
                    self.stats.resyncs.fetch_add(1, Ordering::Relaxed);
                    self.stats
                        .skipped_ms
                        .fetch_add(behind_ms, Ordering::Relaxed);
                    debug!(behind_ms, "media clock resynchronised");
                    start = now;
                    n = 0;
                    continue;
                }
            }
            loop {
                match self.commands.try_recv() {
                    Ok(cmd) => self.command(cmd, due),
                    Err(std_mpsc::TryRecvError::Empty) => break,
                    Err(std_mpsc::TryRecvError::Disconnected) => return,
                }
            }
            let slot = (n % SLOTS as u64) as usize;
            self.tick(
                slot,
                due,
                n % (SLOTS as u64 * RTCP_POLL_FRAMES) < SLOTS as u64,
            );
            n += 1;
        }
    }

    /// Finishes a message recording off the clock, or reports at once that there is none.
    fn finish_message(&mut self, leg: LegId, rec: Option<Recorder>) {
        match rec {
            Some(rec) => self.finish(Finish::Message(leg, rec)),
            None => {
                let _ = self.events.send(MediaEvent::MessageRecorded {
                    leg,
                    recording: None,
                });
            }
        }
    }

    /// The slot with the fewest legs, for a new leg.
    fn quietest_slot(&self) -> usize {
        (0..SLOTS).min_by_key(|s| self.slots[*s].len()).unwrap_or(0)
    }

    fn command(&mut self, cmd: Prepared, now: Instant) {
        match cmd {
            Prepared::Open {
                leg,
                socket,
                rtcp_socket,
                params,
                recorder,
            } => self.open(leg, socket, rtcp_socket, params, recorder, now),
            Prepared::Message(leg, recorder) => match (self.legs.get_mut(&leg), recorder) {
                (Some(l), Some(rec)) => l.leg.start_message(rec),
                // The leg ended meanwhile: close the file properly.
                (None, Some(rec)) => self.finish(Finish::Message(leg, rec)),
                // No file (logged by the opener): `StopMessage` reports an empty message.
                (_, None) => {}
            },
            Prepared::Command(cmd) => self.control(cmd, now),
        }
    }

    fn open(
        &mut self,
        leg: LegId,
        socket: UdpSocket,
        rtcp_socket: Option<UdpSocket>,
        params: LegParams,
        recorder: Option<Recorder>,
        now: Instant,
    ) {
        if let Err(e) = socket.set_nonblocking(true) {
            warn!(error = %e, "RTP socket not usable");
            return;
        }
        let rtcp_socket = rtcp_socket.filter(|s| s.set_nonblocking(true).is_ok());
        let media = MediaLeg::new(params, recorder, now);
        let slot = self.quietest_slot();
        self.legs.insert(
            leg,
            LegIo {
                slot,
                socket,
                rtcp_socket,
                leg: media,
                peer: None,
            },
        );
        self.slots[slot].push(leg);
        self.stats.legs.store(self.legs.len(), Ordering::Relaxed);
    }

    /// Every command but the two the opener prepares.
    fn control(&mut self, cmd: MediaCommand, now: Instant) {
        match cmd {
            // Only reached if a command bypassed the opener: prepare it here.
            cmd @ (MediaCommand::Open { .. } | MediaCommand::StartMessage(..)) => {
                self.command(opener::prepare(cmd), now)
            }
            MediaCommand::Update(leg, params) => {
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.leg.update(params);
                }
            }
            MediaCommand::Play {
                leg,
                prompts,
                barge_in,
                looping,
            } => {
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.leg.play(prompts, barge_in, looping);
                }
            }
            MediaCommand::StopPlay(leg) => {
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.leg.stop_playback();
                }
            }
            MediaCommand::Bridge(a, b) => {
                if self.legs.contains_key(&a) && self.legs.contains_key(&b) {
                    self.unbridge(a);
                    self.unbridge(b);
                    self.legs.get_mut(&a).expect("checked").peer = Some(b);
                    self.legs.get_mut(&b).expect("checked").peer = Some(a);
                    // A bridged pair shares a slot: each tick, one leg's received frame is the
                    // other's outgoing one. (b's grid shifts once; its jitter buffer absorbs it.)
                    let (slot_a, slot_b) = (self.legs[&a].slot, self.legs[&b].slot);
                    if slot_a != slot_b {
                        self.slots[slot_b].retain(|l| *l != b);
                        self.slots[slot_a].push(b);
                        self.legs.get_mut(&b).expect("checked").slot = slot_a;
                    }
                }
            }
            MediaCommand::Unbridge(leg) => self.unbridge(leg),
            MediaCommand::InfoDigit(leg, digit) => {
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.leg.info_digit(digit, now);
                }
            }
            MediaCommand::StopMessage(leg) => {
                let rec = self.legs.get_mut(&leg).and_then(|l| l.leg.stop_message());
                self.finish_message(leg, rec);
            }
            MediaCommand::Close(leg) => {
                self.unbridge(leg);
                for slot in &mut self.slots {
                    slot.retain(|l| *l != leg);
                }
                if let Some(l) = self.legs.remove(&leg) {
                    self.legs.shrink_if_sparse();
                    self.stats.legs.store(self.legs.len(), Ordering::Relaxed);
                    self.finish(Finish::Leg(leg, Box::new(l.leg)));
                }
            }
        }
    }

    /// Hands finishing work to the finisher thread (or does it here if that thread is gone).
    fn finish(&self, work: Finish) {
        if let Err(std_mpsc::SendError(work)) = self.finisher.send(work) {
            let _ = self.events.send(work.run());
        }
    }

    fn unbridge(&mut self, leg: LegId) {
        let peer = self.legs.get_mut(&leg).and_then(|l| l.peer.take());
        if let Some(p) = peer
            && let Some(other) = self.legs.get_mut(&p)
        {
            other.peer = None;
        }
    }

    fn tick(&mut self, slot: usize, now: Instant, poll_rtcp: bool) {
        let ids = std::mem::take(&mut self.slots[slot]);
        // 1. Everything that arrived for this slot's legs since their last frame.
        for id in &ids {
            let Some(io) = self.legs.get_mut(id) else {
                continue;
            };
            loop {
                match io.socket.recv_from(&mut self.buf) {
                    Ok((n, src)) => io.leg.on_packet(&self.buf[..n], src, now),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => {
                        debug!(error = %e, "RTP receive error"); // ICMP unreachable from a dead peer
                        break;
                    }
                }
            }
            while poll_rtcp
                && let Some(Ok((n, src))) =
                    io.rtcp_socket.as_ref().map(|s| s.recv_from(&mut self.buf))
            {
                io.leg.on_rtcp(&self.buf[..n], src, now);
            }
        }
        // 2. One received frame per leg (jitter buffer, decoding, in-band DTMF).
        for id in &ids {
            if let Some(io) = self.legs.get_mut(id) {
                io.leg.pull_frame(now);
            }
        }
        // 3. What each leg hears, then send and record.
        for id in &ids {
            let heard = match self.legs[id].peer {
                Some(p) => self.legs.get(&p).map(|l| *l.leg.received()),
                None => None,
            };
            let forwarded: Vec<char> = match self.legs[id].peer {
                Some(p) => self
                    .legs
                    .get_mut(&p)
                    .map(|l| l.leg.take_forward_digits())
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            let io = self.legs.get_mut(id).expect("slots list live legs");
            for d in forwarded {
                io.leg.send_digit(d);
            }
            if let Some((bytes, dest)) = io.leg.produce(heard.as_ref(), now) {
                send(&io.socket, &bytes, dest);
                self.stats
                    .record_send(Instant::now().saturating_duration_since(now));
            }
            while let Some((bytes, dest)) = io.leg.poll_extra_packet() {
                send(&io.socket, &bytes, dest);
            }
            if let Some((bytes, dest)) = io.leg.take_rtcp() {
                send(io.rtcp_socket.as_ref().unwrap_or(&io.socket), &bytes, dest);
            }
        }
        for id in &ids {
            let Some(io) = self.legs.get_mut(id) else {
                continue;
            };
            for ev in io.leg.drain_events() {
                let leg = *id;
                let ev = match ev {
                    LegEvent::Digit(digit) => MediaEvent::Digit { leg, digit },
                    LegEvent::PlaybackDone { interrupted } => {
                        MediaEvent::PlaybackDone { leg, interrupted }
                    }
                    LegEvent::RtpTimeout => MediaEvent::RtpTimeout { leg },
                };
                let _ = self.events.send(ev);
            }
        }
        self.slots[slot] = ids;
    }
}

fn send(socket: &UdpSocket, bytes: &[u8], dest: SocketAddr) {
    if let Err(e) = socket.send_to(bytes, dest)
        && e.kind() != ErrorKind::WouldBlock
    {
        debug!(%dest, error = %e, "RTP send failed");
    }
}

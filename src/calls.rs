//! What the hotline does with calls until the IVR interpreter drives them ([ivr-routing]): a
//! call to the username of a registered phone is bridged to that phone (B2BUA, recorded), and
//! any other call is answered with the greeting while its key presses are logged. Every call
//! answered is recorded in stereo under `DATA_DIR/recordings`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_cases::{Store, StoredBinding};
use hotline_console::LiveStats;
use hotline_sip::auth::NonceKey;
use hotline_sip::driver::{Command, SipHandle};
use hotline_sip::endpoint::{CallHandle, EndReason, Event, OutgoingCall, Transport};
use hotline_sip::media::dtmf::parse_info;
use hotline_sip::media::g711::G711;
use hotline_sip::media::prompt::Prompt;
use hotline_sip::media::recorder::repair_dir;
use hotline_sip::media::{LegId, LegParams, MediaCommand, MediaEngine, MediaEvent};
use hotline_sip::message::{NameAddr, Params, Request, SipHeaders, Uri};
use hotline_sip::registrar::Registrar;
use hotline_sip::rtp_ports::RtpPortPool;
use hotline_sip::sdp::{self, Codec, LocalMedia, Negotiated, SessionDescription};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use crate::config::Config;
use crate::register::register;

enum Role {
    /// The person who rang the hotline; their leg is recorded.
    Caller,
    /// The lawyer's phone we called; `offer` is our SDP offer, for the answer.
    Lawyer { offer: SessionDescription },
}

/// One call's media resources.
struct Leg {
    role: Role,
    port: u16,
    sockets: Option<(UdpSocket, Option<UdpSocket>)>,
    session_id: u64,
    version: u64,
    call_id: String,
    peer: Option<CallHandle>,
    /// Our SDP answer and media parameters, until the call is answered.
    pending: Option<(Vec<u8>, LegParams)>,
    opened: bool,
}

/// Delayed work for the handler's own loop.
enum Later {
    Answer(CallHandle),
}

/// Owns ports, legs and the media engine; registrations run in their own tasks.
pub struct CallHandler {
    sip: SipHandle,
    store: Store,
    stats: Arc<LiveStats>,
    registrar: Arc<Mutex<Registrar>>,
    media: MediaEngine,
    media_events: mpsc::UnboundedReceiver<MediaEvent>,
    later_tx: mpsc::UnboundedSender<Later>,
    later: mpsc::UnboundedReceiver<Later>,
    ports: RtpPortPool,
    closing: HashMap<LegId, u16>,
    media_ip: IpAddr,
    sip_addr: SocketAddr,
    legs: HashMap<CallHandle, Leg>,
    answer_delay: Duration,
    recordings: PathBuf,
    greeting: Option<Prompt>,
}

impl CallHandler {
    pub fn new(
        config: &Config,
        sip_addr: SocketAddr,
        sip: SipHandle,
        store: Store,
        stats: Arc<LiveStats>,
    ) -> anyhow::Result<Self> {
        let ports = RtpPortPool::new(config.rtp_ports.0, config.rtp_ports.1);
        stats
            .free_rtp_ports
            .store(ports.available(), Ordering::Relaxed);
        let recordings = config.data_dir.join("recordings");
        std::fs::create_dir_all(&recordings)?;
        for (path, outcome) in repair_dir(&recordings) {
            warn!(path = %path.display(), ?outcome, "recording left by a crash repaired");
        }
        let greeting_path = config.dialplans.join("prompts/zh/welcome.wav");
        let greeting = match Prompt::load(&greeting_path) {
            Ok(p) => Some(p),
            Err(e) => {
                warn!(error = %e, "no greeting prompt; callers hear silence");
                None
            }
        };
        let (media_tx, media_events) = mpsc::unbounded_channel();
        let (later_tx, later) = mpsc::unbounded_channel();
        Ok(CallHandler {
            sip,
            store,
            stats,
            registrar: Arc::new(Mutex::new(Registrar::new(
                &config.sip_realm,
                NonceKey::random()?,
            ))),
            media: MediaEngine::start(media_tx)?,
            media_events,
            later_tx,
            later,
            ports,
            closing: HashMap::new(),
            media_ip: sip_addr.ip(),
            sip_addr,
            legs: HashMap::new(),
            answer_delay: Duration::from_millis(config.answer_delay_ms),
            recordings,
            greeting,
        })
    }

    pub async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(ev) => self.on_sip(ev).await,
                    None => break,
                },
                Some(ev) = self.media_events.recv() => self.on_media(ev),
                Some(Later::Answer(call)) = self.later.recv() => self.answer(call),
            }
        }
        for (call, _) in std::mem::take(&mut self.legs) {
            self.media.send(MediaCommand::Close(LegId(call.0)));
        }
    }

    fn sip(&self, cmd: Command) {
        if self.sip.send(cmd).is_err() {
            warn!("SIP task stopped");
        }
    }

    async fn on_sip(&mut self, event: Event) {
        match event {
            Event::IncomingCall { call, request, .. } => self.on_incoming(call, &request).await,
            Event::Reoffer { call, request } => self.on_reoffer(call, &request),
            Event::Answered { call, response } => self.on_answered(call, &response.body),
            Event::CallEnded { call, reason } => self.on_ended(call, reason),
            Event::CallConfirmed { .. } | Event::Progress { .. } => {}
            Event::Info { call, request } => {
                let ct = request.headers.get("Content-Type").unwrap_or_default();
                if let Some(d) = parse_info(ct, &request.body) {
                    self.media
                        .send(MediaCommand::InfoDigit(LegId(call.0), d.as_char()));
                }
            }
            Event::Register {
                handle,
                request,
                source,
                transport,
            } => {
                let ctx = (self.sip.clone(), self.store.clone(), self.registrar.clone());
                tokio::spawn(register(ctx, handle, request, source, transport));
            }
        }
    }

    fn on_media(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::Digit { leg, digit } => {
                let call_id = self
                    .legs
                    .get(&CallHandle(leg.0))
                    .map(|l| l.call_id.as_str())
                    .unwrap_or("");
                info!(call_id, %digit, "key pressed");
            }
            MediaEvent::PlaybackDone { .. } => {}
            MediaEvent::RtpTimeout { leg } => {
                warn!(
                    leg = leg.0,
                    "no RTP from the phone for a minute: hanging up"
                );
                self.sip(Command::Hangup(CallHandle(leg.0)));
            }
            MediaEvent::Closed { leg, recording } => {
                if let Some(port) = self.closing.remove(&leg) {
                    self.release(port);
                }
                if let Some(r) = recording {
                    info!(path = %r.path.display(), duration_ms = r.duration_ms, "recording complete");
                }
            }
        }
    }

    /// Takes a port pair and binds it; ports another program holds are skipped.
    fn bind_port(&mut self) -> Option<(u16, UdpSocket, Option<UdpSocket>)> {
        for _ in 0..16 {
            let port = self.ports.allocate()?;
            match UdpSocket::bind((self.media_ip, port)) {
                Ok(rtp) => {
                    let rtcp = UdpSocket::bind((self.media_ip, port + 1)).ok();
                    self.stats
                        .free_rtp_ports
                        .store(self.ports.available(), Ordering::Relaxed);
                    return Some((port, rtp, rtcp));
                }
                Err(e) => warn!(port, error = %e, "RTP port busy, skipped"),
            }
        }
        None
    }

    fn release(&mut self, port: u16) {
        self.ports.release(port);
        self.stats
            .free_rtp_ports
            .store(self.ports.available(), Ordering::Relaxed);
    }

    fn local_media(&self, port: u16, session_id: u64, version: u64) -> LocalMedia {
        LocalMedia {
            address: self.media_ip,
            rtp_port: port,
            codecs: vec![Codec::Pcma, Codec::Pcmu],
            session_id,
            session_version: version,
        }
    }

    async fn on_incoming(&mut self, call: CallHandle, invite: &Request) {
        let offer = match std::str::from_utf8(&invite.body)
            .ok()
            .map(SessionDescription::parse)
        {
            Some(Ok(o)) => o,
            _ => return self.sip(Command::Reject(call, 488)), // no usable offer
        };
        let Some((port, rtp, rtcp)) = self.bind_port() else {
            warn!("RTP ports exhausted");
            return self.sip(Command::Reject(call, 503));
        };
        let session_id = random_u64() >> 1;
        let Ok((answer, negotiated)) = sdp::answer(&offer, &self.local_media(port, session_id, 1))
        else {
            self.release(port);
            return self.sip(Command::Reject(call, 488));
        };
        self.legs.insert(
            call,
            Leg {
                role: Role::Caller,
                port,
                sockets: Some((rtp, rtcp)),
                session_id,
                version: 1,
                call_id: invite.call_id().unwrap_or_default().to_owned(),
                peer: None,
                pending: Some((answer.to_string().into_bytes(), leg_params(&negotiated))),
                opened: false,
            },
        );
        self.stats.active_calls.fetch_add(1, Ordering::Relaxed);
        let target = invite.uri.user().unwrap_or_default().to_owned();
        match self.registered_phone(&target).await {
            Some(binding) => self.dial_lawyer(call, invite, &target, binding).await,
            None if self.answer_delay.is_zero() => self.answer(call),
            None => {
                self.sip(Command::Ring(call, 180));
                let (later, delay) = (self.later_tx.clone(), self.answer_delay);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = later.send(Later::Answer(call));
                });
            }
        }
    }

    async fn registered_phone(&self, user: &str) -> Option<StoredBinding> {
        if user.is_empty() {
            return None;
        }
        match self.store.bindings(user).await {
            Ok(b) => b.into_iter().next(),
            Err(e) => {
                warn!(error = %e, "binding lookup failed");
                None
            }
        }
    }

    /// Answers the caller and opens its media leg (recorded); plays the greeting unless bridged.
    fn answer(&mut self, call: CallHandle) {
        let Some(leg) = self.legs.get_mut(&call) else {
            return;
        }; // cancelled meanwhile
        let Some((sdp, params)) = leg.pending.take() else {
            return;
        };
        self.sip(Command::Answer(call, sdp));
        self.open_leg(call, params, true);
        let bridged = self.legs.get(&call).and_then(|l| l.peer).is_some();
        if !bridged && let Some(g) = self.greeting.clone() {
            self.media.send(MediaCommand::Play {
                leg: LegId(call.0),
                prompts: vec![g],
                barge_in: true,
                looping: false,
            });
        }
    }

    fn open_leg(&mut self, call: CallHandle, params: LegParams, record: bool) {
        let Some(leg) = self.legs.get_mut(&call) else {
            return;
        };
        let Some((socket, rtcp_socket)) = leg.sockets.take() else {
            return;
        };
        leg.opened = true;
        let record = record.then(|| {
            let safe: String = leg
                .call_id
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .take(64)
                .collect();
            self.recordings
                .join(format!("{}-{safe}.wav", hotline_cases::unix_now()))
        });
        self.media.send(MediaCommand::Open {
            leg: LegId(call.0),
            socket,
            rtcp_socket,
            params,
            record,
        });
    }

    async fn dial_lawyer(
        &mut self,
        caller: CallHandle,
        invite: &Request,
        user: &str,
        binding: StoredBinding,
    ) {
        let (Ok(target), Ok(dest)) = (
            Uri::parse(&binding.contact),
            binding.source.parse::<SocketAddr>(),
        ) else {
            warn!("stored binding unusable");
            return self.answer(caller);
        };
        self.sip(Command::Ring(caller, 180));
        let Some((port, rtp, rtcp)) = self.bind_port() else {
            return self.sip(Command::Reject(caller, 503));
        };
        let session_id = random_u64() >> 1;
        let offer = sdp::offer(&self.local_media(port, session_id, 1));
        let caller_user = invite
            .header_from()
            .ok()
            .and_then(|f| f.uri.user().map(str::to_owned))
            .unwrap_or_else(|| "anonymous".into());
        let host = self.sip_addr;
        let name_addr = |u: &str| NameAddr {
            display: None,
            uri: Uri::parse(&format!("sip:{u}@{host}")).expect("valid URI"),
            params: Params::default(),
        };
        let outgoing = OutgoingCall {
            target,
            dest,
            transport: if binding.transport == "TCP" {
                Transport::Tcp
            } else {
                Transport::Udp
            },
            from: name_addr(&caller_user),
            to: name_addr(user),
            sdp: offer.to_string().into_bytes(),
        };
        let (tx, rx) = oneshot::channel();
        self.sip(Command::Invite(Box::new(outgoing), tx));
        let Ok(lawyer) = rx.await else { return };
        info!(lawyer = user, "ringing the lawyer's phone");
        self.legs.insert(
            lawyer,
            Leg {
                role: Role::Lawyer { offer },
                port,
                sockets: Some((rtp, rtcp)),
                session_id,
                version: 1,
                call_id: format!("lawyer-{}", lawyer.0),
                peer: Some(caller),
                pending: None,
                opened: false,
            },
        );
        if let Some(c) = self.legs.get_mut(&caller) {
            c.peer = Some(lawyer);
        }
    }

    fn on_answered(&mut self, lawyer: CallHandle, body: &[u8]) {
        let Some(leg) = self.legs.get(&lawyer) else {
            return;
        };
        let (Role::Lawyer { offer }, Some(caller)) = (&leg.role, leg.peer) else {
            return;
        };
        let negotiated = std::str::from_utf8(body)
            .ok()
            .and_then(|b| SessionDescription::parse(b).ok())
            .and_then(|answer| sdp::accept_answer(offer, &answer).ok());
        let Some(negotiated) = negotiated else {
            warn!("lawyer's phone answered with unusable SDP");
            self.sip(Command::Hangup(lawyer));
            return self.sip(Command::Reject(caller, 488));
        };
        self.open_leg(lawyer, leg_params(&negotiated), false);
        self.answer(caller);
        self.media
            .send(MediaCommand::Bridge(LegId(caller.0), LegId(lawyer.0)));
        info!("caller and lawyer connected");
    }

    fn on_reoffer(&mut self, call: CallHandle, reinvite: &Request) {
        let offer = std::str::from_utf8(&reinvite.body)
            .ok()
            .and_then(|b| SessionDescription::parse(b).ok());
        let Some(leg) = self.legs.get_mut(&call) else {
            return;
        };
        leg.version += 1;
        let local = LocalMedia {
            address: self.media_ip,
            rtp_port: leg.port,
            codecs: vec![Codec::Pcma, Codec::Pcmu],
            session_id: leg.session_id,
            session_version: leg.version,
        };
        match offer.and_then(|o| sdp::answer(&o, &local).ok()) {
            Some((answer, negotiated)) => {
                self.media
                    .send(MediaCommand::Update(LegId(call.0), leg_params(&negotiated)));
                self.sip(Command::Answer(call, answer.to_string().into_bytes()));
            }
            None => self.sip(Command::Reject(call, 488)),
        }
    }

    fn on_ended(&mut self, call: CallHandle, reason: EndReason) {
        let Some(leg) = self.legs.remove(&call) else {
            return;
        };
        if matches!(leg.role, Role::Caller) {
            self.stats.active_calls.fetch_sub(1, Ordering::Relaxed);
        }
        if leg.opened {
            self.closing.insert(LegId(call.0), leg.port);
            self.media.send(MediaCommand::Close(LegId(call.0)));
        } else {
            drop(leg.sockets);
            self.release(leg.port);
        }
        let Some(peer) = leg.peer else { return };
        let Some(other) = self.legs.get_mut(&peer) else {
            return;
        };
        other.peer = None;
        match (other.pending.is_some(), reason) {
            // The lawyer's phone refused or never answered: tell the caller.
            (true, EndReason::Failed(status)) if (400..700).contains(&status) => {
                self.sip(Command::Reject(peer, status))
            }
            (true, _) => self.sip(Command::Reject(peer, 480)),
            (false, _) => self.sip(Command::Hangup(peer)),
        }
    }
}

fn leg_params(n: &Negotiated) -> LegParams {
    LegParams {
        codec: match n.codec {
            Codec::Pcmu => G711::Ulaw,
            Codec::Pcma => G711::Alaw,
        },
        payload_type: n.codec_pt,
        telephone_event_pt: n.telephone_event_pt,
        remote: n.remote_rtp,
        send: n.local_direction.sends(),
    }
}

fn random_u64() -> u64 {
    u64::from_str_radix(&hotline_sip::endpoint::random_token(), 16).unwrap_or(1)
}

//! The router: owns RTP ports, media legs and the mapping from SIP calls to call tasks. SIP and
//! media events come in here and are forwarded to the task of the call they concern; call
//! tasks ask for what needs shared resources (answer, dial a phone, record a message).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use hotline_cases::{Store, StoredBinding};
use hotline_console::LiveStats;
use hotline_sip::auth::NonceKey;
use hotline_sip::driver::{Command, SipHandle};
use hotline_sip::endpoint::{CallHandle, EndReason, Event, OutgoingCall, Transport};
use hotline_sip::media::dtmf::parse_info;
use hotline_sip::media::g711::G711;
use hotline_sip::media::prompt::PromptCache;
use hotline_sip::media::recorder::repair_dir;
use hotline_sip::media::{LegId, LegParams, MediaCommand, MediaEngine, MediaEvent, MediaStats};
use hotline_sip::message::{NameAddr, Params, Request, SipHeaders, Uri};
use hotline_sip::registrar::Registrar;
use hotline_sip::rtp_ports::RtpPortPool;
use hotline_sip::sdp::{self, Codec, LocalMedia, Negotiated, SessionDescription};
use hotline_sip::shrink::ShrinkSparse;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use super::flows::{self, FlowContext};
use super::live::{CallEvent, LiveCall, RouterRequest};
use crate::config::Config;
use crate::register::register;

/// errno values (Linux) for "too many open files" in the process and in the system: binding
/// more ports cannot succeed until calls end, so the call gets 503 at once.
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

enum Role {
    /// The person who rang the hotline; their leg is recorded and has a call task.
    Caller,
    /// A lawyer's phone rung for `caller`; `offer` is our SDP offer.
    Lawyer {
        caller: CallHandle,
        offer: SessionDescription,
    },
}

/// One call leg's resources.
struct Leg {
    role: Role,
    port: u16,
    sockets: Option<(UdpSocket, Option<UdpSocket>)>,
    session_id: u64,
    version: u64,
    call_id: String,
    /// The caller's number (shown on the lawyer's phone).
    number: String,
    /// Our SDP answer and media parameters, until the caller is answered.
    pending: Option<(Vec<u8>, LegParams)>,
    opened: bool,
    /// The stereo recording of this leg, once opened with one.
    recording: Option<PathBuf>,
}

/// Owns ports, legs and the media engine; one task per call runs the call's flow.
pub struct CallHandler {
    sip: SipHandle,
    store: Store,
    stats: Arc<LiveStats>,
    registrar: Arc<Mutex<Registrar>>,
    media: MediaEngine,
    media_events: mpsc::UnboundedReceiver<MediaEvent>,
    requests_tx: mpsc::UnboundedSender<RouterRequest>,
    requests: mpsc::UnboundedReceiver<RouterRequest>,
    ports: RtpPortPool,
    closing: HashMap<LegId, u16>,
    media_ip: IpAddr,
    sip_addr: SocketAddr,
    legs: HashMap<CallHandle, Leg>,
    tasks: HashMap<CallHandle, mpsc::UnboundedSender<CallEvent>>,
    recordings: PathBuf,
    prompts: Arc<PromptCache>,
    flow: Arc<FlowContext>,
}

impl CallHandler {
    pub fn new(
        config: &Config,
        sip_addr: SocketAddr,
        sip: SipHandle,
        store: Store,
        stats: Arc<LiveStats>,
        media_stats: Arc<MediaStats>,
        live: tokio::sync::broadcast::Sender<hotline_console::LiveEvent>,
    ) -> anyhow::Result<Self> {
        let ports = RtpPortPool::new(config.rtp_ports.0, config.rtp_ports.1);
        stats
            .free_rtp_ports
            .store(ports.available(), Ordering::Relaxed);
        let recordings = config.data_dir.join("recordings");
        std::fs::create_dir_all(recordings.join("messages"))?;
        for (path, outcome) in repair_dir(&recordings) {
            warn!(path = %path.display(), ?outcome, "recording left by a crash repaired");
        }
        let (media_tx, media_events) = mpsc::unbounded_channel();
        let (requests_tx, requests) = mpsc::unbounded_channel();
        Ok(CallHandler {
            registrar: Arc::new(Mutex::new(Registrar::new(
                &config.sip_realm,
                NonceKey::random()?,
            ))),
            media: MediaEngine::start(media_tx, media_stats)?,
            flow: Arc::new(FlowContext::new(config, live)?),
            sip,
            store,
            stats,
            media_events,
            requests_tx,
            requests,
            ports,
            closing: HashMap::new(),
            media_ip: sip_addr.ip(),
            sip_addr,
            legs: HashMap::new(),
            tasks: HashMap::new(),
            recordings,
            prompts: Arc::new(PromptCache::new()),
        })
    }

    /// The dialplan and ACD board the calls share (for the console).
    pub fn flow(&self) -> Arc<FlowContext> {
        self.flow.clone()
    }

    pub async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        let (flow, store) = (self.flow.clone(), self.store.clone());
        let housekeeping = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                every.tick().await;
                flow.reload_if_changed();
                flow.sync_registrations(&store).await;
            }
        });
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(ev) => self.on_sip(ev).await,
                    None => break,
                },
                Some(ev) = self.media_events.recv() => self.on_media(ev),
                Some(req) = self.requests.recv() => self.on_request(req).await,
            }
        }
        housekeeping.abort();
        for (call, leg) in std::mem::take(&mut self.legs) {
            if leg.opened {
                self.media.send(MediaCommand::Close(LegId(call.0)));
            }
        }
    }

    fn sip(&self, cmd: Command) {
        if self.sip.send(cmd).is_err() {
            warn!("SIP task stopped");
        }
    }

    fn tell(&self, call: CallHandle, ev: CallEvent) {
        if let Some(task) = self.tasks.get(&call) {
            let _ = task.send(ev);
        }
    }

    async fn on_sip(&mut self, event: Event) {
        match event {
            Event::IncomingCall { call, request, .. } => self.on_incoming(call, &request),
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
                let call = CallHandle(leg.0);
                if let Some(l) = self
                    .legs
                    .get(&call)
                    .filter(|l| matches!(l.role, Role::Caller))
                {
                    info!(call_id = %l.call_id, %digit, "key pressed");
                    self.tell(call, CallEvent::Digit(digit));
                }
            }
            MediaEvent::PlaybackDone { leg, .. } => {
                self.tell(CallHandle(leg.0), CallEvent::PlaybackDone)
            }
            MediaEvent::RtpTimeout { leg } => {
                warn!(
                    leg = leg.0,
                    "no RTP from the phone for a minute: hanging up"
                );
                self.sip(Command::Hangup(CallHandle(leg.0)));
            }
            MediaEvent::MessageRecorded { leg, recording } => {
                self.tell(CallHandle(leg.0), CallEvent::Message(recording));
            }
            MediaEvent::Closed { leg, recording } => {
                if let Some(port) = self.closing.remove(&leg) {
                    self.closing.shrink_if_sparse();
                    self.release(port);
                }
                if let Some(r) = recording {
                    info!(path = %r.path.display(), duration_ms = r.duration_ms, "recording complete");
                }
            }
        }
    }

    async fn on_request(&mut self, req: RouterRequest) {
        match req {
            RouterRequest::Answer(call, reply) => {
                let _ = reply.send(self.answer(call));
            }
            RouterRequest::Dial(caller, user, reply) => {
                let _ = reply.send(self.dial(caller, &user).await);
            }
            RouterRequest::Message(call, start, reply) => {
                let leg = LegId(call.0);
                if start && self.legs.get(&call).is_some_and(|l| l.opened) {
                    let stamp = hotline_cases::unix_now();
                    let path = self
                        .recordings
                        .join("messages")
                        .join(format!("{stamp}-{}.wav", call.0));
                    self.media
                        .send(MediaCommand::StartMessage(leg, path.clone()));
                    let _ = reply.send(Some(path));
                } else if start {
                    let _ = reply.send(None);
                } else {
                    self.media.send(MediaCommand::StopMessage(leg));
                    let _ = reply.send(None);
                }
            }
        }
    }

    /// Takes a port pair and binds it; ports another program holds are skipped and go back to
    /// the pool, so a failed bind never loses a port.
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
                Err(e) => {
                    // Back into the pool (at its end): another program may free it later.
                    self.ports.release(port);
                    if e.raw_os_error() == Some(EMFILE) || e.raw_os_error() == Some(ENFILE) {
                        warn!(error = %e, "out of file descriptors: no RTP port for this call");
                        return None;
                    }
                    warn!(port, error = %e, "RTP port busy, skipped");
                }
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

    fn on_incoming(&mut self, call: CallHandle, invite: &Request) {
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
        let call_id = invite.call_id().unwrap_or_default().to_owned();
        let caller_number = invite
            .header_from()
            .ok()
            .and_then(|f| f.uri.user().map(str::to_owned))
            .unwrap_or_default();
        self.legs.insert(
            call,
            Leg {
                role: Role::Caller,
                port,
                sockets: Some((rtp, rtcp)),
                session_id,
                version: 1,
                call_id: call_id.clone(),
                number: caller_number.clone(),
                pending: Some((answer.to_string().into_bytes(), leg_params(&negotiated))),
                opened: false,
                recording: None,
            },
        );
        self.stats.active_calls.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        self.tasks.insert(call, tx);
        let dialled = invite.uri.user().unwrap_or_default().to_owned();
        let live = LiveCall::new(
            call,
            caller_number,
            self.sip.clone(),
            self.media.clone(),
            self.requests_tx.clone(),
            rx,
            self.prompts.clone(),
        );
        let flow = self.flow.clone();
        let store = self.store.clone();
        tokio::spawn(async move { flows::run(flow, store, live, call_id, dialled).await });
    }

    /// Answers the caller and opens its media leg, recorded. False when the call is gone.
    /// Answers the caller and opens its recorded leg; `None` when the call is gone, else the
    /// recording's path.
    fn answer(&mut self, call: CallHandle) -> Option<Option<PathBuf>> {
        let leg = self.legs.get_mut(&call)?;
        let Some((sdp, params)) = leg.pending.take() else {
            return leg.opened.then(|| leg.recording.clone());
        };
        self.sip(Command::Answer(call, sdp));
        self.open_leg(call, params, true);
        self.stats.answered_calls.fetch_add(1, Ordering::Relaxed);
        Some(self.legs.get(&call).and_then(|l| l.recording.clone()))
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
        leg.recording = record.clone();
        self.media.send(MediaCommand::Open {
            leg: LegId(call.0),
            socket,
            rtcp_socket,
            params,
            record,
        });
    }

    async fn registered_phone(&self, user: &str) -> Option<StoredBinding> {
        match self.store.bindings(user).await {
            Ok(b) => b.into_iter().next(),
            Err(e) => {
                warn!(error = %e, "binding lookup failed");
                None
            }
        }
    }

    /// Rings a registered phone for `caller` (B2BUA: our own INVITE with our own offer).
    async fn dial(&mut self, caller: CallHandle, user: &str) -> Option<CallHandle> {
        let binding = self.registered_phone(user).await?;
        let (Ok(target), Ok(dest)) = (
            Uri::parse(&binding.contact),
            binding.source.parse::<SocketAddr>(),
        ) else {
            warn!(user, "stored binding unusable");
            return None;
        };
        if !self.legs.contains_key(&caller) {
            return None;
        }
        if self.legs.get(&caller).is_some_and(|l| l.pending.is_some()) {
            self.sip(Command::Ring(caller, 180));
        }
        let (port, rtp, rtcp) = self.bind_port()?;
        let session_id = random_u64() >> 1;
        let offer = sdp::offer(&self.local_media(port, session_id, 1));
        let caller_number = self
            .legs
            .get(&caller)
            .map(|l| l.number.clone())
            .filter(|n| !n.is_empty())
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
            from: name_addr(&caller_number),
            to: name_addr(user),
            sdp: offer.to_string().into_bytes(),
        };
        let (tx, rx) = oneshot::channel();
        self.sip(Command::Invite(Box::new(outgoing), tx));
        let Ok(lawyer) = rx.await else {
            self.release(port);
            return None;
        };
        info!(lawyer = user, contact = %binding.contact, via = %binding.source, "ringing the lawyer's phone");
        self.legs.insert(
            lawyer,
            Leg {
                role: Role::Lawyer { caller, offer },
                port,
                sockets: Some((rtp, rtcp)),
                session_id,
                version: 1,
                call_id: format!("lawyer-{}", lawyer.0),
                number: user.to_owned(),
                pending: None,
                opened: false,
                recording: None,
            },
        );
        Some(lawyer)
    }

    fn on_answered(&mut self, lawyer: CallHandle, body: &[u8]) {
        let Some(leg) = self.legs.get(&lawyer) else {
            return;
        };
        let Role::Lawyer { caller, offer } = &leg.role else {
            return;
        };
        let caller = *caller;
        let negotiated = std::str::from_utf8(body)
            .ok()
            .and_then(|b| SessionDescription::parse(b).ok())
            .and_then(|answer| sdp::accept_answer(offer, &answer).ok());
        let Some(negotiated) = negotiated else {
            warn!("lawyer's phone answered with unusable SDP");
            return self.sip(Command::Hangup(lawyer));
        };
        self.open_leg(lawyer, leg_params(&negotiated), false);
        info!("lawyer answered");
        self.tell(caller, CallEvent::LawyerAnswered(lawyer));
    }

    fn on_reoffer(&mut self, call: CallHandle, reinvite: &Request) {
        let offer = std::str::from_utf8(&reinvite.body)
            .ok()
            .and_then(|b| SessionDescription::parse(b).ok());
        let Some(leg) = self.legs.get_mut(&call) else {
            return;
        };
        leg.version += 1;
        let (port, id, version) = (leg.port, leg.session_id, leg.version);
        match offer.and_then(|o| sdp::answer(&o, &self.local_media(port, id, version)).ok()) {
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
        self.legs.shrink_if_sparse();
        if leg.opened {
            self.closing.insert(LegId(call.0), leg.port);
            self.media.send(MediaCommand::Close(LegId(call.0)));
        } else {
            drop(leg.sockets);
            self.release(leg.port);
        }
        match leg.role {
            Role::Caller => {
                self.stats.active_calls.fetch_sub(1, Ordering::Relaxed);
                self.tell(call, CallEvent::CallerGone);
                self.tasks.remove(&call);
                self.tasks.shrink_if_sparse();
            }
            Role::Lawyer { caller, .. } => self.tell(caller, CallEvent::LawyerGone(call, reason)),
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

//! What the hotline does with SIP events until the IVR takes over ([ivr-routing]): answers
//! every call with negotiated G.711 SDP (after an optional ring), keeps it until either side
//! hangs up, and serves phone registrations against the store.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotline_cases::{BindingUpdate, Store};
use hotline_console::LiveStats;
use hotline_sip::auth::NonceKey;
use hotline_sip::driver::{Command, SipHandle};
use hotline_sip::endpoint::{CallHandle, Event, RequestHandle, Transport};
use hotline_sip::message::Request;
use hotline_sip::registrar::{Account, AuthOutcome, Binding, Registrar};
use hotline_sip::rtp_ports::RtpPortPool;
use hotline_sip::sdp::{self, Codec, LocalMedia, SessionDescription};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::config::Config;

struct CallMedia {
    port: u16,
    session_id: u64,
    version: u64,
}

/// Owns the RTP port pool and the per-call media state; registrations run in their own tasks.
pub struct CallHandler {
    sip: SipHandle,
    store: Store,
    stats: Arc<LiveStats>,
    registrar: Arc<Mutex<Registrar>>,
    ports: RtpPortPool,
    media_ip: IpAddr,
    calls: HashMap<CallHandle, CallMedia>,
    answer_delay: Duration,
}

impl CallHandler {
    pub fn new(
        config: &Config,
        media_ip: IpAddr,
        sip: SipHandle,
        store: Store,
        stats: Arc<LiveStats>,
    ) -> anyhow::Result<Self> {
        let ports = RtpPortPool::new(config.rtp_ports.0, config.rtp_ports.1);
        stats
            .free_rtp_ports
            .store(ports.available(), Ordering::Relaxed);
        Ok(CallHandler {
            sip,
            store,
            stats,
            registrar: Arc::new(Mutex::new(Registrar::new(
                &config.sip_realm,
                NonceKey::random()?,
            ))),
            ports,
            media_ip,
            calls: HashMap::new(),
            answer_delay: Duration::from_millis(config.answer_delay_ms),
        })
    }

    pub async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        while let Some(event) = events.recv().await {
            match event {
                Event::IncomingCall { call, request, .. } => self.on_incoming(call, &request),
                Event::Reoffer { call, request } => self.on_reoffer(call, &request),
                Event::CallConfirmed { .. } | Event::Progress { .. } | Event::Answered { .. } => {}
                Event::Info { request, .. } => {
                    info!(body = %String::from_utf8_lossy(&request.body).trim(), "SIP INFO received");
                }
                Event::CallEnded { call, .. } => {
                    if let Some(m) = self.calls.remove(&call) {
                        self.ports.release(m.port);
                        self.stats.active_calls.fetch_sub(1, Ordering::Relaxed);
                    }
                    self.stats
                        .free_rtp_ports
                        .store(self.ports.available(), Ordering::Relaxed);
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
    }

    fn send(&self, cmd: Command) {
        if self.sip.send(cmd).is_err() {
            warn!("SIP task stopped");
        }
    }

    fn on_incoming(&mut self, call: CallHandle, invite: &Request) {
        let offer = match std::str::from_utf8(&invite.body)
            .ok()
            .map(SessionDescription::parse)
        {
            Some(Ok(o)) => o,
            _ => return self.send(Command::Reject(call, 488)), // no (usable) offer
        };
        let Some(port) = self.ports.allocate() else {
            warn!("RTP port pool exhausted");
            return self.send(Command::Reject(call, 503));
        };
        let media = CallMedia {
            port,
            session_id: random_u64() >> 1,
            version: 1,
        };
        let Some(body) = self.answer_sdp(&offer, &media) else {
            self.ports.release(port);
            return self.send(Command::Reject(call, 488));
        };
        self.calls.insert(call, media);
        self.stats.active_calls.fetch_add(1, Ordering::Relaxed);
        self.stats.answered_calls.fetch_add(1, Ordering::Relaxed);
        self.stats
            .free_rtp_ports
            .store(self.ports.available(), Ordering::Relaxed);
        if self.answer_delay.is_zero() {
            self.send(Command::Answer(call, body));
        } else {
            self.send(Command::Ring(call, 180));
            let (sip, delay) = (self.sip.clone(), self.answer_delay);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = sip.send(Command::Answer(call, body));
            });
        }
    }

    fn on_reoffer(&mut self, call: CallHandle, reinvite: &Request) {
        let offer = std::str::from_utf8(&reinvite.body)
            .ok()
            .map(SessionDescription::parse);
        let Some(media) = self.calls.get_mut(&call) else {
            return;
        };
        media.version += 1;
        let body = match offer {
            Some(Ok(o)) => {
                let media = self.calls.get(&call).expect("present");
                self.answer_sdp(&o, media)
            }
            _ => None,
        };
        match body {
            Some(b) => self.send(Command::Answer(call, b)),
            None => self.send(Command::Reject(call, 488)),
        }
    }

    fn answer_sdp(&self, offer: &SessionDescription, media: &CallMedia) -> Option<Vec<u8>> {
        let local = LocalMedia {
            address: self.media_ip,
            rtp_port: media.port,
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            session_id: media.session_id,
            session_version: media.version,
        };
        let (answer, _negotiated) = sdp::answer(offer, &local).ok()?;
        Some(answer.to_string().into_bytes())
    }
}

type RegisterCtx = (SipHandle, Store, Arc<Mutex<Registrar>>);

/// One REGISTER: account lookup, digest check, binding update in the store, response.
async fn register(
    (sip, store, registrar): RegisterCtx,
    handle: RequestHandle,
    request: Box<Request>,
    source: std::net::SocketAddr,
    transport: Transport,
) {
    let account = match Registrar::username(&request) {
        Some(user) => match store.phone_account(&user).await {
            Ok(a) => a,
            Err(e) => {
                warn!(error = %e, "account lookup failed");
                let resp = request.response(500, Some(&hotline_sip::endpoint::random_token()));
                let _ = sip.send(Command::Respond(handle, Box::new(resp)));
                return;
            }
        },
        None => None,
    };
    let account = account.map(|a| Account {
        username: a.username,
        ha1_md5: a.ha1_md5,
        ha1_sha256: a.ha1_sha256,
    });
    let outcome = registrar.lock().expect("registrar lock").authenticate(
        &request,
        source.ip(),
        account.as_ref(),
        Instant::now(),
        hotline_cases::unix_now() as u64,
    );
    let response = match outcome {
        AuthOutcome::Refuse(resp) => {
            if resp.status == 403 {
                warn!(%source, "phone registration refused");
            }
            *resp
        }
        AuthOutcome::Authorized => {
            let change = registrar
                .lock()
                .expect("registrar lock")
                .binding_change(&request);
            match change {
                Err(resp) => *resp,
                Ok(ch) => {
                    let source = source.to_string();
                    let update = BindingUpdate {
                        aor: &ch.aor,
                        remove_all: ch.remove_all,
                        contacts: &ch.contacts,
                        call_id: &ch.call_id,
                        cseq: ch.cseq,
                        source: &source,
                        transport: transport.as_str(),
                    };
                    let applied = store.apply_bindings(&update).await;
                    match applied {
                        Ok(bindings) => {
                            info!(aor = %ch.aor, bindings = bindings.len(), "phone registered");
                            let now = hotline_cases::unix_now();
                            let current: Vec<Binding> = bindings
                                .into_iter()
                                .map(|b| Binding {
                                    contact: b.contact,
                                    expires_in: (b.expires_at - now).max(0) as u64,
                                })
                                .collect();
                            registrar
                                .lock()
                                .expect("registrar lock")
                                .ok_response(&request, &current)
                        }
                        Err(e) => {
                            warn!(error = %e, "storing bindings failed");
                            request.response(500, Some(&hotline_sip::endpoint::random_token()))
                        }
                    }
                }
            }
        }
    };
    let _ = sip.send(Command::Respond(handle, Box::new(response)));
}

fn random_u64() -> u64 {
    let token = hotline_sip::endpoint::random_token();
    u64::from_str_radix(&token, 16).unwrap_or(1)
}

//! Handling of incoming requests: transaction matching (§17.2.3), the UAS checks of §8.2 in
//! their order, and dispatch by method.

use std::net::SocketAddr;
use std::time::Instant;

use tracing::{debug, info, info_span};

use super::calls::{Call, CallState};
use super::{
    ALLOW, EndReason, Endpoint, Event, RequestHandle, ServerEntry, ServerTx, Transmit, Transport,
    random_token, response_dest, stamp_via,
};
use crate::dialog::DialogId;
use crate::message::{
    Malformed, Method, Request, Response, SipHeaders, Uri, Via, response_from_headers,
};
use crate::transaction::{ServerInvite, ServerKey, ServerNonInvite};

/// Option tags we implement; anything else in `Require` gets 420 (§8.2.2.3).
const SUPPORTED: &[&str] = &[];

impl Endpoint {
    /// §8.2 and §21.4.1: a request we cannot fully parse gets a stateless 400 when its headers
    /// say where to send it; otherwise it is dropped. Either way the server goes on serving.
    pub(super) fn on_malformed(&mut self, m: Malformed, transport: Transport, source: SocketAddr) {
        debug!(%source, error = %m.error, "malformed message");
        let Some(headers) = m.request_headers else {
            return;
        };
        let Some(via) = headers.get("Via").and_then(|v| Via::parse(v).ok()) else {
            return;
        };
        if headers
            .get("CSeq")
            .is_some_and(|c| c.trim_end().ends_with("ACK"))
        {
            return; // never answer an ACK (§17.2.3)
        }
        let mut resp = response_from_headers(&headers, 400, Some(&random_token()));
        resp.reason = format!("Bad Request ({})", m.error.reason());
        resp.headers.push("Server", self.config.user_agent.clone());
        self.transmits.push_back(Transmit {
            transport,
            dest: response_dest(&via, transport, source),
            bytes: resp.to_bytes(),
        });
    }

    pub(super) fn on_request(
        &mut self,
        mut req: Request,
        transport: Transport,
        source: SocketAddr,
        now: Instant,
    ) {
        let call_id = req.call_id().unwrap_or_default().to_owned();
        let _span = info_span!("sip", call_id = %call_id, method = %req.method).entered();
        stamp_via(&mut req, source);
        let (Some(key), Ok(via)) = (ServerKey::of(&req), req.top_via()) else {
            return;
        };
        let dest = response_dest(&via, transport, source);

        if req.method == Method::Ack {
            self.on_ack(&key, &req, now);
            return;
        }
        if let Some(entry) = self.server.get_mut(&key) {
            match &mut entry.tx {
                ServerTx::Invite(tx) => tx.on_retransmission(),
                ServerTx::NonInvite(tx) => tx.on_retransmission(),
            }
            self.drain_server(key, now);
            return;
        }
        if let Some(status) = self.precheck(&req) {
            let mut resp = self.simple_response(&req, status);
            match status {
                405 | 501 => resp.headers.push("Allow", ALLOW),
                420 => resp
                    .headers
                    .push("Unsupported", unsupported(&req).join(", ")),
                _ => {}
            }
            self.respond_statefully(key, &req, transport, dest, resp, now);
            return;
        }
        match req.method {
            Method::Invite => self.on_invite(key, req, transport, source, dest, now),
            Method::Cancel => self.on_cancel(key, &req, transport, dest, now),
            Method::Bye => self.on_bye(key, &req, transport, dest, now),
            Method::Info => self.on_info(key, req, transport, dest, now),
            Method::Options => {
                let mut resp = self.simple_response(&req, 200);
                resp.headers.push("Allow", ALLOW);
                resp.headers.push("Accept", "application/sdp");
                self.respond_statefully(key, &req, transport, dest, resp, now);
            }
            Method::Register => {
                self.insert_server(key.clone(), transport, dest, None, false);
                self.events.push_back(Event::Register {
                    handle: RequestHandle(key),
                    request: Box::new(req),
                    source,
                    transport,
                });
            }
            _ => unreachable!("precheck refuses the other methods"),
        }
    }

    /// The checks of §8.2.1-§8.2.3 that answer a request before its method is processed.
    fn precheck(&self, req: &Request) -> Option<u16> {
        match &req.method {
            Method::Other(_) => return Some(501),
            m if !ALLOW.split(", ").any(|a| a == m.as_str()) => return Some(405),
            _ => {}
        }
        if matches!(req.uri, Uri::Other(_)) {
            return Some(416);
        }
        if req.method != Method::Cancel && !unsupported(req).is_empty() {
            return Some(420);
        }
        if req.method == Method::Invite {
            let ct = req.headers.get("Content-Type").unwrap_or("application/sdp");
            let ok_type = ct
                .split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp"));
            let encoded = req
                .headers
                .get("Content-Encoding")
                .is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
            if (!req.body.is_empty() && !ok_type) || encoded {
                return Some(415);
            }
        }
        None
    }

    fn on_ack(&mut self, key: &ServerKey, req: &Request, now: Instant) {
        if let Some(entry) = self.server.get_mut(key)
            && let ServerTx::Invite(tx) = &mut entry.tx
        {
            tx.on_ack(now);
            self.drain_server(key.clone(), now);
            return;
        }
        if let Some(id) = DialogId::of_incoming(req)
            && let Some(call) = self.calls.find(&id.call_id, &id.local_tag)
        {
            self.on_dialog_ack(call, req);
        }
    }

    fn on_invite(
        &mut self,
        key: ServerKey,
        req: Request,
        transport: Transport,
        source: SocketAddr,
        dest: SocketAddr,
        now: Instant,
    ) {
        let to_tag = req
            .header_to()
            .ok()
            .and_then(|t| t.tag().map(str::to_owned));
        if let Some(tag) = to_tag {
            return self.on_reinvite(key, req, &tag, transport, dest, now);
        }
        let from_tag = req
            .header_from()
            .ok()
            .and_then(|f| f.tag().map(str::to_owned))
            .unwrap_or_default();
        let call_id = req.call_id().unwrap_or_default().to_owned();
        if self.calls.find_by_remote(&call_id, &from_tag).is_some() {
            // §8.2.2.2: the same request reached us twice by different paths.
            let resp = self.simple_response(&req, 482);
            return self.respond_statefully(key, &req, transport, dest, resp, now);
        }
        let local_tag = random_token();
        let call = self.calls.insert(Call {
            state: CallState::Offered,
            local_tag,
            call_id,
            transport,
            peer: dest,
            pending_invite: Some((key.clone(), Box::new(req.clone()))),
            dialog: None,
            ok_retransmit: None,
        });
        self.insert_server(key.clone(), transport, dest, Some(call), true);
        let trying = req.response(100, None);
        self.send_response(&key, &trying, now);
        info!(%source, "incoming call");
        self.events.push_back(Event::IncomingCall {
            call,
            request: Box::new(req),
            source,
        });
    }

    fn on_reinvite(
        &mut self,
        key: ServerKey,
        req: Request,
        tag: &str,
        transport: Transport,
        dest: SocketAddr,
        now: Instant,
    ) {
        let call_id = req.call_id().unwrap_or_default().to_owned();
        let Some(call) = self.calls.find(&call_id, tag) else {
            let resp = self.simple_response(&req, 481);
            return self.respond_statefully(key, &req, transport, dest, resp, now);
        };
        let seq = req.cseq().map(|c| c.seq).unwrap_or(0);
        let c = self.calls.get_mut(call).expect("found above");
        let busy = c.pending_invite.is_some() || c.ok_retransmit.is_some() || c.dialog.is_none();
        let in_order = c.dialog.as_mut().is_some_and(|d| d.accept_remote_cseq(seq));
        if busy || !in_order {
            // §14.2: an INVITE while another is unfinished gets 500 with Retry-After.
            let mut resp = self.simple_response(&req, 500);
            if busy {
                resp.headers.push("Retry-After", "2");
            }
            return self.respond_statefully(key, &req, transport, dest, resp, now);
        }
        c.pending_invite = Some((key.clone(), Box::new(req.clone())));
        self.insert_server(key.clone(), transport, dest, Some(call), true);
        let trying = req.response(100, None);
        self.send_response(&key, &trying, now);
        self.events.push_back(Event::Reoffer {
            call,
            request: Box::new(req),
        });
    }

    fn on_cancel(
        &mut self,
        key: ServerKey,
        req: &Request,
        transport: Transport,
        dest: SocketAddr,
        now: Instant,
    ) {
        let invite_key = ServerKey::invite_of_cancel(req);
        let found = invite_key
            .as_ref()
            .is_some_and(|k| self.server.contains_key(k));
        let status = if found { 200 } else { 481 };
        let resp = self.simple_response(req, status);
        self.respond_statefully(key, req, transport, dest, resp, now);
        if let Some(k) = invite_key.filter(|_| found) {
            self.cancel_invite(&k, now);
        }
    }

    fn on_bye(
        &mut self,
        key: ServerKey,
        req: &Request,
        transport: Transport,
        dest: SocketAddr,
        now: Instant,
    ) {
        let found =
            DialogId::of_incoming(req).and_then(|id| self.calls.find(&id.call_id, &id.local_tag));
        let Some(call) = found else {
            let resp = self.simple_response(req, 481);
            return self.respond_statefully(key, req, transport, dest, resp, now);
        };
        let seq = req.cseq().map(|c| c.seq).unwrap_or(0);
        let c = self.calls.get_mut(call).expect("found above");
        if c.dialog
            .as_mut()
            .is_some_and(|d| !d.accept_remote_cseq(seq))
        {
            let resp = self.simple_response(req, 500);
            return self.respond_statefully(key, req, transport, dest, resp, now);
        }
        // §15.1.2: a BYE for an unanswered (early) call also ends its INVITE with 487.
        if let Some((inv_key, invite)) = c.pending_invite.take() {
            let resp = invite.response(487, Some(&c.local_tag));
            self.send_response(&inv_key, &resp, now);
        }
        let resp = self.simple_response(req, 200);
        self.respond_statefully(key, req, transport, dest, resp, now);
        self.end_call(call, EndReason::RemoteHangup);
    }

    fn on_info(
        &mut self,
        key: ServerKey,
        req: Request,
        transport: Transport,
        dest: SocketAddr,
        now: Instant,
    ) {
        let found =
            DialogId::of_incoming(&req).and_then(|id| self.calls.find(&id.call_id, &id.local_tag));
        let status = if found.is_some() { 200 } else { 481 };
        let resp = self.simple_response(&req, status);
        self.respond_statefully(key, &req, transport, dest, resp, now);
        if let Some(call) = found {
            self.events.push_back(Event::Info {
                call,
                request: Box::new(req),
            });
        }
    }

    /// Creates a server transaction for `req` and sends `resp` through it, so that
    /// retransmissions of the request get the same answer.
    fn respond_statefully(
        &mut self,
        key: ServerKey,
        req: &Request,
        transport: Transport,
        dest: SocketAddr,
        resp: Response,
        now: Instant,
    ) {
        let invite = req.method == Method::Invite;
        self.insert_server(key.clone(), transport, dest, None, invite);
        self.send_response(&key, &resp, now);
    }

    fn insert_server(
        &mut self,
        key: ServerKey,
        transport: Transport,
        dest: SocketAddr,
        call: Option<super::CallHandle>,
        invite: bool,
    ) {
        let reliable = transport.reliable();
        let tx = if invite {
            ServerTx::Invite(ServerInvite::new(reliable, self.config.timers))
        } else {
            ServerTx::NonInvite(ServerNonInvite::new(reliable, self.config.timers))
        };
        self.server.insert(
            key,
            ServerEntry {
                tx,
                transport,
                dest,
                call,
            },
        );
    }
}

/// Option tags in `Require` that we do not support.
fn unsupported(req: &Request) -> Vec<String> {
    req.headers
        .get_all("Require")
        .map(str::trim)
        .filter(|t| !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t)))
        .map(str::to_owned)
        .collect()
}

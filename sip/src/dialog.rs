//! Dialog state (RFC 3261 §12): identifiers, CSeq spaces, route set and remote target, and the
//! construction of in-dialog requests (§12.2.1.1).

use crate::message::{Headers, Method, NameAddr, ParseError, Request, SipHeaders, Uri};

/// Identifies a dialog from our side: Call-ID, our tag, the peer's tag (§12).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// The tag we put in our To (as UAS) or From (as UAC).
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

impl DialogId {
    /// The dialog an incoming in-dialog request names: our tag is in its To, the peer's in From.
    pub fn of_incoming(req: &Request) -> Option<DialogId> {
        Some(DialogId {
            call_id: req.call_id().ok()?.to_owned(),
            local_tag: req.header_to().ok()?.tag()?.to_owned(),
            remote_tag: req.header_from().ok()?.tag().unwrap_or_default().to_owned(),
        })
    }
}

/// Everything needed to send requests within a dialog and to check the peer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// The dialog's identity.
    pub id: DialogId,
    /// Our URI (the To of the INVITE when we are UAS), tag included.
    pub local: NameAddr,
    /// The peer's URI, tag included.
    pub remote: NameAddr,
    /// Our next CSeq number for requests we send.
    pub local_seq: u32,
    /// Highest CSeq the peer used; `None` until it sends one.
    pub remote_seq: Option<u32>,
    /// Where in-dialog requests go (the peer's Contact), updated by target refreshes.
    pub remote_target: Uri,
    /// Route set, in the order our requests must traverse it.
    pub route_set: Vec<NameAddr>,
}

impl Dialog {
    /// Creates the UAS side of a dialog from the INVITE and our To tag (§12.1.1).
    pub fn as_uas(invite: &Request, local_tag: &str) -> Result<Dialog, ParseError> {
        let contact = invite
            .contact()
            .ok_or(ParseError::new("INVITE without Contact"))??;
        let mut local = invite.header_to()?;
        local.params.set("tag", Some(local_tag.to_owned()));
        let remote = invite.header_from()?;
        Ok(Dialog {
            id: DialogId {
                call_id: invite.call_id()?.to_owned(),
                local_tag: local_tag.to_owned(),
                remote_tag: remote.tag().unwrap_or_default().to_owned(),
            },
            local,
            remote,
            local_seq: initial_cseq(),
            remote_seq: Some(invite.cseq()?.seq),
            remote_target: contact.uri,
            route_set: invite.record_route()?, // §12.1.1: Record-Route in order
        })
    }

    /// Creates the UAC side of a dialog from our INVITE and the peer's 2xx (§12.1.2): the route
    /// set is the response's Record-Route reversed, the remote target its Contact.
    pub fn as_uac(
        invite: &Request,
        response: &crate::message::Response,
    ) -> Result<Dialog, ParseError> {
        let contact = response
            .contact()
            .ok_or(ParseError::new("2xx without Contact"))??;
        let local = invite.header_from()?;
        let remote = response.header_to()?;
        let mut route_set = response.record_route()?;
        route_set.reverse();
        Ok(Dialog {
            id: DialogId {
                call_id: invite.call_id()?.to_owned(),
                local_tag: local.tag().unwrap_or_default().to_owned(),
                remote_tag: remote.tag().unwrap_or_default().to_owned(),
            },
            local,
            remote,
            local_seq: invite.cseq()?.seq,
            remote_seq: None,
            remote_target: contact.uri,
            route_set,
        })
    }

    /// §12.2.2: a request with a lower CSeq than seen before is out of order (answer 500); a
    /// higher one is remembered.
    pub fn accept_remote_cseq(&mut self, seq: u32) -> bool {
        match self.remote_seq {
            Some(prev) if seq < prev => false,
            _ => {
                self.remote_seq = Some(seq);
                true
            }
        }
    }

    /// Applies a target refresh (re-INVITE or UPDATE with a Contact, §12.2.2).
    pub fn refresh_target(&mut self, req: &Request) {
        if let Some(Ok(contact)) = req.contact() {
            self.remote_target = contact.uri;
        }
    }

    /// Builds an in-dialog request (§12.2.1.1), taking the next local CSeq. `via` is the Via
    /// value with a fresh branch; for ACK of a 2xx pass `cseq_override` with the INVITE's number.
    pub fn request(&mut self, method: Method, via: String, cseq_override: Option<u32>) -> Request {
        let seq = match cseq_override {
            Some(s) => s,
            None => {
                self.local_seq += 1;
                self.local_seq
            }
        };
        let mut headers = Headers::default();
        headers.push("Via", via);
        headers.push("Max-Forwards", "70");
        headers.push("From", self.local.to_string());
        headers.push("To", self.remote.to_string());
        headers.push("Call-ID", self.id.call_id.clone());
        headers.push("CSeq", format!("{seq} {method}"));
        let uri = match self.route_set.first() {
            // Strict router (no `lr`): it goes in the Request-URI and the target last (§12.2.1.1).
            Some(first)
                if first
                    .uri
                    .as_sip()
                    .is_some_and(|u| u.params.get("lr").is_none()) =>
            {
                for r in &self.route_set[1..] {
                    headers.push("Route", r.to_string());
                }
                headers.push("Route", format!("<{}>", self.remote_target));
                first.uri.clone()
            }
            _ => {
                for r in &self.route_set {
                    headers.push("Route", r.to_string());
                }
                self.remote_target.clone()
            }
        };
        Request {
            method,
            uri,
            headers,
            body: Vec::new(),
        }
    }

    /// Where an in-dialog request is physically sent: the first route, or the remote target.
    pub fn next_hop(&self) -> &Uri {
        self.route_set
            .first()
            .map(|r| &r.uri)
            .unwrap_or(&self.remote_target)
    }
}

/// §8.1.1.5: the initial CSeq is below 2^31; starting low and random keeps it unpredictable.
fn initial_cseq() -> u32 {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).ok();
    u32::from(u16::from_le_bytes(b)) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Message, parse_message};

    fn invite(extra: &str) -> Request {
        let text = format!(
            "INVITE sip:12348@hotline SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-d\r\n\
{extra}\
From: \"Caller\" <sip:0797123@carrier>;tag=remote\r\n\
To: <sip:12348@hotline>\r\n\
Call-ID: dlg-1\r\n\
CSeq: 10 INVITE\r\n\
Contact: <sip:0797123@10.0.0.1:5060>\r\n\
Content-Length: 0\r\n\r\n"
        );
        match parse_message(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    #[test]
    fn uas_dialog_and_bye_with_loose_routes() {
        let inv = invite("Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\n");
        let mut d = Dialog::as_uas(&inv, "ours").unwrap();
        assert_eq!(d.id.remote_tag, "remote");
        let bye = d.request(Method::Bye, "SIP/2.0/UDP me;branch=z9hG4bKx".into(), None);
        assert_eq!(bye.uri.to_string(), "sip:0797123@10.0.0.1:5060");
        let routes: Vec<_> = bye.headers.get_all("Route").collect();
        assert_eq!(routes, vec!["<sip:p1;lr>", "<sip:p2;lr>"]);
        assert_eq!(bye.header_from().unwrap().tag(), Some("ours"));
        assert_eq!(bye.header_to().unwrap().tag(), Some("remote"));
        assert_eq!(d.next_hop().to_string(), "sip:p1;lr");
        let next = d.request(Method::Info, "v".into(), None);
        assert_eq!(next.cseq().unwrap().seq, bye.cseq().unwrap().seq + 1);
    }

    #[test]
    fn strict_router_goes_into_request_uri() {
        let inv = invite("Record-Route: <sip:strict>\r\n");
        let mut d = Dialog::as_uas(&inv, "ours").unwrap();
        let bye = d.request(Method::Bye, "v".into(), None);
        assert_eq!(bye.uri.to_string(), "sip:strict");
        assert_eq!(
            bye.headers.get("Route"),
            Some("<sip:0797123@10.0.0.1:5060>")
        );
    }

    #[test]
    fn cseq_order_and_target_refresh() {
        let inv = invite("");
        let mut d = Dialog::as_uas(&inv, "t").unwrap();
        assert!(!d.accept_remote_cseq(9));
        assert!(d.accept_remote_cseq(11));
        let mut reinvite = invite("");
        reinvite.headers.set("Contact", "<sip:moved@10.0.0.9>");
        d.refresh_target(&reinvite);
        assert_eq!(d.remote_target.to_string(), "sip:moved@10.0.0.9");
    }
}

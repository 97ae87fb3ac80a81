//! The registrar (RFC 3261 §10.3) for lawyers' phones, with digest authentication (§22,
//! RFC 7616/8760) and brute-force throttling. Sans-IO: the application looks the account up in
//! the store, calls in here, applies the binding change to the store (where every hotline node
//! sees it) and sends the response built here.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::auth::{Algorithm, FailureThrottle, NonceKey, Verdict, Verifier, parse_credentials};
use crate::message::{NameAddr, Request, Response, SipHeaders};

/// A phone account as the store keeps it: HA1 digests, never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The SIP username (also the address-of-record's user part).
    pub username: String,
    /// H(username:realm:password) with MD5.
    pub ha1_md5: String,
    /// H(username:realm:password) with SHA-256.
    pub ha1_sha256: String,
}

/// A current binding, as read back from the store for the 200 response (§10.3 step 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI.
    pub contact: String,
    /// Seconds left.
    pub expires_in: u64,
}

/// What one REGISTER asks to change (§10.3 steps 6-7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingChange {
    /// The account the bindings belong to.
    pub aor: String,
    /// `Contact: *` with `Expires: 0`: remove every binding.
    pub remove_all: bool,
    /// Contacts with their granted expiry in seconds (0 removes that binding).
    pub contacts: Vec<(String, u32)>,
    /// Call-ID and CSeq, so that an older REGISTER cannot overwrite a newer one.
    pub call_id: String,
    /// CSeq number.
    pub cseq: u32,
}

/// Registrar policy and authentication state.
#[derive(Debug)]
pub struct Registrar {
    verifier: Verifier,
    throttle: FailureThrottle,
    min_expires: u32,
    max_expires: u32,
    challenge_order: [Algorithm; 2],
}

/// The outcome of checking a REGISTER's credentials.
#[derive(Debug)]
pub enum AuthOutcome {
    /// The phone proved it knows the account's password.
    Authorized,
    /// Answer with this (401 challenge, 403 refusal).
    Refuse(Box<Response>),
}

impl Registrar {
    /// A registrar for `realm`. Nonces stay valid for five minutes; five failures within a
    /// minute block the source for five minutes.
    pub fn new(realm: &str, key: NonceKey) -> Self {
        Registrar {
            verifier: Verifier::new(key, realm, 300),
            throttle: FailureThrottle::new(5, Duration::from_secs(60), Duration::from_secs(300)),
            min_expires: 60,
            max_expires: 3600,
            // MD5 first: lawyers' older desk phones (and SIPp 3.6) answer only the first
            // challenge and know only MD5; phones with SHA-256 still find it second.
            challenge_order: [Algorithm::Md5, Algorithm::Sha256],
        }
    }

    /// Offers SHA-256 first (RFC 8760's preference) for deployments whose phones all handle it.
    pub fn prefer_sha256(mut self) -> Self {
        self.challenge_order = [Algorithm::Sha256, Algorithm::Md5];
        self
    }

    /// The username a REGISTER authenticates as, to look the account up before [`Self::authenticate`].
    pub fn username(req: &Request) -> Option<String> {
        let value = req.headers.get("Authorization")?;
        parse_credentials(value).ok().map(|c| c.username)
    }

    /// §22.4: challenges, verifies, throttles. `account` is `None` for unknown users, which are
    /// refused exactly like a wrong password so that accounts cannot be enumerated.
    pub fn authenticate(
        &mut self,
        req: &Request,
        source: IpAddr,
        account: Option<&Account>,
        now: Instant,
        unix_now: u64,
    ) -> AuthOutcome {
        if self.throttle.is_blocked(source, now) {
            return AuthOutcome::Refuse(Box::new(req.response(403, Some(&tag()))));
        }
        let Some(value) = req.headers.get("Authorization") else {
            return AuthOutcome::Refuse(Box::new(self.challenge(req, unix_now, false)));
        };
        let creds = match parse_credentials(value) {
            Ok(c) => c,
            Err(_) => return AuthOutcome::Refuse(Box::new(self.challenge(req, unix_now, false))),
        };
        let aor_user = req
            .header_to()
            .ok()
            .and_then(|t| t.uri.user().map(str::to_owned));
        let unknown_ha1 = "0".repeat(64);
        let ha1 = match (account, creds.algorithm) {
            (Some(a), Algorithm::Md5) => a.ha1_md5.as_str(),
            (Some(a), Algorithm::Sha256) => a.ha1_sha256.as_str(),
            (None, _) => unknown_ha1.as_str(),
        };
        let verdict = self
            .verifier
            .verify(&creds, req.method.as_str(), ha1, unix_now);
        match verdict {
            Verdict::Ok
                if account.is_some() && aor_user.as_deref() == Some(creds.username.as_str()) =>
            {
                self.throttle.record_success(source);
                AuthOutcome::Authorized
            }
            Verdict::Stale => AuthOutcome::Refuse(Box::new(self.challenge(req, unix_now, true))),
            Verdict::Malformed(_) => {
                AuthOutcome::Refuse(Box::new(self.challenge(req, unix_now, false)))
            }
            // Wrong password, unknown user, or a user registering someone else's AOR (§10.3 step 6).
            Verdict::Ok | Verdict::BadPassword => {
                self.throttle.record_failure(source, now);
                AuthOutcome::Refuse(Box::new(req.response(403, Some(&tag()))))
            }
        }
    }

    fn challenge(&self, req: &Request, unix_now: u64, stale: bool) -> Response {
        let mut resp = req.response(401, Some(&tag()));
        for c in self
            .verifier
            .challenges(unix_now, stale, self.challenge_order)
        {
            resp.headers.push("WWW-Authenticate", c);
        }
        resp
    }

    /// Reads the binding change of an authorised REGISTER (§10.3 steps 6-7), or the error
    /// response (400 for a bad Contact, 423 for a too-short expiry).
    pub fn binding_change(&self, req: &Request) -> Result<BindingChange, Box<Response>> {
        let bad = |status| Box::new(req.response(status, Some(&tag())));
        let aor = req
            .header_to()
            .ok()
            .and_then(|t| t.uri.user().map(str::to_owned))
            .ok_or_else(|| bad(400))?;
        let default_expires = req
            .headers
            .get("Expires")
            .and_then(|e| e.trim().parse::<u32>().ok())
            .unwrap_or(3600);
        let call_id = req.call_id().map_err(|_| bad(400))?.to_owned();
        let cseq = req.cseq().map_err(|_| bad(400))?.seq;
        let contacts: Vec<&str> = req.headers.get_all("Contact").collect();
        if contacts.iter().any(|c| c.trim() == "*") {
            if contacts.len() != 1 || default_expires != 0 {
                return Err(bad(400)); // §10.3 step 6: `*` only alone and with Expires: 0
            }
            return Ok(BindingChange {
                aor,
                remove_all: true,
                contacts: vec![],
                call_id,
                cseq,
            });
        }
        let mut out = Vec::new();
        for c in contacts {
            let na = NameAddr::parse(c).map_err(|_| bad(400))?;
            let asked = na
                .params
                .value("expires")
                .and_then(|e| e.parse::<u32>().ok())
                .unwrap_or(default_expires);
            if asked != 0 && asked < self.min_expires {
                let mut resp = req.response(423, Some(&tag()));
                resp.headers
                    .push("Min-Expires", self.min_expires.to_string());
                return Err(Box::new(resp));
            }
            out.push((na.uri.to_string(), asked.min(self.max_expires)));
        }
        Ok(BindingChange {
            aor,
            remove_all: false,
            contacts: out,
            call_id,
            cseq,
        })
    }

    /// The 200 OK listing every current binding with its remaining time (§10.3 step 8).
    pub fn ok_response(&self, req: &Request, bindings: &[Binding]) -> Response {
        let mut resp = req.response(200, Some(&tag()));
        for b in bindings {
            resp.headers.push(
                "Contact",
                format!("<{}>;expires={}", b.contact, b.expires_in),
            );
        }
        resp
    }
}

fn tag() -> String {
    crate::endpoint::random_token()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{answer_challenge, ha1};
    use crate::message::{Message, parse_message};

    const SRC: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn register(auth: Option<&str>, contact: &str) -> Request {
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let text = format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-reg\r\n\
From: <sip:lawyer1@127.0.0.1>;tag=r\r\n\
To: <sip:lawyer1@127.0.0.1>\r\n\
Call-ID: reg-1\r\n\
CSeq: 1 REGISTER\r\n\
Contact: {contact}\r\n\
{auth}Content-Length: 0\r\n\r\n"
        );
        let Ok(Message::Request(r)) = parse_message(text.as_bytes()) else {
            panic!()
        };
        r
    }

    fn account(password: &str) -> Account {
        Account {
            username: "lawyer1".into(),
            ha1_md5: ha1(Algorithm::Md5, "lawyer1", "hotline", password),
            ha1_sha256: ha1(Algorithm::Sha256, "lawyer1", "hotline", password),
        }
    }

    fn challenge_of(out: AuthOutcome) -> Response {
        match out {
            AuthOutcome::Refuse(r) if r.status == 401 => *r,
            other => panic!("expected 401, got {other:?}"),
        }
    }

    #[test]
    fn challenge_then_sha256_and_md5_answers_are_accepted() {
        let now = Instant::now();
        let mut reg = Registrar::new("hotline", NonceKey::random().unwrap());
        let acct = account("s3cret");
        let c = challenge_of(reg.authenticate(
            &register(None, "<sip:l@1.2.3.4>"),
            SRC,
            Some(&acct),
            now,
            1000,
        ));
        let chals: Vec<_> = c.headers.get_all("WWW-Authenticate").collect();
        assert!(
            chals[0].contains("MD5") && chals[1].contains("SHA-256"),
            "{chals:?}"
        );
        for chal in chals {
            let auth = answer_challenge(
                chal,
                "REGISTER",
                "sip:127.0.0.1",
                "lawyer1",
                "s3cret",
                "cn",
                1,
            )
            .unwrap();
            let out = reg.authenticate(
                &register(Some(&auth), "<sip:l@1.2.3.4>"),
                SRC,
                Some(&acct),
                now,
                1001,
            );
            assert!(matches!(out, AuthOutcome::Authorized), "{out:?}");
        }
    }

    #[test]
    fn wrong_password_is_forbidden_and_then_throttled() {
        let now = Instant::now();
        let mut reg = Registrar::new("hotline", NonceKey::random().unwrap());
        let acct = account("right");
        let c = challenge_of(reg.authenticate(
            &register(None, "<sip:l@h>"),
            SRC,
            Some(&acct),
            now,
            1000,
        ));
        let chal = c.headers.get("WWW-Authenticate").unwrap();
        let wrong = answer_challenge(
            chal,
            "REGISTER",
            "sip:127.0.0.1",
            "lawyer1",
            "wrong",
            "cn",
            1,
        )
        .unwrap();
        for _ in 0..5 {
            let out = reg.authenticate(
                &register(Some(&wrong), "<sip:l@h>"),
                SRC,
                Some(&acct),
                now,
                1000,
            );
            assert!(matches!(out, AuthOutcome::Refuse(r) if r.status == 403));
        }
        let right = answer_challenge(
            chal,
            "REGISTER",
            "sip:127.0.0.1",
            "lawyer1",
            "right",
            "cn",
            2,
        )
        .unwrap();
        let out = reg.authenticate(
            &register(Some(&right), "<sip:l@h>"),
            SRC,
            Some(&acct),
            now,
            1000,
        );
        assert!(
            matches!(out, AuthOutcome::Refuse(r) if r.status == 403),
            "blocked source"
        );
        let later = now + Duration::from_secs(301);
        let out = reg.authenticate(
            &register(Some(&right), "<sip:l@h>"),
            SRC,
            Some(&acct),
            later,
            1000,
        );
        assert!(matches!(out, AuthOutcome::Authorized));
    }

    #[test]
    fn old_nonce_is_stale_and_unknown_user_forbidden() {
        let now = Instant::now();
        let mut reg = Registrar::new("hotline", NonceKey::random().unwrap());
        let acct = account("pw");
        let c = challenge_of(reg.authenticate(
            &register(None, "<sip:l@h>"),
            SRC,
            Some(&acct),
            now,
            1000,
        ));
        let auth = answer_challenge(
            c.headers.get("WWW-Authenticate").unwrap(),
            "REGISTER",
            "sip:127.0.0.1",
            "lawyer1",
            "pw",
            "cn",
            1,
        )
        .unwrap();
        let stale = challenge_of(reg.authenticate(
            &register(Some(&auth), "<sip:l@h>"),
            SRC,
            Some(&acct),
            now,
            1000 + 301,
        ));
        assert!(
            stale
                .headers
                .get("WWW-Authenticate")
                .unwrap()
                .contains("stale=true")
        );
        let out = reg.authenticate(&register(Some(&auth), "<sip:l@h>"), SRC, None, now, 1001);
        assert!(matches!(out, AuthOutcome::Refuse(r) if r.status == 403));
    }

    #[test]
    fn binding_changes() {
        let reg = Registrar::new("hotline", NonceKey::random().unwrap());
        let ch = reg
            .binding_change(&register(
                None,
                "<sip:l@1.2.3.4:5062>;expires=120, <sip:l@5.6.7.8>",
            ))
            .unwrap();
        assert_eq!(
            ch.contacts,
            vec![
                ("sip:l@1.2.3.4:5062".into(), 120),
                ("sip:l@5.6.7.8".into(), 3600)
            ]
        );
        let err = reg
            .binding_change(&register(None, "<sip:l@h>;expires=10"))
            .unwrap_err();
        assert_eq!(err.status, 423);
        let mut star = register(None, "*");
        star.headers.push("Expires", "0");
        assert!(reg.binding_change(&star).unwrap().remove_all);
        assert_eq!(
            reg.binding_change(&register(None, "*")).unwrap_err().status,
            400
        );
    }
}

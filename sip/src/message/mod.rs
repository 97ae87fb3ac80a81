//! SIP messages (RFC 3261 §7): parsing, the typed views the stack uses, and serialisation.
//!
//! We parse messages ourselves instead of through rsip 0.4: measured against real traffic it
//! truncates comma-joined Via lists without an error, refuses compact header names, folded
//! lines, unknown methods, `tel:` URIs and IPv6 hosts (failing the whole message, so not even a
//! 400 can be sent), ignores Content-Length, and embeds the whole message (caller numbers) in
//! its errors. rsip stays as a dev-dependency: a differential test checks that, on the messages
//! rsip does understand, both parsers agree.

mod headers;
pub mod parse;
mod uri;

use std::fmt;

pub use headers::{CSeq, Headers, NameAddr, Via, canonical_name};
pub use parse::{MAX_MESSAGE_SIZE, Malformed, StreamFramer, parse_message};
pub use uri::{Host, Params, SipUri, Uri};

/// What went wrong while reading a message or a header; carries a fixed description only, never
/// message content (a caller's number must not end up in logs through an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(&'static str);

impl ParseError {
    /// Creates an error with a fixed description.
    pub const fn new(what: &'static str) -> Self {
        ParseError(what)
    }

    /// The description, used as the reason phrase of a 400 response.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

/// SIP request methods. Unknown methods are kept (`Other`) so the UAS can answer 501 (§8.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// Session setup (RFC 3261).
    Invite,
    /// Acknowledges a final INVITE response.
    Ack,
    /// Ends a dialog.
    Bye,
    /// Cancels a pending INVITE.
    Cancel,
    /// Capability query, used by proxies as keep-alive.
    Options,
    /// Binds an address-of-record to a contact.
    Register,
    /// Mid-dialog information, used for DTMF (RFC 6086).
    Info,
    /// Provisional response acknowledgement (RFC 3262).
    Prack,
    /// Session update without a new INVITE (RFC 3311).
    Update,
    /// Event subscription (RFC 6665).
    Subscribe,
    /// Event notification (RFC 6665).
    Notify,
    /// Call transfer (RFC 3515).
    Refer,
    /// Instant message (RFC 3428).
    Message,
    /// Event state publication (RFC 3903).
    Publish,
    /// Any other token.
    Other(String),
}

impl Method {
    /// Parses a method token (case-sensitive, §7.1).
    pub fn parse(s: &str) -> Result<Method, ParseError> {
        Ok(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "PRACK" => Method::Prack,
            "UPDATE" => Method::Update,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            other if is_token(other) => Method::Other(other.to_owned()),
            _ => return Err(ParseError::new("bad method")),
        })
    }

    /// The method token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Prack => "PRACK",
            Method::Update => "UPDATE",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other(s) => s,
        }
    }
}

/// RFC 3261 §25.1 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The Request-URI.
    pub uri: Uri,
    /// Headers in order.
    pub headers: Headers,
    /// The body (SDP, DTMF relay, ...).
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code 100-699.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Headers in order.
    pub headers: Headers,
    /// The body.
    pub body: Vec<u8>,
}

/// Either kind of message, as read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

/// Typed access to the headers every request and response carries (§8.1.1).
pub trait SipHeaders {
    /// The header section.
    fn headers(&self) -> &Headers;
    /// The header section, mutable.
    fn headers_mut(&mut self) -> &mut Headers;

    /// All Via values, top first.
    fn vias(&self) -> Result<Vec<Via>, ParseError> {
        self.headers().get_all("Via").map(Via::parse).collect()
    }
    /// The topmost Via: the transaction's branch and where responses go.
    fn top_via(&self) -> Result<Via, ParseError> {
        Via::parse(
            self.headers()
                .get("Via")
                .ok_or(ParseError::new("missing Via"))?,
        )
    }
    /// Call-ID.
    fn call_id(&self) -> Result<&str, ParseError> {
        self.headers()
            .get("Call-ID")
            .filter(|c| !c.is_empty())
            .ok_or(ParseError::new("missing Call-ID"))
    }
    /// CSeq.
    fn cseq(&self) -> Result<CSeq, ParseError> {
        CSeq::parse(
            self.headers()
                .get("CSeq")
                .ok_or(ParseError::new("missing CSeq"))?,
        )
    }
    /// From.
    fn header_from(&self) -> Result<NameAddr, ParseError> {
        NameAddr::parse(
            self.headers()
                .get("From")
                .ok_or(ParseError::new("missing From"))?,
        )
    }
    /// To.
    fn header_to(&self) -> Result<NameAddr, ParseError> {
        NameAddr::parse(
            self.headers()
                .get("To")
                .ok_or(ParseError::new("missing To"))?,
        )
    }
    /// The first Contact, when present and not `*`.
    fn contact(&self) -> Option<Result<NameAddr, ParseError>> {
        self.headers()
            .get("Contact")
            .filter(|c| c.trim() != "*")
            .map(NameAddr::parse)
    }
    /// Record-Route values in order, as URIs with their parameters.
    fn record_route(&self) -> Result<Vec<NameAddr>, ParseError> {
        self.headers()
            .get_all("Record-Route")
            .map(NameAddr::parse)
            .collect()
    }
}

impl SipHeaders for Request {
    fn headers(&self) -> &Headers {
        &self.headers
    }
    fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
}

impl SipHeaders for Response {
    fn headers(&self) -> &Headers {
        &self.headers
    }
    fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
}

/// Reason phrases for the codes this server sends.
pub fn default_reason(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        513 => "Message Too Large",
        603 => "Decline",
        _ => "Unknown",
    }
}

impl Request {
    /// A response to this request per RFC 3261 §8.2.6.2: Via, From, To, Call-ID and CSeq are
    /// copied, and the To tag is added when the request had none (except for 100 Trying).
    pub fn response(&self, status: u16, to_tag: Option<&str>) -> Response {
        response_from_headers(&self.headers, status, to_tag)
    }

    /// Serialises with a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("{} {} SIP/2.0\r\n", self.method, self.uri);
        write_message(start, &self.headers, &self.body)
    }
}

/// Builds a response from the headers of a request, even one whose Request-URI or method could
/// not be parsed (that is how a malformed request still gets its 400, §8.2.6.2).
pub fn response_from_headers(headers: &Headers, status: u16, to_tag: Option<&str>) -> Response {
    let mut out = Headers::default();
    for (name, value) in headers.iter() {
        if matches!(name, "Via" | "From" | "Call-ID" | "CSeq") {
            out.push(name, value);
        } else if name == "To" {
            let has_tag = NameAddr::parse(value)
                .map(|n| n.tag().is_some())
                .unwrap_or(true);
            match to_tag {
                Some(tag) if !has_tag && status != 100 => {
                    out.push("To", format!("{value};tag={tag}"))
                }
                _ => out.push("To", value),
            }
        } else if name == "Timestamp" && status == 100 {
            out.push(name, value); // §8.2.6.1
        }
    }
    Response {
        status,
        reason: default_reason(status).to_owned(),
        headers: out,
        body: Vec::new(),
    }
}

impl Response {
    /// Serialises with a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("SIP/2.0 {} {}\r\n", self.status, self.reason);
        write_message(start, &self.headers, &self.body)
    }

    /// Whether this ends a transaction (final response).
    pub fn is_final(&self) -> bool {
        self.status >= 200
    }

    /// Sets a body and its type.
    pub fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.headers.set("Content-Type", content_type);
        self.body = body;
        self
    }
}

impl Message {
    /// Serialises either kind.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

fn write_message(start: String, headers: &Headers, body: &[u8]) -> Vec<u8> {
    let mut out = start.into_bytes();
    for (name, value) in headers.iter() {
        if name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

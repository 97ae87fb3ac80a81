//! Reading messages off the wire: datagrams (RFC 3261 §18.3 for UDP) and stream framing by
//! Content-Length (§18.3 for TCP), tolerant of what real phones send (§7.3.1 folding, compact
//! names, whitespace before the colon, LF-only line ends) and strict where it matters.

use super::headers::Headers;
use super::uri::Uri;
use super::{Message, Method, ParseError, Request, Response, SipHeaders};

/// Largest message accepted (a hotline's INVITEs are a few kB; anything much larger is abuse).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// A message that could not be fully understood. For a request whose header section was
/// readable, `headers` lets the UAS still answer 400 (§8.2.6.2) instead of dropping it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("malformed SIP message: {error}")]
pub struct Malformed {
    /// What was wrong.
    pub error: ParseError,
    /// The headers of a request, if they were readable.
    pub request_headers: Option<Headers>,
}

impl Malformed {
    fn bare(error: ParseError) -> Self {
        Malformed {
            error,
            request_headers: None,
        }
    }
}

/// Parses one whole message (one UDP datagram, or one frame from [`StreamFramer`]).
pub fn parse_message(bytes: &[u8]) -> Result<Message, Malformed> {
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(Malformed::bare(ParseError::new("message too large")));
    }
    let (head_end, body_start) =
        find_head_end(bytes).ok_or(Malformed::bare(ParseError::new("no end of header section")))?;
    let head = std::str::from_utf8(&bytes[..head_end])
        .map_err(|_| Malformed::bare(ParseError::new("header section is not UTF-8")))?;
    let mut lines = head
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .skip_while(|l| l.is_empty());
    let start_line = lines
        .next()
        .ok_or(Malformed::bare(ParseError::new("empty message")))?;
    let headers = parse_header_lines(lines).map_err(Malformed::bare)?;
    let body = body_slice(&headers, &bytes[body_start..]);

    if let Some(rest) = start_line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status: u16 = code
            .parse()
            .ok()
            .filter(|s| (100..700).contains(s))
            .ok_or(Malformed::bare(ParseError::new("bad status code")))?;
        let response = Response {
            status,
            reason: reason.to_owned(),
            headers,
            body: body.map_err(Malformed::bare)?.to_vec(),
        };
        check_mandatory(&response).map_err(Malformed::bare)?;
        return Ok(Message::Response(response));
    }

    let with_headers = |error| Malformed {
        error,
        request_headers: Some(headers.clone()),
    };
    // Request-Line = Method SP Request-URI SP SIP-Version (§7.1); a URI with spaces in it is a
    // bad URI, not a bad version.
    let (method, rest) = start_line
        .split_once(' ')
        .ok_or(with_headers(ParseError::new("bad request line")))?;
    let (uri, version) = rest
        .rsplit_once(' ')
        .ok_or(with_headers(ParseError::new("bad request line")))?;
    let method = Method::parse(method).map_err(with_headers)?;
    if !version.starts_with("SIP/") {
        return Err(with_headers(ParseError::new("bad request line")));
    }
    if version != "SIP/2.0" {
        return Err(with_headers(ParseError::new("unsupported SIP version")));
    }
    let uri = Uri::parse(uri).map_err(with_headers)?;
    let body = body.map_err(with_headers)?.to_vec();
    let request = Request {
        method,
        uri,
        headers: headers.clone(),
        body,
    };
    check_mandatory(&request).map_err(with_headers)?;
    let cseq = request.cseq().map_err(with_headers)?;
    if cseq.method != request.method && request.method != Method::Ack {
        // §8.2.6: a mismatched CSeq method is malformed (ACK keeps the INVITE's number).
        return Err(with_headers(ParseError::new("CSeq method does not match")));
    }
    Ok(Message::Request(request))
}

/// The headers without which no transaction can be matched (§8.1.1).
fn check_mandatory(msg: &impl SipHeaders) -> Result<(), ParseError> {
    msg.top_via()?;
    msg.call_id()?;
    msg.cseq()?;
    msg.header_from()?;
    msg.header_to()?;
    Ok(())
}

/// Returns (end of head, start of body), accepting CRLFCRLF or LFLF.
fn find_head_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    // Leading CRLFs are keep-alives or noise before a message (§7.5).
    while i < bytes.len() && (bytes[i] == b'\r' || bytes[i] == b'\n') {
        i += 1;
    }
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            if bytes.get(i + 1) == Some(&b'\n') {
                return Some((i, i + 2));
            }
            if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') {
                return Some((i, i + 3));
            }
        }
        i += 1;
    }
    None
}

fn parse_header_lines<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Headers, ParseError> {
    let mut unfolded: Vec<String> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // §7.3.1: a line starting with whitespace continues the previous header.
            let last = unfolded
                .last_mut()
                .ok_or(ParseError::new("continuation line before any header"))?;
            last.push(' ');
            last.push_str(line.trim());
        } else if !line.is_empty() {
            unfolded.push(line.to_owned());
        }
    }
    let mut headers = Headers::default();
    for line in &unfolded {
        let (name, value) = line
            .split_once(':')
            .ok_or(ParseError::new("header line without colon"))?;
        let name = name.trim_end_matches([' ', '\t']);
        if !super::is_token(name) {
            return Err(ParseError::new("bad header name"));
        }
        headers.push_received(name, value);
    }
    Ok(headers)
}

/// §18.3: the body is Content-Length bytes; missing bytes make the message unusable, extra bytes
/// after it are discarded. Without Content-Length (UDP only) the body runs to the datagram's end.
fn body_slice<'a>(headers: &Headers, rest: &'a [u8]) -> Result<&'a [u8], ParseError> {
    match headers.get("Content-Length") {
        None => Ok(rest),
        Some(v) => {
            let len: usize = v
                .trim()
                .parse()
                .map_err(|_| ParseError::new("bad Content-Length"))?;
            rest.get(..len)
                .ok_or(ParseError::new("body shorter than Content-Length"))
        }
    }
}

/// Splits a TCP byte stream into messages by Content-Length (§18.3), and notices RFC 5626 §4.4.1
/// CRLF keep-alive pings between messages.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buf: Vec<u8>,
}

/// What the framer found next in the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// One complete message's bytes, ready for [`parse_message`].
    Message(Vec<u8>),
    /// A double-CRLF keep-alive: answer with a single CRLF (RFC 5626 §4.4.1).
    Ping,
}

impl StreamFramer {
    /// Adds bytes read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Returns the next complete frame, `Ok(None)` when more bytes are needed, or an error when
    /// the stream cannot be framed any more (the connection should be closed).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ParseError> {
        let lead = self
            .buf
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        if lead > 0 {
            let ping = self.buf[..lead].windows(4).any(|w| w == b"\r\n\r\n");
            self.buf.drain(..lead);
            if ping {
                return Ok(Some(Frame::Ping));
            }
        }
        let Some((head_end, body_start)) = find_head_end(&self.buf) else {
            if self.buf.len() > MAX_MESSAGE_SIZE {
                return Err(ParseError::new("header section too large"));
            }
            return Ok(None);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]);
        let mut len = 0usize;
        for line in head.split('\n').skip(1) {
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim();
                if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
                    len = value
                        .trim()
                        .parse()
                        .map_err(|_| ParseError::new("bad Content-Length"))?;
                }
            }
        }
        let total = body_start + len;
        if total > MAX_MESSAGE_SIZE {
            return Err(ParseError::new("message too large"));
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame: Vec<u8> = self.buf.drain(..total).collect();
        Ok(Some(Frame::Message(frame)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Host, SipHeaders};
    use super::*;

    const INVITE: &str = "INVITE sip:12348@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n\
From: <sip:07971234567@127.0.0.1>;tag=a\r\n\
To: <sip:12348@127.0.0.1>\r\n\
Call-ID: c1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Max-Forwards: 70\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\n";

    fn request(text: &str) -> Request {
        match parse_message(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("not a request"),
        }
    }

    #[test]
    fn plain_invite() {
        let r = request(INVITE);
        assert_eq!(r.method, Method::Invite);
        assert_eq!(r.body, b"v=0\n");
        assert_eq!(r.call_id().unwrap(), "c1@127.0.0.1");
        assert_eq!(r.header_from().unwrap().uri.user(), Some("07971234567"));
    }

    #[test]
    fn compact_folded_and_spaced_headers() {
        let text = "OPTIONS sip:12348@127.0.0.1 SIP/2.0\n\
v: SIP/2.0/UDP 127.0.0.1:5061\n ;branch=z9hG4bK-2\n\
f : <tel:+8679712345678>;tag=b\n\
t:\t<sip:12348@127.0.0.1>\n\
i: c2\n\
CSeq: 2 OPTIONS\n\
l: 0\n\n";
        let r = request(text);
        assert_eq!(r.top_via().unwrap().branch(), Some("z9hG4bK-2"));
        assert_eq!(r.header_from().unwrap().uri.user(), Some("+8679712345678"));
        assert_eq!(r.call_id().unwrap(), "c2");
    }

    #[test]
    fn ipv6_and_comma_joined_via() {
        let text = INVITE.replace(
            "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1",
            "Via: SIP/2.0/UDP [::1]:5061;branch=z9hG4bK-1 , SIP/2.0/TCP 10.0.0.2;branch=z9hG4bK-0",
        );
        let r = request(&text);
        let vias = r.vias().unwrap();
        assert_eq!(vias.len(), 2);
        assert_eq!(vias[0].host, Host::V6("::1".parse().unwrap()));
        let resp = r.response(200, Some("t"));
        assert_eq!(resp.vias().unwrap(), vias);
    }

    #[test]
    fn unknown_method_parses() {
        let text = INVITE
            .replace("INVITE sip", "FOOBAR sip")
            .replace("1 INVITE", "1 FOOBAR");
        assert_eq!(request(&text).method, Method::Other("FOOBAR".into()));
    }

    #[test]
    fn broken_request_uri_keeps_headers_for_400() {
        let text = INVITE.replace("sip:12348@127.0.0.1 SIP", "sip:@@bad@ SIP");
        let err = parse_message(text.as_bytes()).unwrap_err();
        let headers = err.request_headers.clone().expect("headers salvaged");
        let resp = super::super::response_from_headers(&headers, 400, Some("x"));
        assert_eq!(resp.call_id().unwrap(), "c1@127.0.0.1");
        assert!(
            !format!("{err}").contains("07971234567"),
            "no caller data in errors"
        );
    }

    #[test]
    fn spaces_in_the_request_uri_are_a_bad_uri() {
        let text = INVITE.replace("sip:12348@127.0.0.1 SIP", "not a uri SIP");
        let err = parse_message(text.as_bytes()).unwrap_err();
        assert_eq!(err.error.reason(), "malformed URI");
        let text = INVITE.replace("SIP/2.0\r\nVia", "SIP/3.0\r\nVia");
        let err = parse_message(text.as_bytes()).unwrap_err();
        assert_eq!(err.error.reason(), "unsupported SIP version");
    }

    #[test]
    fn content_length_governs_body() {
        let short = INVITE.replace("Content-Length: 4", "Content-Length: 40");
        assert_eq!(
            parse_message(short.as_bytes()).unwrap_err().error.reason(),
            "body shorter than Content-Length"
        );
        let extra = format!("{INVITE}garbage");
        assert_eq!(request(&extra).body, b"v=0\n");
    }

    #[test]
    fn missing_mandatory_headers() {
        let text = INVITE.replace("Call-ID: c1@127.0.0.1\r\n", "");
        assert_eq!(
            parse_message(text.as_bytes()).unwrap_err().error.reason(),
            "missing Call-ID"
        );
        let text = INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 BYE");
        assert!(parse_message(text.as_bytes()).is_err());
    }

    #[test]
    fn response_round_trip() {
        let r = request(INVITE);
        let resp = r.response(180, Some("srv"));
        let bytes = resp.to_bytes();
        match parse_message(&bytes).unwrap() {
            Message::Response(p) => {
                assert_eq!(p.status, 180);
                assert_eq!(p.header_to().unwrap().tag(), Some("srv"));
            }
            Message::Request(_) => panic!(),
        }
    }

    #[test]
    fn garbage_never_panics() {
        for junk in [
            &b""[..],
            b"\r\n\r\n",
            b"SIP/2.0 999 X\r\n\r\n",
            b"\xff\xfe\r\n\r\n",
            b"A B C\r\n\r\n",
        ] {
            assert!(parse_message(junk).is_err());
        }
    }

    #[test]
    fn stream_framing_splits_and_pings() {
        let mut f = StreamFramer::default();
        let two = format!("\r\n\r\n{INVITE}{INVITE}");
        let (a, b) = two.as_bytes().split_at(100);
        f.push(a);
        assert_eq!(f.next_frame().unwrap(), Some(Frame::Ping));
        assert_eq!(f.next_frame().unwrap(), None);
        f.push(b);
        for _ in 0..2 {
            match f.next_frame().unwrap() {
                Some(Frame::Message(m)) => assert_eq!(m, INVITE.as_bytes()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(f.next_frame().unwrap(), None);
    }

    #[test]
    fn agrees_with_rsip_where_rsip_works() {
        use rsip::prelude::*;
        let ours = request(INVITE);
        let theirs = rsip::Request::try_from(INVITE.as_bytes()).unwrap();
        assert_eq!(ours.method.as_str(), theirs.method().to_string());
        assert_eq!(
            ours.call_id().unwrap(),
            theirs.call_id_header().unwrap().value()
        );
        assert_eq!(
            ours.top_via().unwrap().branch(),
            Some(
                theirs
                    .via_header()
                    .unwrap()
                    .typed()
                    .unwrap()
                    .branch()
                    .unwrap()
                    .to_string()
                    .as_str()
            )
        );
        assert_eq!(
            ours.cseq().unwrap().seq,
            theirs.cseq_header().unwrap().typed().unwrap().seq
        );
        assert_eq!(ours.body, theirs.body().clone());
    }
}

//! Header storage and the typed headers the stack relies on (Via, From/To/Contact, CSeq).
//!
//! Headers are kept as an ordered list of (canonical name, value) pairs. List-valued headers
//! (RFC 3261 §7.3.1) are split into one entry per value on parse, so a comma-joined
//! `Via: a, b` is never silently truncated the way rsip 0.4 does it.

use std::fmt;

use super::uri::{Host, Params, Uri, split_host_port, split_outside_quotes};
use super::{Method, ParseError};

/// Compact forms (RFC 3261 §7.3.3 and the registries that extended it) and the full name each
/// stands for.
const COMPACT: &[(char, &str)] = &[
    ('a', "Accept-Contact"),
    ('b', "Referred-By"),
    ('c', "Content-Type"),
    ('d', "Request-Disposition"),
    ('e', "Content-Encoding"),
    ('f', "From"),
    ('i', "Call-ID"),
    ('j', "Reject-Contact"),
    ('k', "Supported"),
    ('l', "Content-Length"),
    ('m', "Contact"),
    ('o', "Event"),
    ('r', "Refer-To"),
    ('s', "Subject"),
    ('t', "To"),
    ('u', "Allow-Events"),
    ('v', "Via"),
    ('x', "Session-Expires"),
];

/// Headers whose canonical spelling we write back (anything else is kept as received).
const KNOWN: &[&str] = &[
    "Accept",
    "Allow",
    "Authorization",
    "Call-ID",
    "Contact",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Expires",
    "From",
    "Max-Forwards",
    "Min-Expires",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "Record-Route",
    "Require",
    "Route",
    "Server",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "WWW-Authenticate",
    "Retry-After",
];

/// Headers that are comma-separated lists and may be split into one entry per value.
const LIST_HEADERS: &[&str] = &[
    "Via",
    "Route",
    "Record-Route",
    "Contact",
    "Allow",
    "Supported",
    "Require",
    "Proxy-Require",
    "Unsupported",
    "Accept",
];

/// Maps a received header name to the spelling used inside the stack.
pub fn canonical_name(name: &str) -> String {
    if name.len() == 1 {
        let c = name.as_bytes()[0].to_ascii_lowercase() as char;
        if let Some((_, full)) = COMPACT.iter().find(|(k, _)| *k == c) {
            return (*full).to_owned();
        }
    }
    KNOWN
        .iter()
        .chain(COMPACT.iter().map(|(_, n)| n))
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(|k| (*k).to_owned())
        .unwrap_or_else(|| name.to_owned())
}

fn is_list_header(name: &str) -> bool {
    LIST_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The header section of a message, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// Adds a header as received: canonicalises the name and splits list values.
    pub fn push_received(&mut self, name: &str, value: &str) {
        let name = canonical_name(name);
        if is_list_header(&name) && !value.trim().eq("*") {
            for part in split_outside_quotes(value, ',') {
                let part = part.trim();
                if !part.is_empty() {
                    self.0.push((name.clone(), part.to_owned()));
                }
            }
        } else {
            self.0.push((name, value.trim().to_owned()));
        }
    }

    /// Appends a header the stack builds itself.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_owned(), value.into()));
    }

    /// First value of a header.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of a header, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Removes every value of a header.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    /// Replaces all values of a header with one.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .0
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                self.0[i].1 = value;
                let mut seen = 0;
                self.0.retain(|(k, _)| {
                    if k.eq_ignore_ascii_case(name) {
                        seen += 1;
                        seen == 1
                    } else {
                        true
                    }
                });
            }
            None => self.push(name, value),
        }
    }

    /// Replaces the first value of a header in place (how a Via gets its `received`).
    pub fn replace_first(&mut self, name: &str, value: impl Into<String>) {
        if let Some(slot) = self
            .0
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            slot.1 = value.into();
        }
    }

    /// Iterates (name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// One Via value (RFC 3261 §20.42): where a response to this request must go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, `TLS`, `WS`, ...
    pub transport: String,
    /// The `sent-by` host.
    pub host: Host,
    /// The `sent-by` port.
    pub port: Option<u16>,
    /// `branch`, `received`, `rport`, ...
    pub params: Params,
}

impl Via {
    /// Parses `SIP/2.0/UDP host:port;params`.
    pub fn parse(s: &str) -> Result<Via, ParseError> {
        let s = s.trim();
        let (proto, rest) = s
            .split_once(|c: char| c.is_ascii_whitespace())
            .ok_or(ParseError::new("Via without sent-by"))?;
        let mut proto_parts = proto.split('/').map(str::trim);
        let (name, version, transport) =
            (proto_parts.next(), proto_parts.next(), proto_parts.next());
        if !matches!(name, Some(n) if n.eq_ignore_ascii_case("SIP")) || version != Some("2.0") {
            return Err(ParseError::new("Via protocol is not SIP/2.0"));
        }
        let transport = transport
            .filter(|t| !t.is_empty())
            .ok_or(ParseError::new("Via without transport"))?
            .to_ascii_uppercase();
        let (sent_by, params) = match rest.split_once(';') {
            Some((h, p)) => (h, Params::parse(p)),
            None => (rest, Params::default()),
        };
        let (host, port) = split_host_port(sent_by)?;
        Ok(Via {
            transport,
            host,
            port,
            params,
        })
    }

    /// The transaction id, when it is an RFC 3261 one (magic cookie, §8.1.1.7).
    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

/// `"Display" <uri>;params` or a bare `uri;params` (RFC 3261 §20.10, §20.20, §20.39).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name without quotes.
    pub display: Option<String>,
    /// The address.
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `q`, ...), not URI parameters.
    pub params: Params,
}

impl NameAddr {
    /// Parses either form. In the bare form, `;` parameters belong to the header (§20.10).
    pub fn parse(s: &str) -> Result<NameAddr, ParseError> {
        let s = s.trim();
        if let Some(lt) = find_unquoted(s, '<') {
            let gt = s[lt..]
                .find('>')
                .map(|i| i + lt)
                .ok_or(ParseError::new("unterminated <URI>"))?;
            let display = s[..lt].trim().trim_matches('"').trim();
            let rest = s[gt + 1..].trim();
            let params = match rest.strip_prefix(';') {
                Some(p) => Params::parse(p),
                None if rest.is_empty() => Params::default(),
                None => return Err(ParseError::new("junk after <URI>")),
            };
            return Ok(NameAddr {
                display: (!display.is_empty()).then(|| display.to_owned()),
                uri: Uri::parse(&s[lt + 1..gt])?,
                params,
            });
        }
        let (uri, params) = match s.split_once(';') {
            Some((u, p)) => (u, Params::parse(p)),
            None => (s, Params::default()),
        };
        Ok(NameAddr {
            display: None,
            uri: Uri::parse(uri)?,
            params,
        })
    }

    /// The dialog tag (§19.3).
    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }
}

fn find_unquoted(s: &str, needle: char) -> Option<usize> {
    let mut in_quote = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && in_quote {
            escaped = true;
        } else if c == '"' {
            in_quote = !in_quote;
        } else if c == needle && !in_quote {
            return Some(i);
        }
    }
    None
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "\"{d}\" ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

/// `CSeq: 42 INVITE` (RFC 3261 §20.16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number (31 bits at most when we create it, §8.1.1.5).
    pub seq: u32,
    /// Method the sequence number belongs to.
    pub method: Method,
}

impl CSeq {
    /// Parses `number method`.
    pub fn parse(s: &str) -> Result<CSeq, ParseError> {
        let mut it = s.split_ascii_whitespace();
        let seq = it
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or(ParseError::new("bad CSeq number"))?;
        let method = it
            .next()
            .ok_or(ParseError::new("CSeq without method"))
            .and_then(Method::parse)?;
        if it.next().is_some() {
            return Err(ParseError::new("junk in CSeq"));
        }
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive_names() {
        assert_eq!(canonical_name("v"), "Via");
        assert_eq!(canonical_name("I"), "Call-ID");
        assert_eq!(canonical_name("call-id"), "Call-ID");
        assert_eq!(canonical_name("cseq"), "CSeq");
        assert_eq!(canonical_name("X-Custom"), "X-Custom");
    }

    #[test]
    fn comma_joined_via_is_split() {
        let mut h = Headers::default();
        h.push_received(
            "v",
            "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b:5070;branch=z9hG4bK2",
        );
        let vias: Vec<_> = h.get_all("Via").map(|v| Via::parse(v).unwrap()).collect();
        assert_eq!(vias.len(), 2);
        assert_eq!(vias[1].port, Some(5070));
        assert_eq!(vias[1].branch(), Some("z9hG4bK2"));
    }

    #[test]
    fn contact_display_with_comma_is_one_value() {
        let mut h = Headers::default();
        h.push_received(
            "Contact",
            r#""Li, Wei" <sip:li@host>;expires=60, <sip:li@other>"#,
        );
        assert_eq!(h.get_all("Contact").count(), 2);
        let c = NameAddr::parse(h.get("Contact").unwrap()).unwrap();
        assert_eq!(c.display.as_deref(), Some("Li, Wei"));
        assert_eq!(c.params.value("expires"), Some("60"));
    }

    #[test]
    fn ipv6_via() {
        let v = Via::parse("SIP/2.0/UDP [::1]:5070;branch=z9hG4bKx;rport").unwrap();
        assert_eq!(v.host, Host::V6("::1".parse().unwrap()));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP [::1]:5070;branch=z9hG4bKx;rport"
        );
    }

    #[test]
    fn bare_addr_params_belong_to_header() {
        let n = NameAddr::parse("sip:a@b;tag=abc").unwrap();
        assert_eq!(n.tag(), Some("abc"));
        let n = NameAddr::parse("tel:+8679788;tag=x").unwrap();
        assert_eq!(n.uri.user(), Some("+8679788"));
    }

    #[test]
    fn cseq_parsing() {
        let c = CSeq::parse("  17   INVITE ").unwrap();
        assert_eq!((c.seq, c.method), (17, Method::Invite));
        assert!(CSeq::parse("x INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
    }
}

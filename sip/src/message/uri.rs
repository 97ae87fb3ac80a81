//! SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966).
//!
//! rsip 0.4 fails the whole message on a `tel:` URI or an IPv6 literal host; callers reaching a
//! public hotline through carrier gateways send both, so URIs are parsed here.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::ParseError;

/// The host part of a SIP URI or Via `sent-by`; kept typed so that IPv6 literals are written back
/// with their brackets (RFC 3261 §25.1 `IPv6reference`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A DNS name, kept as written (compared case-insensitively by callers).
    Domain(String),
    /// An IPv4 literal.
    V4(Ipv4Addr),
    /// An IPv6 literal, written `[..]` in URIs and Via.
    V6(Ipv6Addr),
}

impl Host {
    /// Parses `example.com`, `10.0.0.1` or `[::1]`.
    pub fn parse(s: &str) -> Result<Host, ParseError> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or(ParseError::new("unterminated IPv6 reference"))?;
            return inner
                .parse()
                .map(Host::V6)
                .map_err(|_| ParseError::new("bad IPv6 address"));
        }
        if let Ok(v4) = s.parse::<Ipv4Addr>() {
            return Ok(Host::V4(v4));
        }
        let valid = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
        if valid {
            Ok(Host::Domain(s.to_owned()))
        } else {
            Err(ParseError::new("bad host"))
        }
    }

    /// The address, when the host is a literal (what latching and response routing need).
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::V4(a) => Some(IpAddr::V4(*a)),
            Host::V6(a) => Some(IpAddr::V6(*a)),
            Host::Domain(_) => None,
        }
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Host::V4(a),
            IpAddr::V6(a) => Host::V6(a),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// `;name=value` parameters in the order received (order matters when a message is echoed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, Option<String>)>);

impl Params {
    /// Parses the text after the first `;` (without it). Values may be quoted strings.
    pub fn parse(s: &str) -> Params {
        let mut out = Vec::new();
        for part in split_outside_quotes(s, ';') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            match part.split_once('=') {
                Some((k, v)) => out.push((k.trim().to_owned(), Some(v.trim().to_owned()))),
                None => out.push((part.to_owned(), None)),
            }
        }
        Params(out)
    }

    /// Looks a parameter up case-insensitively; `Some(None)` for a flag like `;lr` or `;rport`.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// Value of a parameter that has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    /// Sets or replaces a parameter, keeping its position if it existed.
    pub fn set(&mut self, name: &str, value: Option<String>) {
        match self
            .0
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.0 {
            match v {
                Some(v) => write!(f, ";{k}={v}")?,
                None => write!(f, ";{k}")?,
            }
        }
        Ok(())
    }
}

/// Splits on `sep` except inside double quotes or `<...>`, honouring backslash escapes in quotes.
pub(crate) fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quote, mut escaped, mut angle, mut start) = (false, false, 0u32, 0);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quote => escaped = true,
            '"' => in_quote = !in_quote,
            '<' if !in_quote => angle += 1,
            '>' if !in_quote => angle = angle.saturating_sub(1),
            c if c == sep && !in_quote && angle == 0 => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A `sip:`/`sips:` URI (RFC 3261 §19.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `sips:` rather than `sip:`.
    pub secure: bool,
    /// The user part (a phone number or account name), without the password.
    pub user: Option<String>,
    /// Host name or literal.
    pub host: Host,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// URI parameters such as `transport=tcp` and `lr`.
    pub params: Params,
    /// The `?h=v&...` header part, kept verbatim.
    pub headers: Option<String>,
}

/// Any URI found in a Request-URI or name-addr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    /// `sip:` / `sips:`.
    Sip(SipUri),
    /// `tel:+86...` (RFC 3966): the number and its parameters.
    Tel {
        /// The telephone-subscriber part, e.g. `+8679712345678`.
        number: String,
        /// Parameters such as `phone-context`.
        params: Params,
    },
    /// Another absolute URI (RFC 3261 §19.1.1 allows any); kept verbatim.
    Other(String),
}

impl Uri {
    /// Parses a URI as found in a Request-URI or inside `<>`.
    pub fn parse(s: &str) -> Result<Uri, ParseError> {
        let s = s.trim();
        if s.contains(char::is_whitespace) {
            return Err(ParseError::new("malformed URI"));
        }
        let (scheme, rest) = s
            .split_once(':')
            .ok_or(ParseError::new("URI has no scheme"))?;
        let valid_scheme = !scheme.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !valid_scheme || rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(ParseError::new("malformed URI"));
        }
        if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
            return parse_sip(scheme.eq_ignore_ascii_case("sips"), rest).map(Uri::Sip);
        }
        if scheme.eq_ignore_ascii_case("tel") {
            let (number, params) = match rest.split_once(';') {
                Some((n, p)) => (n, Params::parse(p)),
                None => (rest, Params::default()),
            };
            let ok = !number.is_empty()
                && number
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || "+-.()*#pw".contains(c));
            if !ok {
                return Err(ParseError::new("malformed tel URI"));
            }
            return Ok(Uri::Tel {
                number: number.to_owned(),
                params,
            });
        }
        Ok(Uri::Other(s.to_owned()))
    }

    /// The SIP URI, when this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The user or telephone number the URI names: what caller-region lookup starts from.
    pub fn user(&self) -> Option<&str> {
        match self {
            Uri::Sip(u) => u.user.as_deref(),
            Uri::Tel { number, .. } => Some(number),
            Uri::Other(_) => None,
        }
    }
}

fn parse_sip(secure: bool, rest: &str) -> Result<SipUri, ParseError> {
    let (rest, headers) = match rest.split_once('?') {
        Some((r, h)) => (r, Some(h.to_owned())),
        None => (rest, None),
    };
    let (userinfo, hostpart) = match rest.rfind('@') {
        Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
        None => (None, rest),
    };
    let user = match userinfo {
        Some(u) => {
            let user = u.split(':').next().unwrap_or_default();
            if user.is_empty() || user.contains('@') {
                return Err(ParseError::new("malformed user part in URI"));
            }
            Some(user.to_owned())
        }
        None => None,
    };
    let (hostport, params) = match hostpart.split_once(';') {
        Some((h, p)) => (h, Params::parse(p)),
        None => (hostpart, Params::default()),
    };
    let (host, port) = split_host_port(hostport)?;
    Ok(SipUri {
        secure,
        user,
        host,
        port,
        params,
        headers,
    })
}

/// Splits `host[:port]`, where host may be `[v6]`.
pub(crate) fn split_host_port(s: &str) -> Result<(Host, Option<u16>), ParseError> {
    let s = s.trim();
    let (host, port) = if s.starts_with('[') {
        let end = s
            .find(']')
            .ok_or(ParseError::new("unterminated IPv6 reference"))?;
        let after = &s[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(ParseError::new("junk after IPv6 reference")),
        };
        (&s[..=end], port)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse().map_err(|_| ParseError::new("bad port"))?),
        None => None,
    };
    Ok((Host::parse(host)?, port))
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)?;
        if let Some(h) = &self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => write!(f, "{u}"),
            Uri::Tel { number, params } => write!(f, "tel:{number}{params}"),
            Uri::Other(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_with_everything() {
        let u = Uri::parse("sips:lawyer:pw@[2001:db8::1]:5061;transport=tcp;lr?subject=x").unwrap();
        let s = u.as_sip().unwrap();
        assert!(s.secure);
        assert_eq!(s.user.as_deref(), Some("lawyer"));
        assert_eq!(s.host, Host::V6("2001:db8::1".parse().unwrap()));
        assert_eq!(s.port, Some(5061));
        assert_eq!(s.params.value("transport"), Some("tcp"));
        assert_eq!(s.params.get("lr"), Some(None));
        assert_eq!(s.headers.as_deref(), Some("subject=x"));
        assert_eq!(
            u.to_string(),
            "sips:lawyer@[2001:db8::1]:5061;transport=tcp;lr?subject=x"
        );
    }

    #[test]
    fn tel_uri() {
        let u = Uri::parse("tel:+86-797-1234567;phone-context=+86").unwrap();
        assert_eq!(u.user(), Some("+86-797-1234567"));
        assert_eq!(u.to_string(), "tel:+86-797-1234567;phone-context=+86");
    }

    #[test]
    fn broken_uris_are_refused() {
        for bad in [
            "sip:@@bad@",
            "sip:",
            "nouri",
            "sip:host:notaport",
            "sip:[::1",
            "tel:abc xyz",
            "sip:a b@c",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn other_schemes_are_kept() {
        assert_eq!(
            Uri::parse("urn:service:sos").unwrap(),
            Uri::Other("urn:service:sos".into())
        );
    }

    #[test]
    fn split_respects_quotes_and_angles() {
        let parts = split_outside_quotes(r#""a, \"b" <sip:x;y,z>, c"#, ',');
        assert_eq!(parts.len(), 2);
    }
}

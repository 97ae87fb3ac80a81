//! Reading an SDP body (RFC 8866 §5, §9): line by line, lenient where phones are sloppy and
//! strict where the body would be useless.

use std::net::IpAddr;

use super::{
    Direction, MediaDescription, Origin, RtpMap, SdpError, SessionDescription, payload_type,
};

impl MediaDescription {
    /// Stores one `a=` line; values that miss a known attribute's grammar are
    /// kept verbatim as generic attributes rather than failing the call.
    fn apply_attribute(&mut self, name: &str, value: Option<&str>) {
        if let (None, Some(d)) = (value, Direction::from_attr(name)) {
            self.direction = d;
            return;
        }
        let parsed = value.and_then(|v| match name.to_ascii_lowercase().as_str() {
            "rtpmap" => parse_rtpmap(v).map(|m| self.rtpmaps.push(m)),
            "fmtp" => {
                let (pt, params) = v.split_once(' ').unwrap_or((v, ""));
                let entry = (payload_type(pt)?, params.trim_start().to_string());
                self.fmtps.push(entry);
                Some(())
            }
            "ptime" => v.parse().ok().map(|p| self.ptime = Some(p)),
            "rtcp" => {
                let port = v.split(' ').next()?.parse().ok();
                port.map(|p| self.rtcp_port = Some(p))
            }
            _ => None,
        });
        if parsed.is_none() {
            let value = value.map(str::to_string);
            self.attributes.push((name.into(), value));
        }
    }
}

impl SessionDescription {
    /// Parses an SDP body. Accepts CRLF or bare LF, and skips blank lines and
    /// line types we do not use (`i= u= e= p= b= t= r= z= k=`, unknown letters).
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        let mut sd = Self {
            session_name: "-".into(),
            ..Self::default()
        };
        let (mut seen_v, mut seen_o, mut seen_s) = (false, false, false);
        for (idx, line) in text.split('\n').map(str::trim_end).enumerate() {
            let bad = |reason| SdpError::Malformed {
                line: idx + 1,
                reason,
            };
            let (kind, value) = match line.split_once('=') {
                _ if line.is_empty() => continue,
                Some((k, v)) if k.len() == 1 && k.as_bytes()[0].is_ascii_alphabetic() => (k, v),
                _ => return Err(bad("line is not of the form <letter>=<value>")),
            };
            match (kind, seen_v) {
                ("v", false) if value == "0" => seen_v = true,
                ("v", false) => return Err(bad("unsupported SDP version (v= must be 0)")),
                (_, false) => return Err(bad("SDP must begin with a v= line")),
                ("v", _) => return Err(bad("duplicate v= line")),
                ("o", _) if !seen_o => {
                    let reason = "o= needs: username sess-id sess-version IN IP4|IP6 address";
                    sd.origin = parse_origin(value).ok_or_else(|| bad(reason))?;
                    seen_o = true;
                }
                ("s", _) if !seen_s && sd.media.is_empty() => {
                    sd.session_name = value.into();
                    seen_s = true;
                }
                ("c", _) => {
                    let reason = "c= needs: IN IP4|IP6 <IP address>";
                    let addr = parse_connection(value).ok_or_else(|| bad(reason))?;
                    let slot = match sd.media.last_mut() {
                        Some(m) => &mut m.connection,
                        None => &mut sd.connection,
                    };
                    slot.get_or_insert(addr);
                }
                ("m", _) => {
                    let mut m = parse_media_line(value).map_err(bad)?;
                    m.direction = sd.direction.unwrap_or_default();
                    sd.media.push(m);
                }
                ("a", _) => {
                    let (name, val) = match value.split_once(':') {
                        Some((n, v)) => (n, Some(v)),
                        None => (value, None),
                    };
                    match (sd.media.last_mut(), val, Direction::from_attr(name)) {
                        (Some(m), ..) => m.apply_attribute(name, val),
                        (None, None, Some(d)) => sd.direction = Some(d),
                        (None, ..) => sd.attributes.push((name.into(), val.map(str::to_string))),
                    }
                }
                _ => {}
            }
        }
        match (seen_v, seen_o) {
            (false, _) => Err(SdpError::MissingLine("v=")),
            (_, false) => Err(SdpError::MissingLine("o=")),
            _ => Ok(sd),
        }
    }
}

fn parse_origin(value: &str) -> Option<Origin> {
    match value.split_whitespace().collect::<Vec<_>>()[..] {
        [user, id, version, "IN", _, addr] => Some(Origin {
            username: user.into(),
            session_id: id.parse().ok()?,
            session_version: version.parse().ok()?,
            address: addr.into(),
        }),
        _ => None,
    }
}

/// `IN IP4 <addr>[/ttl[/count]]`; a multicast suffix is dropped.
fn parse_connection(value: &str) -> Option<IpAddr> {
    match value.split_whitespace().collect::<Vec<_>>()[..] {
        ["IN", "IP4" | "IP6", addr] => addr.split('/').next()?.parse().ok(),
        _ => None,
    }
}

fn parse_media_line(value: &str) -> Result<MediaDescription, &'static str> {
    let mut it = value.split_whitespace();
    let (Some(kind), Some(port), Some(proto)) = (it.next(), it.next(), it.next()) else {
        return Err("m= needs: media port proto format...");
    };
    let formats: Vec<String> = it.map(str::to_string).collect();
    if formats.is_empty() {
        return Err("m= line lists no formats");
    }
    let port = port.split_once('/').map_or(port, |(p, _)| p).parse();
    let port = port.map_err(|_| "m= port is not a number between 0 and 65535")?;
    let (kind, proto) = (kind.into(), proto.into());
    Ok(MediaDescription {
        kind,
        port,
        proto,
        formats,
        ..Default::default()
    })
}

fn parse_rtpmap(value: &str) -> Option<RtpMap> {
    let (pt, rest) = value.split_once(' ')?;
    let mut parts = rest.trim().split('/');
    let (encoding, rate) = (parts.next()?.to_string(), parts.next()?.parse().ok()?);
    let channels = parts.next().map(str::parse).transpose().ok()?;
    let map = RtpMap {
        payload_type: payload_type(pt)?,
        encoding,
        clock_rate: rate,
        channels,
    };
    (!map.encoding.is_empty() && parts.next().is_none()).then_some(map)
}

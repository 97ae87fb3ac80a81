//! Writing a session description back out, in RFC 8866 §5 order with CRLF line endings.

use std::fmt;
use std::net::IpAddr;

use super::{Origin, SessionDescription};

fn addr_type(ip: &IpAddr) -> &'static str {
    if ip.is_ipv6() { "IP6" } else { "IP4" }
}

fn write_attrs(f: &mut fmt::Formatter<'_>, attrs: &[(String, Option<String>)]) -> fmt::Result {
    for (name, value) in attrs {
        match value {
            Some(v) => write!(f, "a={name}:{v}\r\n")?,
            None => write!(f, "a={name}\r\n")?,
        }
    }
    Ok(())
}

/// Serialises in RFC 8866 §5 order with CRLF line endings.
impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Origin {
            username,
            session_id,
            session_version,
            address,
        } = &self.origin;
        let o_type = if address.contains(':') { "IP6" } else { "IP4" };
        let o = format!("{username} {session_id} {session_version} IN {o_type} {address}");
        write!(f, "v=0\r\no={o}\r\ns={}\r\n", self.session_name)?;
        if let Some(c) = &self.connection {
            write!(f, "c=IN {} {c}\r\n", addr_type(c))?;
        }
        f.write_str("t=0 0\r\n")?;
        write_attrs(f, &self.attributes)?;
        if let Some(d) = self.direction {
            write!(f, "a={}\r\n", d.as_str())?;
        }
        for m in &self.media {
            let formats = m.formats.join(" ");
            write!(f, "m={} {} {} {formats}\r\n", m.kind, m.port, m.proto)?;
            if let Some(c) = &m.connection {
                write!(f, "c=IN {} {c}\r\n", addr_type(c))?;
            }
            for r in &m.rtpmaps {
                let ch = r.channels.map(|c| format!("/{c}")).unwrap_or_default();
                let (pt, rate) = (r.payload_type, r.clock_rate);
                write!(f, "a=rtpmap:{pt} {}/{rate}{ch}\r\n", r.encoding)?;
            }
            for (pt, params) in &m.fmtps {
                let sep = if params.is_empty() { "" } else { " " };
                write!(f, "a=fmtp:{pt}{sep}{params}\r\n")?;
            }
            if let Some(p) = m.ptime {
                write!(f, "a=ptime:{p}\r\n")?;
            }
            if let Some(p) = m.rtcp_port {
                write!(f, "a=rtcp:{p}\r\n")?;
            }
            write_attrs(f, &m.attributes)?;
            write!(f, "a={}\r\n", m.direction.as_str())?;
        }
        Ok(())
    }
}

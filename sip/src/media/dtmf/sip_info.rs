//! Keys sent as SIP INFO bodies (`application/dtmf-relay`, `application/dtmf`).

use super::Digit;

/// The key in a SIP INFO body, or `None` if the body is not a DTMF body or names no key.
///
/// Exists for phones that send keys as SIP INFO (RFC 6086 defines INFO, not these bodies; both
/// are de-facto formats). `content_type` is the Content-Type header value; parameters and case
/// are ignored.
///
/// - `application/dtmf-relay`: lines `Key=Value`; the `Signal` line names the key (keys in any
///   case, spaces around `=` and the value allowed, other lines such as `Duration=160` ignored).
///   `Signal=5`, `Signal= #`, `signal=a`.
/// - `application/dtmf`: the whole body is the key, `5` or `#`.
///
/// In both, the key is either the character or its RFC 4733 event code 0-15, so `10` means `*`
/// and `11` means `#`, as some phones send it.
pub fn parse_info(content_type: &str, body: &[u8]) -> Option<Digit> {
    let media_type = content_type.split(';').next()?.trim();
    let body = std::str::from_utf8(body).ok()?;
    if media_type.eq_ignore_ascii_case("application/dtmf-relay") {
        body.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("signal")
                .then(|| parse_key(value))?
        })
    } else if media_type.eq_ignore_ascii_case("application/dtmf") {
        parse_key(body)
    } else {
        None
    }
}

/// A key written as its character or as its event code 0-15.
fn parse_key(text: &str) -> Option<Digit> {
    let text = text.trim();
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Digit::from_char(c),
        _ if text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit()) => {
            Digit::from_event_code(text.parse().ok()?)
        }
        _ => None,
    }
}

//! The auth-param grammar shared by challenges and credentials: splitting a `Digest` parameter
//! list (RFC 7616 §3.3/§3.4, RFC 7230 §7) and writing quoted-strings back safely.

use std::fmt::{self, Write as _};

use super::{Algorithm, AuthError};

/// Renders a quoted-string, escaping `"` and `\` and dropping control
/// characters, so no value can break out of its parameter or the header line.
pub(super) struct Quoted<'a>(pub(super) &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars().filter(|c| !c.is_control()) {
            if c == '"' || c == '\\' {
                f.write_char('\\')?;
            }
            f.write_char(c)?;
        }
        f.write_char('"')
    }
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// RFC 7230 `tchar`: the characters allowed in a parameter name.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Splits `Digest name=value, name="value", ...` into lowercase names and
/// unescaped values. Empty list elements are tolerated (RFC 7230 §7);
/// unquoted values run to the next comma or whitespace.
pub(super) fn parse_params(input: &str) -> Result<Vec<(String, String)>, AuthError> {
    let s = input.trim_start_matches(is_ws);
    let mut rest = match s.get(..6) {
        Some(scheme) if scheme.eq_ignore_ascii_case("digest") => &s[6..],
        _ => return Err(AuthError::NotDigest),
    };
    if !rest.is_empty() && !rest.starts_with(is_ws) {
        return Err(AuthError::NotDigest);
    }
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c| is_ws(c) || c == ',');
        if rest.is_empty() {
            return Ok(out);
        }
        let name_len = rest.find(|c| !is_tchar(c)).unwrap_or(rest.len());
        let name = rest[..name_len].to_ascii_lowercase();
        rest = rest[name_len..].trim_start_matches(is_ws);
        rest = match rest.strip_prefix('=') {
            Some(r) if !name.is_empty() => r.trim_start_matches(is_ws),
            _ => return Err(AuthError::Syntax),
        };
        let mut value = String::new();
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next().ok_or(AuthError::Syntax)? {
                    (i, '"') => break i + 1,
                    (_, '\\') => value.push(chars.next().ok_or(AuthError::Syntax)?.1),
                    (_, c) => value.push(c),
                }
            };
            rest = &quoted[end..];
        } else {
            let len = rest.find(|c| is_ws(c) || c == ',' || c == '"');
            let (token, tail) = rest.split_at(len.unwrap_or(rest.len()));
            if token.is_empty() {
                return Err(AuthError::Syntax);
            }
            (value, rest) = (token.to_owned(), tail);
        }
        rest = rest.trim_start_matches(is_ws);
        if !rest.is_empty() && !rest.starts_with(',') {
            return Err(AuthError::Syntax);
        }
        out.push((name, value));
    }
}

/// The value of the known parameter `name`, rejecting duplicates (ambiguous
/// input). Parameters nobody asks for are thereby ignored.
pub(super) fn param(
    params: &[(String, String)],
    name: &'static str,
) -> Result<Option<String>, AuthError> {
    let mut found = params.iter().filter(|(n, _)| n == name).map(|(_, v)| v);
    match (found.next(), found.next()) {
        (_, Some(_)) => Err(AuthError::DuplicateParam(name)),
        (v, None) => Ok(v.cloned()),
    }
}

pub(super) fn algorithm_param(params: &[(String, String)]) -> Result<Algorithm, AuthError> {
    param(params, "algorithm")?.map_or(Ok(Algorithm::Md5), |a| a.parse())
}

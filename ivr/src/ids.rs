//! Typed identifiers, so a region id can never be passed where a lawyer id is expected.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a string read from a dialplan file (or typed in a test).
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }

            /// The id as written in the dialplan files, for logs and lookups.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id_type!(
    /// An administrative region (province, city, county or township) of `hierarchy.toml`.
    RegionId
);
id_type!(
    /// A lawyer of `roster.toml`; the key of the ACD's state snapshot.
    LawyerId
);
id_type!(
    /// A node of the call flow (`[node.<id>]` in `12348.toml`); the interpreter's program counter.
    NodeId
);
id_type!(
    /// A named queue (`[queue.<id>]` in `12348.toml`) staffed by a fixed list of lawyers.
    QueueId
);
id_type!(
    /// A prompt language / prompt set such as `zh` (Mandarin), `en` or `yue` (Cantonese); it
    /// names the folder `prompts/<lang>/` and is matched against the lawyers' languages.
    Lang
);
id_type!(
    /// A service or speciality (`consultation`, `legal_aid`, `labour`, ...) a caller needs and a
    /// lawyer offers.
    Skill
);

/// Whether `s` is a usable id: non-empty ASCII lowercase letters, digits, `-` and `_`. Ids end
/// up in logs, SIP headers and file names, so they are kept boring.
pub(crate) fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_display_as_written() {
        assert_eq!(RegionId::new("shicheng").to_string(), "shicheng");
        assert_eq!(LawyerId::from("chen-wei").as_str(), "chen-wei");
    }

    #[test]
    fn id_syntax() {
        assert!(is_valid_id("shicheng-qinjiang"));
        assert!(is_valid_id("legal_aid"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("Shicheng"));
        assert!(!is_valid_id("石城"));
        assert!(!is_valid_id("a b"));
    }
}

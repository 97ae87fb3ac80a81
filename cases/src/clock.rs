//! Time as the case tables store it (unix milliseconds) and the Beijing civil date the ticket
//! numbers and notes use. China has one zone, UTC+8, without daylight saving since 1991, so a
//! fixed offset is exact for every date a ticket can have.

/// One hour in milliseconds: every SLA deadline of the "six one-hours" practice.
pub const HOUR_MS: i64 = 3_600_000;

const BEIJING_OFFSET_MS: i64 = 8 * HOUR_MS;

/// Current unix time in milliseconds, the unit of every time in the case tables.
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A Beijing-time civil date and time to the minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

/// The Beijing civil time of a unix-ms instant (Howard Hinnant's `civil_from_days`).
pub(crate) fn beijing(ms: i64) -> Civil {
    let local = ms + BEIJING_OFFSET_MS;
    let days = local.div_euclid(86_400_000);
    let of_day = local.rem_euclid(86_400_000) / 60_000;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (of_day / 60) as u32,
        minute: (of_day % 60) as u32,
    }
}

impl std::fmt::Display for Civil {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_dates() {
        // 1970-01-01T00:00Z is 08:00 in Beijing.
        assert_eq!(beijing(0).to_string(), "1970-01-01 08:00");
        // 2025-12-31T16:00Z is already 2026-01-01 in Beijing: the ticket year follows Beijing.
        assert_eq!(beijing(1_767_196_800_000).to_string(), "2026-01-01 00:00");
        assert_eq!(beijing(1_767_196_800_000 - 60_000).year, 2025);
        // a leap day
        assert_eq!(beijing(1_709_164_800_000).to_string(), "2024-02-29 08:00");
    }
}

//! Wall-clock values as operators write them in the dialplan files: `"08:30"`, `"mon"`,
//! TOML dates such as `2026-10-01`, and IANA time-zone names; and [`Clock`], the one place the
//! interpreter learns the current instant, so every test can run on fake time.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

/// The hotline's default time zone: all of mainland China keeps UTC+8 with no daylight saving.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// Why a clock value in a dialplan file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// Not `HH:MM` with `HH` 00-24 and `MM` 00-59.
    #[error("`{0}` is not a time of day: write HH:MM, 00:00 to 24:00")]
    BadTime(String),
    /// Not one of `mon` ... `sun`.
    #[error("`{0}` is not a weekday: use mon, tue, wed, thu, fri, sat or sun")]
    BadWeekday(String),
    /// A TOML datetime with a time or offset where a plain date belongs.
    #[error("`{0}` is not a plain date: write YYYY-MM-DD without a time")]
    NotADate(String),
    /// A date that does not exist, such as 2026-02-30.
    #[error("`{0}` is not a valid date")]
    BadDate(String),
    /// An unknown IANA zone name.
    #[error("unknown time zone `{0}` (use an IANA name such as Asia/Shanghai)")]
    BadZone(String),
}

/// A local time of day in minutes since midnight, `00:00` to `24:00` (the latter only makes
/// sense as the end of a range). Minutes are all the precision a duty roster needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(u16);

impl ClockTime {
    /// Midnight at the end of the day, the only valid end of a range that runs to midnight.
    pub const END_OF_DAY: ClockTime = ClockTime(24 * 60);

    /// From hours and minutes; `None` past 24:00.
    pub fn from_hm(hour: u16, minute: u16) -> Option<ClockTime> {
        let m = hour.checked_mul(60)?.checked_add(minute)?;
        (minute < 60 && m <= 24 * 60).then_some(ClockTime(m))
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }

    /// The clock time of a civil time (seconds are dropped).
    pub fn of(t: jiff::civil::Time) -> ClockTime {
        ClockTime(t.hour() as u16 * 60 + t.minute() as u16)
    }
}

impl FromStr for ClockTime {
    type Err = ClockError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ClockError::BadTime(s.to_owned());
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        ClockTime::from_hm(h, m).ok_or_else(bad)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// Where the call-flow interpreter gets "now" from. The logic never reads the system clock
/// itself: the app passes [`SystemClock`], tests a fake that moves only when they say so.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The real clock, for the running hotline.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until told to move, for tests and simulations.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    /// Moves the clock to `at` (also backwards, to test that nothing relies on monotony).
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t = t.saturating_add(by).unwrap_or(*t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long from `from` to `to`, zero if `to` is earlier (a clock stepped backwards must not
/// make a caller wait forever or overflow at once).
pub fn elapsed(from: Timestamp, to: Timestamp) -> Duration {
    let d = to.duration_since(from);
    if d.is_negative() {
        Duration::ZERO
    } else {
        d.unsigned_abs()
    }
}

/// `at` plus `d`, saturating at the end of time.
pub fn after(at: Timestamp, d: Duration) -> Timestamp {
    at.saturating_add(d).unwrap_or(Timestamp::MAX)
}

/// Parses `mon` ... `sun` (the three-letter English abbreviations, lowercase).
pub(crate) fn parse_weekday(s: &str) -> Result<Weekday, ClockError> {
    Ok(match s {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return Err(ClockError::BadWeekday(s.to_owned())),
    })
}

/// Converts a TOML local date (`2026-10-01`) to a civil date.
pub(crate) fn toml_date(dt: &toml::value::Datetime) -> Result<Date, ClockError> {
    match (dt.date, dt.time, dt.offset) {
        (Some(d), None, None) => Date::new(d.year as i16, d.month as i8, d.day as i8)
            .map_err(|_| ClockError::BadDate(dt.to_string())),
        _ => Err(ClockError::NotADate(dt.to_string())),
    }
}

/// Looks up an IANA time zone in the tz database bundled into the binary.
pub(crate) fn parse_zone(name: &str) -> Result<TimeZone, ClockError> {
    TimeZone::get(name).map_err(|_| ClockError::BadZone(name.to_owned()))
}

/// The weekday as written in the dialplan files (`mon` ... `sun`).
pub(crate) fn weekday_name(w: Weekday) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][weekday_index(w) as usize]
}

/// Index of a weekday, Monday = 0, for the week-minute arithmetic of shift overlaps.
pub(crate) fn weekday_index(w: Weekday) -> u32 {
    w.to_monday_zero_offset() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn clock_times_parse_and_print() {
        let t: ClockTime = "08:30".parse().unwrap();
        assert_eq!(t.minutes(), 510);
        assert_eq!(t.to_string(), "08:30");
        assert_eq!("24:00".parse::<ClockTime>().unwrap(), ClockTime::END_OF_DAY);
        for bad in ["8:30", "24:01", "12:60", "noon", "12-30", "123:00", ""] {
            assert_eq!(
                bad.parse::<ClockTime>(),
                Err(ClockError::BadTime(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn weekdays() {
        assert_eq!(parse_weekday("sat").unwrap(), Weekday::Saturday);
        assert!(parse_weekday("Monday").is_err());
        assert_eq!(weekday_index(Weekday::Monday), 0);
        assert_eq!(weekday_index(Weekday::Sunday), 6);
    }

    #[test]
    fn toml_dates() {
        let v: toml::Table = toml::from_str("a = 2026-10-01\nb = 2026-10-01T08:00:00").unwrap();
        let a = v["a"].as_datetime().unwrap();
        assert_eq!(toml_date(a).unwrap(), date(2026, 10, 1));
        let b = v["b"].as_datetime().unwrap();
        assert!(matches!(toml_date(b), Err(ClockError::NotADate(_))));
    }

    #[test]
    fn manual_clock_and_elapsed() {
        let t0 = Timestamp::from_second(1_780_000_000).unwrap();
        let c = ManualClock::new(t0);
        c.advance(Duration::from_secs(90));
        assert_eq!(elapsed(t0, c.now()), Duration::from_secs(90));
        assert_eq!(elapsed(c.now(), t0), Duration::ZERO);
        c.set(t0);
        assert_eq!(c.now(), t0);
        assert_eq!(
            after(t0, Duration::from_secs(5)),
            Timestamp::from_second(1_780_000_005).unwrap()
        );
    }

    #[test]
    fn shanghai_is_utc_plus_8_all_year() {
        let tz = parse_zone(DEFAULT_TIME_ZONE).unwrap();
        for d in [date(2026, 1, 15), date(2026, 7, 15)] {
            let ts = tz.to_timestamp(d.at(12, 0, 0, 0)).unwrap();
            assert_eq!(tz.to_offset(ts).seconds(), 8 * 3600);
        }
        assert!(parse_zone("Mars/Olympus_Mons").is_err());
    }
}

//! The 12348 IVR's routing logic, free of IO beyond loading the dialplan files: the dialplan
//! format and its checker, caller-region resolution, the administrative hierarchy, the duty
//! roster and business hours, the ACD's choice of lawyer and its shared board ([`Acd`]), and
//! the call-flow interpreter ([`run_call`]) that runs the typed [`Dialplan`] this crate loads,
//! driving telephony through [`control::CallControl`] and reporting [`IvrEvent`]s.
//!
//! A dialplan directory holds `12348.toml` (the flow), `regions.toml`, `hierarchy.toml`,
//! `roster.toml`, `hours.toml` and `prompts/<lang>/*.wav` (+ `prompts/texts.toml`); see
//! `dialplans/README.md` for the format.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};

pub mod acd;
pub mod board;
mod board_state;
pub mod clock;
pub mod control;
pub mod diag;
pub mod events;
pub mod flow;
mod flow_check;
mod flow_input;
mod flow_parse;
mod flow_raw;
pub mod hierarchy;
pub mod hours;
pub mod ids;
pub mod interpreter;
mod interpreter_input;
mod interpreter_route;
pub mod lawyer_state;
pub mod regions;
pub mod roster;
mod roster_overlap;
mod roster_parse;
pub mod texts;

pub use acd::{LawyerSnapshot, candidates, overflow_chain};
pub use board::{Acd, BoardConfig};
pub use clock::{Clock, ManualClock, SystemClock};
pub use diag::Diagnostic;
pub use events::{CallSummary, Disposition, EventSink, IvrEvent, VecSink};
pub use flow::{Flow, Key, Node, Prompt};
pub use hierarchy::{Hierarchy, Level, Region};
pub use hours::Hours;
pub use ids::{Lang, LawyerId, NodeId, QueueId, RegionId, Skill};
pub use interpreter::{CallContext, run_call};
pub use lawyer_state::{LawyerEvent, LawyerState, TransitionError};
pub use regions::RegionTable;
pub use roster::{DutyFilter, Lawyer, Roster};
pub use texts::PromptTexts;

use diag::Source;

/// The flow file's name; the hotline number is the dialplan's name.
pub const FLOW_FILE: &str = "12348.toml";

/// A loaded dialplan directory that passed every check: what the interpreter runs.
#[derive(Clone, Debug)]
pub struct Dialplan {
    /// The directory it was loaded from (prompt paths are relative to it).
    pub dir: PathBuf,
    /// The call flow.
    pub flow: Flow,
    /// Caller number → region.
    pub regions: RegionTable,
    /// Region names and parents.
    pub hierarchy: Hierarchy,
    /// Lawyers and shifts.
    pub roster: Roster,
    /// Opening hours, holidays and the hotline's time zone.
    pub hours: Hours,
}

impl Dialplan {
    /// The WAV file of `prompt` in `lang`.
    pub fn prompt_path(&self, prompt: &Prompt, lang: &Lang) -> PathBuf {
        prompt.path(&self.dir, lang)
    }
}

/// Checks a dialplan directory; an empty list means [`load`] will succeed. For the
/// `hotline check` command and CI, so a bad edit is caught before a caller hits it.
pub fn check(dir: &Path) -> Vec<Diagnostic> {
    load(dir).err().unwrap_or_default()
}

/// Loads and checks a dialplan directory, returning every problem found (sorted by file and
/// line) rather than stopping at the first.
pub fn load(dir: &Path) -> Result<Dialplan, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let read = |name: &str, out: &mut Vec<Diagnostic>| {
        Source::read(dir, name).map_err(|d| out.push(d)).ok()
    };
    let hours = read("hours.toml", &mut out).and_then(|s| Hours::parse(&s, &mut out));
    // without a readable hours.toml, check the roster against a UTC+8 calendar anyway
    let calendar = hours
        .clone()
        .unwrap_or_else(|| Hours::always_open(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))));
    let hierarchy = read("hierarchy.toml", &mut out).and_then(|s| Hierarchy::parse(&s, &mut out));
    let regions = read("regions.toml", &mut out)
        .and_then(|s| RegionTable::parse(&s, dir, hierarchy.as_ref(), &mut out));
    let roster = read("roster.toml", &mut out)
        .and_then(|s| Roster::parse(&s, calendar, hierarchy.as_ref(), &mut out));
    let flow = read(FLOW_FILE, &mut out).and_then(|src| {
        let (flow, refs) = flow_parse::parse(&src, &mut out);
        flow_check::check(&src, dir, flow.as_ref(), &refs, roster.as_ref(), &mut out);
        flow
    });
    if dir.join(texts::TEXTS_FILE).exists()
        && let Some(src) = read(texts::TEXTS_FILE, &mut out)
    {
        PromptTexts::parse(&src, &mut out);
    }
    out.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    match (out.is_empty(), flow, regions, hierarchy, roster, hours) {
        (true, Some(flow), Some(regions), Some(hierarchy), Some(roster), Some(hours)) => {
            Ok(Dialplan {
                dir: dir.to_owned(),
                flow,
                regions,
                hierarchy,
                roster,
                hours,
            })
        }
        _ => Err(out),
    }
}

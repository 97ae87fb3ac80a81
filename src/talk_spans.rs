//! When a lawyer was on the line, read back from a filed call's IVR path. The recorder starts
//! at the IVR's answer, so the hotline side of a recording is the IVR's prompts and hold music
//! until a lawyer picks up and the survey after they hang up; transcription keeps only the
//! lawyer (see [`HotlineSide`]).

use hotline_ivr::IvrEvent;
use hotline_transcribe::HotlineSide;

/// The lawyer's spans in the recording of a call whose IVR path (`[{"at": unix ms, "event":
/// {...}}, ...]`, as filed) is `ivr_path`: from each `connected` to the next `talk_ended` (or
/// the end of the recording), timed from `call_answered`, when the recorder started. A call
/// with no readable path, or no answer in it, leaves the whole channel to the lawyer.
pub fn hotline_side(ivr_path: Option<&str>) -> HotlineSide {
    let Some(events) = ivr_path.and_then(parse) else {
        return HotlineSide::AllLawyer;
    };
    let Some(answered) = events
        .iter()
        .find(|(_, e)| matches!(e, IvrEvent::CallAnswered { .. }))
        .map(|(at, _)| *at)
    else {
        return HotlineSide::AllLawyer;
    };
    let mut spans = Vec::new();
    let mut open = None;
    for (at, event) in &events {
        let offset = at - answered;
        match event {
            IvrEvent::Connected { .. } if open.is_none() => open = Some(offset),
            IvrEvent::TalkEnded { .. } => {
                if let Some(start) = open.take() {
                    spans.push((start, offset));
                }
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        spans.push((start, i64::MAX)); // cut off mid-conversation
    }
    HotlineSide::LawyerDuring(spans)
}

/// The path's events with their times; `None` if it is not a path.
fn parse(path: &str) -> Option<Vec<(i64, IvrEvent)>> {
    let entries: Vec<serde_json::Value> = serde_json::from_str(path).ok()?;
    let events = entries
        .into_iter()
        .filter_map(|mut entry| {
            let at = entry.get("at")?.as_i64()?;
            // events this build does not know (a newer node's path) are skipped
            let event = serde_json::from_value(entry.get_mut("event")?.take()).ok()?;
            Some((at, event))
        })
        .collect();
    Some(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_764_000_000_000;

    fn path(events: &[(i64, &str)]) -> String {
        let entries: Vec<String> = events
            .iter()
            .map(|(at, e)| format!(r#"{{"at":{},"event":{e}}}"#, T0 + at))
            .collect();
        format!("[{}]", entries.join(","))
    }

    const ANSWERED: &str = r#"{"event":"call_answered","caller":"13800000001"}"#;
    const CONNECTED: &str = r#"{"event":"connected","lawyer":"lai-zhiming","waited_secs":4}"#;
    const ENDED: &str = r#"{"event":"talk_ended","by":"lawyer"}"#;

    #[test]
    fn the_lawyer_is_on_from_connected_to_talk_ended() {
        let p = path(&[
            (0, ANSWERED),
            (
                3_000,
                r#"{"event":"menu_choice","node":"language","key":"1"}"#,
            ),
            (24_500, CONNECTED),
            (61_000, ENDED),
            (63_000, r#"{"event":"survey_answer","value":"satisfied"}"#),
            (64_000, r#"{"event":"from_a_newer_build"}"#),
        ]);
        assert_eq!(
            hotline_side(Some(&p)),
            HotlineSide::LawyerDuring(vec![(24_500, 61_000)])
        );
    }

    #[test]
    fn no_lawyer_means_no_lawyer_speech_and_a_cut_off_call_runs_to_the_end() {
        let p = path(&[(0, ANSWERED), (30_000, r#"{"event":"callback_requested"}"#)]);
        assert_eq!(hotline_side(Some(&p)), HotlineSide::LawyerDuring(vec![]));
        let p = path(&[(0, ANSWERED), (20_000, CONNECTED)]);
        assert_eq!(
            hotline_side(Some(&p)),
            HotlineSide::LawyerDuring(vec![(20_000, i64::MAX)])
        );
    }

    #[test]
    fn an_unknown_history_leaves_the_whole_channel_to_the_lawyer() {
        assert_eq!(hotline_side(None), HotlineSide::AllLawyer);
        assert_eq!(hotline_side(Some("not json")), HotlineSide::AllLawyer);
        assert_eq!(
            hotline_side(Some(&path(&[(0, CONNECTED)]))),
            HotlineSide::AllLawyer
        );
    }
}

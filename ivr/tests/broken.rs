//! Every broken sample dialplan under `testdata/broken/<case>/` (one per error class) must be
//! reported with exactly these `file:line: message` lines, and the minimal plan must load.

use std::path::Path;

fn diags(case: &str) -> Vec<String> {
    let dir = format!("testdata/broken/{case}");
    hotline_ivr::check(Path::new(&dir))
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn expect(case: &str, lines: &[&str]) {
    let want: Vec<String> = lines
        .iter()
        .map(|l| format!("testdata/broken/{case}/{l}"))
        .collect();
    assert_eq!(diags(case), want, "case {case}");
    assert!(hotline_ivr::load(Path::new(&format!("testdata/broken/{case}"))).is_err());
}

#[test]
fn minimal_plan_is_clean() {
    let plan = hotline_ivr::load(Path::new("testdata/minimal")).unwrap();
    assert_eq!(plan.flow.entry.as_str(), "start");
    assert!(hotline_ivr::check(Path::new("testdata/minimal")).is_empty());
}

#[test]
fn toml_syntax_error() {
    expect(
        "toml-syntax",
        &["12348.toml:2: invalid basic string, expected `\"`"],
    );
}

#[test]
fn unknown_field() {
    expect(
        "unknown-field",
        &[
            "12348.toml:4: unknown field `langauge`, expected one of `entry`, `languages`, `default_language`",
        ],
    );
}

#[test]
fn prompt_missing_for_an_offered_language() {
    expect(
        "unknown-prompt",
        &["12348.toml:30: prompt `bye` is missing for `en`: no file prompts/en/bye.wav"],
    );
}

#[test]
fn unreachable_node() {
    expect(
        "unreachable-node",
        &["12348.toml:28: node `orphan` is not reachable from the entry node `start`"],
    );
}

#[test]
fn choice_to_nowhere() {
    expect(
        "choice-to-nowhere",
        &[
            "12348.toml:23: `goto` refers to undefined node `nowhere`",
            "12348.toml:31: `queue` refers to undefined queue `complaints`",
        ],
    );
}

#[test]
fn duplicate_digit() {
    expect(
        "duplicate-digit",
        &["12348.toml:22: key `1` is used twice in `start` (first on line 18)"],
    );
}

#[test]
fn invalid_timeout_and_retries() {
    expect(
        "bad-timeout",
        &[
            "12348.toml:13: `timeout` must be 1 to 60 seconds, not 0",
            "12348.toml:14: `retries` must be 0 to 9, not 12",
        ],
    );
}

#[test]
fn overlapping_shifts() {
    expect(
        "overlapping-shifts",
        &[
            "roster.toml:15: shift of `a` on tue 16:00-18:00 overlaps the shift on line 8 (tue 09:00-17:00)",
        ],
    );
}

#[test]
fn shift_for_unknown_lawyer_or_region() {
    expect(
        "unknown-shift-refs",
        &[
            "roster.toml:16: shift for unknown lawyer `zhang-san`",
            "roster.toml:24: shift in unknown region `atlantis` (not in hierarchy.toml)",
        ],
    );
}

#[test]
fn region_not_in_hierarchy() {
    expect(
        "region-not-in-hierarchy",
        &["regions.toml:3: region `taiyuan` is not in hierarchy.toml"],
    );
}

#[test]
fn hierarchy_cycle() {
    expect(
        "hierarchy-cycle",
        &["hierarchy.toml:7: parent cycle: c → k → c"],
    );
}

#[test]
fn hierarchy_orphan() {
    expect(
        "hierarchy-orphan",
        &["hierarchy.toml:17: parent `nowhere` of region `k` is not defined (orphan region)"],
    );
}

#[test]
fn missing_file() {
    expect(
        "missing-file",
        &["hours.toml:1: cannot read file: No such file or directory (os error 2)"],
    );
}

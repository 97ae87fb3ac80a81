//! `hotline dialplan check` as an operator runs it: the shipped dialplan passes, broken ones
//! exit 1 with `file:line: what is wrong`.

use std::process::Command;

fn check(dir: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["dialplan", "check", dir])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("hotline runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn shipped_dialplan_is_valid() {
    let (code, out) = check("dialplans");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("dialplans: ok"));
}

#[test]
fn broken_dialplans_report_file_and_line() {
    let cases = [
        (
            "bad-timeout",
            "bad-timeout/12348.toml:13: `timeout` must be 1 to 60 seconds, not 0",
        ),
        ("choice-to-nowhere", "choice-to-nowhere/12348.toml:"),
        ("overlapping-shifts", "overlapping-shifts/roster.toml:"),
    ];
    for (case, expected) in cases {
        let dir = format!("ivr/testdata/broken/{case}");
        let (code, out) = check(&dir);
        assert_eq!(code, 1, "{case}: {out}");
        assert!(
            out.contains(expected),
            "{case}: expected {expected:?} in:\n{out}"
        );
    }
}

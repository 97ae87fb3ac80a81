//! Media end to end with SIPp on 127.0.0.1: key presses from RFC 4733 and SIP INFO, latching
//! onto a caller behind NAT, stereo recordings, and a recording that survives `kill -9`.

mod common;

use std::fs;
use std::path::Path;
use std::thread;
use std::time::Duration;

use common::{Server, ServerOptions, Sipp, recordings, udp_rx_queue};

/// Digits the server logged as pressed, in order.
fn keys_pressed(server: &Server) -> Vec<String> {
    fs::read_to_string(&server.log_path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("key pressed"))
        .filter_map(|l| l.split("digit=").nth(1).map(|d| d.trim().to_string()))
        .collect()
}

/// RMS level of each channel over `from..to` seconds.
fn channel_rms(path: &Path, from: f64, to: f64) -> (f64, f64, f64) {
    let mut reader = hound::WavReader::open(path).expect("a valid WAV");
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    let duration = samples.len() as f64 / 2.0 / 8000.0;
    let (a, b) = (
        (from * 8000.0) as usize * 2,
        ((to * 8000.0) as usize * 2).min(samples.len()),
    );
    let rms = |ch: usize| {
        let v: Vec<f64> = samples[a..b]
            .iter()
            .skip(ch)
            .step_by(2)
            .map(|s| f64::from(*s))
            .collect();
        (v.iter().map(|x| x * x).sum::<f64>() / v.len().max(1) as f64).sqrt()
    };
    (rms(0), rms(1), duration)
}

#[test]
fn each_key_is_reported_once_from_rfc4733_and_sip_info() {
    let server = Server::start(ServerOptions::named("dtmf"));
    let outcome = Sipp::new("uac_dtmf.xml").run(&server);
    assert!(outcome.all_ok(1), "{outcome:?}\n{}", server.log_tail(40));
    thread::sleep(Duration::from_millis(200));
    assert_eq!(
        keys_pressed(&server),
        ["1", "5", "#", "9"],
        "{}",
        server.log_tail(40)
    );
}

#[test]
fn caller_behind_nat_hears_the_prompt_and_is_recorded_in_stereo() {
    let server = Server::start(ServerOptions::named("latch"));
    let sipp = Sipp::new("uac_latch.xml").file("tests/media/caller-speech.alaw");
    let media_port = sipp.media_port;
    let run = sipp.spawn(&server);
    thread::sleep(Duration::from_millis(2500));
    // SIPp never reads its media port: what we sent it is still queued there. Without latching
    // it would have gone to 127.0.0.99:9, the address in the caller's SDP.
    let queued = udp_rx_queue(media_port).unwrap_or(0);
    let outcome = run.wait();
    assert!(outcome.all_ok(1), "{outcome:?}");
    assert!(
        queued > 40 * 172,
        "only {queued} bytes reached the caller's real port\n{}",
        server.log_tail(30)
    );
    let log = fs::read_to_string(&server.log_path).unwrap();
    assert!(
        log.contains(&format!("RTP latched source=Some(127.0.0.1:{media_port})")),
        "{}",
        server.log_tail(30)
    );

    thread::sleep(Duration::from_millis(300));
    let files = recordings(&server.data_dir);
    assert_eq!(files.len(), 1, "{files:?}");
    // Left: the caller's speech (sent from 0 to 4 s). Right: the greeting the caller heard.
    let (left, right, duration) = channel_rms(&files[0], 0.5, 2.5);
    assert!(duration > 2.5, "recording is {duration} s");
    assert!(left > 300.0, "caller channel too quiet: {left}");
    assert!(right > 300.0, "greeting channel too quiet: {right}");
}

#[test]
fn recording_is_playable_after_kill_9_and_repaired_on_restart() {
    let mut server = Server::start(ServerOptions::named("crash"));
    let run = Sipp::new("uac_latch.xml")
        .file("tests/media/caller-speech.alaw")
        .spawn(&server);
    thread::sleep(Duration::from_millis(2500));
    server.kill9();
    drop(run); // the caller's SIPp is left to time out on its own

    let files = recordings(&server.data_dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let (left, _, duration) = channel_rms(&files[0], 0.5, 1.0);
    assert!(
        duration >= 1.0,
        "only {duration} s readable after the crash"
    );
    assert!(left > 300.0, "caller audio lost: {left}");

    // On restart the header is brought up to what is on disk.
    let dir = server.data_dir.clone();
    let restarted = Server::start(ServerOptions::named("crash").data_dir(&dir));
    assert!(
        restarted.wait_for_log(
            "calls cut off by the last stop are marked and filed",
            1,
            Duration::from_secs(5)
        ),
        "the interrupted call was not marked cut off:\n{}",
        restarted.log_tail(20)
    );
    let (_, _, repaired) = channel_rms(&files[0], 0.0, 0.1);
    assert!(repaired >= duration, "{repaired} < {duration}");
    drop(restarted);
}

#[test]
fn running_out_of_rtp_ports_gives_503_not_a_hang() {
    // One even port: the first call takes it, the second is refused with 503 at once.
    // Below the ephemeral range and above every other test's share (20000-31999).
    let port = 32_100 + (std::process::id() % 300) as u16 * 2;
    let server = Server::start(ServerOptions::named("ports").rtp_ports(port, port + 1));
    let first = Sipp::new("uac_latch.xml")
        .file("tests/media/caller-speech.alaw")
        .spawn(&server);
    assert!(
        server.wait_for_log("incoming call", 1, Duration::from_secs(10)),
        "{}",
        server.log_tail(20)
    );
    let second = Sipp::new("uac_basic.xml")
        .timeout(Duration::from_secs(20))
        .run(&server);
    assert!(
        !second.all_ok(1),
        "the second call should have been refused"
    );
    let messages = std::fs::read_to_string(&second.files.messages).unwrap_or_default();
    assert!(messages.contains("SIP/2.0 503"), "no 503 in:\n{messages}");
    let outcome = first.wait();
    assert!(outcome.all_ok(1), "the first call must go on: {outcome:?}");
}

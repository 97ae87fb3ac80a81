//! Bridging end to end on 127.0.0.1: a SIPp caller dials a lawyer's phone account, and the
//! lawyer's phone is a real softphone, `linphonec` (Debian package linphone-cli), registered
//! with digest credentials and auto-answering.
//!
//! Each side plays its own tone: the caller 400 Hz (PCMU, `tests/media/caller-400hz.ulaw`,
//! 3 s), the lawyer 1 kHz (a WAV played by linphonec's file "soundcard", all call long).
//! The server offers the phone PCMA first, so the bridge also translates PCMU <-> PCMA. The
//! test checks with a Goertzel filter at both frequencies, per 100 ms block, that
//!
//! * the caller's tone reaches the phone (linphonec's own recording), for as long as it was
//!   sent, and no 1 kHz comes back to the phone;
//! * the phone's tone reaches the caller (bytes piling up at SIPp's media port, which SIPp
//!   never reads) and the recording's RIGHT channel, the caller's tone its LEFT channel,
//!   each channel without the other's tone;
//! * the caller's RFC 4733 key 5 reaches the phone once as a telephone-event ("Receiving
//!   tone 5"), not as in-band tones;
//! * the caller's BYE ends the lawyer's leg too.

mod common;

use std::f64::consts::PI;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    Linphone, Server, ServerOptions, Sipp, goertzel, parse_trace, recordings, udp_rx_queue,
};

const LAWYER: &str = "lawyer1";
const PASSWORD: &str = "lawyer1 long test password";
/// The tone in `tests/media/caller-400hz.ulaw` (3.0 s, amplitude 0.5 of full scale).
const CALLER_HZ: f64 = 400.0;
const CALLER_TONE_SECS: f64 = 3.0;
/// The tone linphonec plays for the lawyer.
const LAWYER_HZ: f64 = 1000.0;
/// Both tones are sent at half of full scale.
const TONE_AMPLITUDE: f64 = 16384.0;
/// The low tone of DTMF 5 (770 + 1336 Hz): must not reach the phone in band.
const DTMF_5_LOW_HZ: f64 = 770.0;
/// A tone counts as present in a 100 ms block above this amplitude, as absent below
/// `ABSENT`. G.711 there and back keeps a half-scale tone within a few percent.
const PRESENT: f64 = 4000.0;
const ABSENT: f64 = 800.0;

const WAIT: Duration = Duration::from_secs(20);

/// `secs` of a sine at `hz`, 8 kHz mono 16 bit, for linphonec's `play`.
fn write_tone(path: &Path, hz: f64, secs: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create tone WAV");
    for n in 0..(secs * 8000.0) as usize {
        let v = TONE_AMPLITUDE * (2.0 * PI * hz * n as f64 / 8000.0).sin();
        w.write_sample(v.round() as i16).expect("write tone sample");
    }
    w.finalize().expect("finish tone WAV");
}

/// The channels of a 16-bit WAV and its sample rate. Tolerates a data chunk shorter than its
/// header says: linphonec's recorder writes a data size 44 bytes too large.
fn read_wav(path: &Path) -> (Vec<Vec<f64>>, u32) {
    let mut reader = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{} is not a WAV file: {e}", path.display()));
    let spec = reader.spec();
    assert_eq!(spec.bits_per_sample, 16, "{}: {spec:?}", path.display());
    let channels = spec.channels as usize;
    let samples: Vec<i16> = reader.samples::<i16>().map_while(Result::ok).collect();
    let out = (0..channels)
        .map(|c| {
            samples
                .iter()
                .skip(c)
                .step_by(channels)
                .map(|s| f64::from(*s))
                .collect()
        })
        .collect();
    (out, spec.sample_rate)
}

/// The amplitude of `hz` in each 100 ms block (400 Hz, 770 Hz and 1 kHz all make whole
/// cycles in 100 ms at 8 kHz, so the blocks do not leak between them).
fn profile(x: &[f64], hz: f64, rate: u32) -> Vec<f64> {
    x.chunks_exact(rate as usize / 10)
        .map(|b| goertzel(b, hz, rate))
        .collect()
}

/// Seconds during which the tone is present.
fn present_secs(p: &[f64]) -> f64 {
    p.iter().filter(|a| **a > PRESENT).count() as f64 / 10.0
}

fn max(p: &[f64]) -> f64 {
    p.iter().copied().fold(0.0, f64::max)
}

/// Mean amplitude over the blocks where the tone is present.
fn present_level(p: &[f64]) -> f64 {
    let v: Vec<f64> = p.iter().copied().filter(|a| *a > PRESENT).collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn show(p: &[f64]) -> String {
    p.iter()
        .map(|a| format!("{:.0}", a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How many bytes one 172-byte RTP packet (20 ms of G.711) takes in a socket's receive
/// queue on this kernel (its buffer accounting, 832 bytes here), measured on a socket of our
/// own.
fn queued_bytes_per_rtp_packet() -> u64 {
    let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a UDP socket");
    let port = rx.local_addr().expect("local_addr").port();
    let tx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a UDP socket");
    tx.send_to(&[0u8; 172], (Ipv4Addr::LOCALHOST, port))
        .expect("send to ourselves");
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match udp_rx_queue(port) {
            Some(n) if n > 0 => return n,
            _ if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            _ => return 172,
        }
    }
}

/// Polls the receive queue of `port` until it holds `at_least` bytes, at most `max`;
/// returns the most seen.
fn wait_rx_queue(port: u16, at_least: u64, max: Duration) -> u64 {
    let deadline = Instant::now() + max;
    let mut most = 0;
    while Instant::now() < deadline {
        most = most.max(udp_rx_queue(port).unwrap_or(0));
        if most >= at_least {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    most
}

#[test]
fn caller_and_lawyer_on_linphonec_hear_each_other_and_are_recorded_per_channel() {
    let t0 = Instant::now();
    let server = Server::start(ServerOptions::named("bridge").phone(LAWYER, PASSWORD));
    // Declared after the server, so dropped first: it unregisters while the server is up.
    let mut phone = Linphone::start(&server, LAWYER, PASSWORD);
    let speaks = phone.dir.join("lawyer-1khz.wav");
    let heard = phone.dir.join("heard.wav");
    write_tone(&speaks, LAWYER_HZ, 12.0);
    phone.command("soundcard use files");
    phone.command(&format!("play {}", speaks.display()));
    phone.command(&format!("record {}", heard.display()));
    assert!(
        phone.wait_output("Using wav files instead of soundcard", 1, WAIT),
        "linphonec did not take its commands\n{}",
        phone.output_tail(40)
    );
    // `status register` comes after `play` and `record`, so once it answers they are set.
    assert!(
        phone.wait_registered(WAIT),
        "linphonec did not register within {WAIT:?}\n{}\n{}",
        phone.output_tail(40),
        server.log_tail(30)
    );
    assert!(
        server.wait_for_log(&format!("phone registered aor={LAWYER}"), 1, WAIT),
        "{}",
        server.log_tail(30)
    );
    eprintln!(
        "[bridge] lawyer's phone registered after {:.1?}",
        t0.elapsed()
    );

    let sipp = Sipp::new("uac_bridge.xml")
        .service(LAWYER)
        .file("tests/media/caller-400hz.ulaw")
        .timeout(Duration::from_secs(30));
    let caller_media_port = sipp.media_port;
    let run = sipp.spawn(&server);
    assert!(
        server.wait_for_log("caller and lawyer connected", 1, WAIT),
        "the bridge was not set up\n{}\n{}",
        phone.output_tail(30),
        server.log_tail(40)
    );
    // Lawyer -> caller: SIPp never reads its media port, so what the server relays from the
    // phone piles up there: 2 s of 20 ms packets (the queue holds about 5 s of them).
    let per_packet = queued_bytes_per_rtp_packet();
    let queued = wait_rx_queue(caller_media_port, 100 * per_packet, Duration::from_secs(5));
    let outcome = run.wait();
    outcome.assert_all_ok(1);
    eprintln!(
        "[bridge] {} packets' worth queued at the caller's media port ({queued} bytes)",
        queued / per_packet
    );
    assert!(
        queued >= 100 * per_packet,
        "only {} packets of the lawyer's audio ({queued} bytes) reached the caller's media port\n{}",
        queued / per_packet,
        server.log_tail(30)
    );

    // The caller's BYE ends the lawyer's leg too.
    // "Call 1 with sip:caller1@127.0.0.1:5060 ended (No error)."
    let ended = phone.wait_output(" ended (", 1, Duration::from_secs(5));
    assert!(
        ended,
        "the lawyer's phone still has the call after the caller hung up\n{}\n{}",
        phone.output_tail(30),
        server.log_tail(30)
    );
    assert!(
        server.wait_for_log("recording complete", 1, Duration::from_secs(5)),
        "{}",
        server.log_tail(30)
    );
    let (quit, killed) = phone.quit().expect("linphonec exit status");
    assert!(
        !killed,
        "linphonec did not quit ({quit})\n{}",
        phone.output_tail(30)
    );

    // SIP: the caller's call ended by its BYE, the lawyer's by the server's.
    let caller_call_id = parse_trace(&outcome.messages())
        .iter()
        .find(|m| m.sent && m.first_line.starts_with("INVITE "))
        .and_then(|m| m.call_id())
        .expect("the caller's INVITE in SIPp's trace");
    let log = server.log();
    let ended: Vec<&str> = log.lines().filter(|l| l.contains("call ended")).collect();
    assert_eq!(ended.len(), 2, "{ended:#?}");
    assert!(
        ended
            .iter()
            .any(|l| l.contains(&format!("call_id={caller_call_id} "))
                && l.contains("reason=RemoteHangup")),
        "{ended:#?}"
    );
    assert!(
        ended
            .iter()
            .any(|l| !l.contains(&caller_call_id) && l.contains("reason=LocalHangup")),
        "{ended:#?}"
    );

    // DTMF: pressed once, relayed once as a telephone-event.
    let output = phone.output();
    let tones: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("Receiving tone"))
        .collect();
    assert!(
        tones.len() == 1 && tones[0].contains("Receiving tone 5"),
        "the phone should have received key 5 once: {tones:?}\n{}",
        phone.output_tail(30)
    );
    assert!(log.contains("digit=5"), "{}", server.log_tail(30));

    // What the phone heard: the caller's tone, as long as it was sent; not its own voice
    // back, not key 5 as in-band tones.
    let (chans, rate) = read_wav(&heard);
    assert_eq!(chans.len(), 1, "{}", heard.display());
    let heard_caller = profile(&chans[0], CALLER_HZ, rate);
    let heard_lawyer = profile(&chans[0], LAWYER_HZ, rate);
    let heard_dtmf = profile(&chans[0], DTMF_5_LOW_HZ, rate);
    eprintln!(
        "[bridge] phone heard {:.1} s at {rate} Hz; 400 Hz per 100 ms: {}",
        chans[0].len() as f64 / f64::from(rate),
        show(&heard_caller)
    );
    let secs = present_secs(&heard_caller);
    assert!(
        (CALLER_TONE_SECS - 0.4..=CALLER_TONE_SECS + 0.4).contains(&secs),
        "the phone heard the caller's tone for {secs} s, not {CALLER_TONE_SECS} s: {}",
        show(&heard_caller)
    );
    let level = present_level(&heard_caller);
    assert!(
        level > TONE_AMPLITUDE * 0.7 && level < TONE_AMPLITUDE * 1.3,
        "caller's tone reached the phone at {level:.0}, sent at {TONE_AMPLITUDE}"
    );
    assert!(
        max(&heard_lawyer) < ABSENT,
        "the phone hears itself: {}",
        show(&heard_lawyer)
    );
    assert!(
        max(&heard_dtmf) < ABSENT,
        "key 5 reached the phone in band too: {}",
        show(&heard_dtmf)
    );

    // The recording: left the caller, right the lawyer, neither in the other's channel.
    let files = recordings(&server.data_dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let (chans, rate) = read_wav(&files[0]);
    assert_eq!((chans.len(), rate), (2, 8000), "{}", files[0].display());
    let duration = chans[0].len() as f64 / 8000.0;
    let left_caller = profile(&chans[0], CALLER_HZ, rate);
    let left_lawyer = profile(&chans[0], LAWYER_HZ, rate);
    let right_caller = profile(&chans[1], CALLER_HZ, rate);
    let right_lawyer = profile(&chans[1], LAWYER_HZ, rate);
    eprintln!(
        "[bridge] recording {duration:.2} s\n  left 400 Hz:  {}\n  right 1 kHz:  {}",
        show(&left_caller),
        show(&right_lawyer)
    );
    assert!(
        duration > 4.0,
        "recording is {duration} s, the call about 5 s"
    );
    let secs = present_secs(&left_caller);
    assert!(
        (CALLER_TONE_SECS - 0.4..=CALLER_TONE_SECS + 0.4).contains(&secs),
        "caller's tone in the left channel for {secs} s, not {CALLER_TONE_SECS} s: {}",
        show(&left_caller)
    );
    let secs = present_secs(&right_lawyer);
    assert!(
        secs >= duration - 0.6,
        "lawyer's tone in the right channel for only {secs} of {duration} s: {}",
        show(&right_lawyer)
    );
    for (what, level) in [
        ("caller's tone, left", present_level(&left_caller)),
        ("lawyer's tone, right", present_level(&right_lawyer)),
    ] {
        assert!(
            level > TONE_AMPLITUDE * 0.7 && level < TONE_AMPLITUDE * 1.3,
            "{what}: level {level:.0}, sent at {TONE_AMPLITUDE}"
        );
    }
    assert!(
        max(&left_lawyer) < ABSENT,
        "the lawyer is in the caller's channel: {}",
        show(&left_lawyer)
    );
    assert!(
        max(&right_caller) < ABSENT,
        "the caller is in the lawyer's channel: {}",
        show(&right_caller)
    );
    eprintln!("[bridge] done in {:.1?}", t0.elapsed());
}

//! Digest parsing, the RFC 2617/7616 test vectors, nonces, the verifier and the throttle.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::*;
use Algorithm::{Md5, Sha256};
use AuthError as E;

const SEC: Duration = Duration::from_secs(1);
const RFC7616: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int",
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe""#;
const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

fn parse(hdr: &str) -> Result<Credentials, AuthError> {
    parse_credentials(hdr)
}

#[test]
fn rfc2617_md5_vector() {
    let c = parse(
        r#"Digest username="Mufasa", realm="testrealm@host.com", qop=auth, nc=00000001,
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", cnonce="0a4f113b",
            response="6629fae49393a05397450978507c4ef1""#,
    );
    let h = ha1(Md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
    let r = expected_response(Md5, &h, "GET", &c.unwrap());
    assert_eq!(r.unwrap(), "6629fae49393a05397450978507c4ef1");
}

#[test]
fn rfc7616_vectors_server_and_client() {
    let sha = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";
    let md5 = "8ca523f5e9506fed4657c9700eebdbec";
    for (alg, want) in [(Sha256, sha), (Md5, md5)] {
        let chal = format!("{RFC7616}, algorithm={alg}");
        let (user, pw) = ("Mufasa", "Circle of Life");
        let hdr = answer_challenge(&chal, "GET", "/dir/index.html", user, pw, CNONCE, 1);
        let c = parse(&hdr.unwrap()).unwrap();
        assert_eq!((c.algorithm, c.response.as_str()), (alg, want));
        let (nc, opaque) = (c.nc.as_deref(), c.opaque.as_deref());
        assert_eq!((nc, opaque), (Some("00000001"), Some("FQhe")));
        let h = ha1(alg, user, "http-auth@example.org", pw);
        assert_eq!(expected_response(alg, &h, "GET", &c).unwrap(), want);
    }
}

#[test]
fn algorithm_names() {
    assert_eq!("sha-256".parse(), Ok(Sha256));
    assert_eq!("Md5".parse(), Ok(Md5));
    assert_eq!((Md5.as_str(), Sha256.as_str()), ("MD5", "SHA-256"));
    for bad in ["MD5-sess", "SHA-256-sess", "SHA-512-256", ""] {
        assert_eq!(bad.parse::<Algorithm>(), Err(E::UnsupportedAlgorithm));
    }
}

#[test]
fn parse_quoting_whitespace_and_case() {
    let c = parse(
        "  dIgEsT\tUserName = \"a,b \\\"q\\\" \\\\ \\x é\" ,, REALM=\"r, s\",nonce=n1 ,\
         uri = \"sip:x@y;transport=tcp\", response=\"0123456789ABCDEF0123456789abcdef\", \
         foo=\"bar, \\\"baz\", bar=tok, Algorithm=md5, QOP=\"auth\", NC=0000000A, cnonce=c",
    );
    let c = c.unwrap();
    assert_eq!(c.username, "a,b \"q\" \\ x é");
    assert_eq!((c.realm.as_str(), c.nonce.as_str()), ("r, s", "n1"));
    assert_eq!(c.uri, "sip:x@y;transport=tcp");
    assert_eq!(c.response, "0123456789abcdef0123456789abcdef");
    assert_eq!(c.nc.as_deref(), Some("0000000A"));
    assert_eq!(parse(&c.to_string()).unwrap(), c, "Display round trip");
}

#[test]
fn parse_missing_and_invalid_params() {
    let full = r#"Digest username="u", realm="r", nonce="n", uri="sip:a", qop=auth,
            nc=00000001, cnonce="c", response="0123456789abcdef0123456789abcdef""#;
    assert!(parse(full).is_ok());
    for name in [
        "username", "realm", "nonce", "uri", "response", "cnonce", "nc",
    ] {
        let hdr = full.replace(&format!(" {name}="), " x-other=");
        assert_eq!(parse(&hdr), Err(E::MissingParam(name)));
    }
    let cases = [
        ("qop=auth", "qop=auth-int", E::UnsupportedQop),
        ("nc=00000001", "nc=1", E::InvalidParam("nc")),
        (
            "auth,",
            "auth, algorithm=SHA-256,",
            E::InvalidParam("response"),
        ),
        (
            "auth,",
            "auth, algorithm=MD5-sess,",
            E::UnsupportedAlgorithm,
        ),
        (
            "nonce=\"n\"",
            "nonce=\"n\", Nonce=m",
            E::DuplicateParam("nonce"),
        ),
    ];
    for (from, to, err) in cases {
        assert_eq!(parse(&full.replace(from, to)), Err(err), "{to}");
    }
}

#[test]
fn parse_garbage() {
    for hdr in [
        "",
        "Basic QWxhZGRpbjpvcGVu",
        "Digestusername=u",
        "Dig",
        "ééé",
    ] {
        assert_eq!(parse(hdr), Err(E::NotDigest), "{hdr}");
    }
    assert_eq!(parse("Digest"), Err(E::MissingParam("username")));
    let syntax = [
        "Digest username",
        "Digest username=",
        "Digest username=\"unterminated",
        "Digest username=\"trailing\\",
        "Digest username=a b=c",
        "Digest username=\"a\"x",
        "Digest =x",
        "Digest @=1",
    ];
    for hdr in syntax {
        assert_eq!(parse(hdr), Err(E::Syntax), "{hdr}");
    }
}

#[test]
fn errors_carry_no_header_data() {
    let hdr = r#"Digest username="secret", realm="r", nonce="n", uri="u", response="zz""#;
    let err = parse(hdr).unwrap_err();
    assert_eq!(err, E::InvalidParam("response"));
    let text = format!("{err} {err:?}");
    assert!(!text.contains("secret") && !text.contains("zz"), "{text}");
}

#[test]
fn nonce_valid_stale_tampered_wrong_key_garbage() {
    let key = NonceKey::from_bytes([7; 32]);
    let n = key.issue(1_000);
    assert_eq!(key.check(&n, 1_300, 300), NonceStatus::Valid);
    assert_eq!(key.check(&n, 1_301, 300), NonceStatus::Stale);
    assert_eq!(
        key.check(&n, 950, 300),
        NonceStatus::Valid,
        "small clock skew"
    );
    assert_eq!(
        key.check(&n, 900, 300),
        NonceStatus::Invalid,
        "from the future"
    );
    let other = NonceKey::from_bytes([8; 32]);
    assert_eq!(other.check(&n, 1_000, 300), NonceStatus::Invalid);
    let flip = if n.as_bytes()[15] == b'0' { "1" } else { "0" };
    let tampered = format!("{}{flip}{}", &n[..15], &n[16..]);
    let cut = &n[..n.len() - 2];
    let (long, no_dot) = (format!("{n}00"), n.replace('.', ""));
    for bad in ["", ".", "abc", "zz.zz", cut, &long, &no_dot, &tampered] {
        assert_eq!(key.check(bad, 1_000, 300), NonceStatus::Invalid, "{bad}");
    }
    assert_ne!(key.issue(1_000), key.issue(1_000), "same second, new nonce");
    assert_eq!(format!("{key:?}"), "NonceKey(..)");
    let random = NonceKey::random().unwrap();
    assert_eq!(random.check(&random.issue(5), 5, 1), NonceStatus::Valid);
}

#[test]
fn challenge_format() {
    let c = challenge("hot\"line", Sha256, "abc", Some("o"), true);
    let want = r#"Digest realm="hot\"line", nonce="abc", algorithm=SHA-256, qop="auth""#;
    assert_eq!(c, format!("{want}, stale=true, opaque=\"o\""));
    let c = challenge("r\r\n", Md5, "abc", None, false);
    assert_eq!(
        c,
        want.replace("hot\\\"line", "r").replace("SHA-256", "MD5")
    );
}

fn login(chal: &str, method: &str, password: &str) -> Credentials {
    let uri = "sip:hotline.example";
    let hdr = answer_challenge(chal, method, uri, "lawyer1", password, "cn", 1);
    parse(&hdr.unwrap()).unwrap()
}

#[test]
fn verifier_ok_wrong_password_stale() {
    let v = Verifier::new(NonceKey::from_bytes([1; 32]), "hotline", 300);
    let [sha, md5] = v.challenges(10_000, false, [Algorithm::Sha256, Algorithm::Md5]);
    for (chal, alg) in [(&sha, Sha256), (&md5, Md5)] {
        assert!(chal.contains(&format!("algorithm={alg},")));
        let stored = ha1(alg, "lawyer1", v.realm(), "pw");
        let good = login(chal, "REGISTER", "pw");
        let bad = login(chal, "REGISTER", "nope");
        let verify = |c, method, now| v.verify(c, method, &stored, now);
        assert_eq!(verify(&good, "REGISTER", 10_100), Verdict::Ok);
        assert_eq!(verify(&good, "INVITE", 10_100), Verdict::BadPassword);
        assert_eq!(verify(&bad, "REGISTER", 10_100), Verdict::BadPassword);
        assert_eq!(verify(&good, "REGISTER", 10_301), Verdict::Stale);
        assert_eq!(verify(&bad, "REGISTER", 10_301), Verdict::BadPassword);
    }
}

#[test]
fn verifier_wrong_realm_forged_nonce_rfc2069() {
    let key = NonceKey::from_bytes([1; 32]);
    let v = Verifier::new(key.clone(), "hotline", 300);
    let stored = ha1(Md5, "lawyer1", "hotline", "pw");
    let verify = |c: &Credentials| v.verify(c, "BYE", &stored, 1);
    let other = challenge("other", Md5, &key.issue(0), None, false);
    let wrong_realm = Verdict::Malformed(E::WrongRealm);
    assert_eq!(verify(&login(&other, "BYE", "pw")), wrong_realm);
    let forged = NonceKey::from_bytes([2; 32]).issue(0);
    let chal = challenge("hotline", Md5, &forged, None, false);
    assert_eq!(verify(&login(&chal, "BYE", "pw")), Verdict::Stale);
    assert_eq!(verify(&login(&chal, "BYE", "x")), Verdict::BadPassword);
    let rfc2069 = format!("Digest realm=hotline, nonce=\"{}\"", key.issue(0));
    let c = login(&rfc2069, "BYE", "pw");
    assert_eq!((&c.qop, &c.cnonce, &c.nc), (&None, &None, &None));
    assert_eq!(verify(&c), Verdict::Ok, "RFC 2069 mode");
    let only_int = "Digest realm=\"hotline\", nonce=\"n\", qop=\"auth-int\"";
    let r = answer_challenge(only_int, "BYE", "sip:h", "u", "p", "c", 1);
    assert_eq!(r, Err(E::UnsupportedQop));
}

fn ip(n: u8) -> IpAddr {
    IpAddr::from([192, 0, 2, n])
}

#[test]
fn throttle_blocks_then_unblocks() {
    let t0 = Instant::now();
    let mut t = FailureThrottle::new(3, 60 * SEC, 300 * SEC);
    for i in 0..3 {
        assert!(!t.is_blocked(ip(1), t0 + i * SEC));
        t.record_failure(ip(1), t0 + i * SEC);
    }
    assert!(t.is_blocked(ip(1), t0 + 2 * SEC));
    assert!(!t.is_blocked(ip(2), t0 + 2 * SEC));
    t.record_failure(ip(1), t0 + 200 * SEC);
    assert!(t.is_blocked(ip(1), t0 + 301 * SEC), "block not extended");
    assert!(!t.is_blocked(ip(1), t0 + 302 * SEC));
    assert!(t.entries.is_empty(), "expired entry forgotten on access");
    t.record_failure(ip(1), t0 + 303 * SEC);
    assert!(!t.is_blocked(ip(1), t0 + 303 * SEC), "count restarts");
}

#[test]
fn throttle_window_and_success() {
    let t0 = Instant::now();
    let mut t = FailureThrottle::new(3, 60 * SEC, 300 * SEC);
    for s in [0, 1, 61, 62] {
        t.record_failure(ip(1), t0 + s * SEC);
    }
    assert!(
        !t.is_blocked(ip(1), t0 + 62 * SEC),
        "old failures forgotten"
    );
    t.record_success(ip(1));
    for s in [63, 64] {
        t.record_failure(ip(1), t0 + s * SEC);
    }
    assert!(!t.is_blocked(ip(1), t0 + 64 * SEC), "success cleared count");
    t.record_failure(ip(1), t0 + 65 * SEC);
    t.record_success(ip(1));
    assert!(t.is_blocked(ip(1), t0 + 66 * SEC), "success keeps a block");
    t.prune(t0 + 1_000 * SEC);
    assert!(t.entries.is_empty());
}

#[test]
fn throttle_memory_cap() {
    let t0 = Instant::now();
    let mut t = FailureThrottle::new(2, 60 * SEC, 300 * SEC).with_max_entries(3);
    for n in 0..50 {
        t.record_failure(ip(n), t0);
        assert!(t.entries.len() <= 3);
    }
    let mut t = FailureThrottle::new(1, 60 * SEC, 300 * SEC).with_max_entries(2);
    for n in 1..=3 {
        t.record_failure(ip(n), t0);
    }
    assert!(
        t.is_blocked(ip(1), t0) && t.is_blocked(ip(2), t0),
        "blocks kept"
    );
    assert!(!t.is_blocked(ip(3), t0), "table full of blocked sources");
    t.record_failure(ip(3), t0 + 400 * SEC);
    assert_eq!(t.entries.len(), 1, "expired blocks pruned to make room");
    assert!(t.is_blocked(ip(3), t0 + 400 * SEC));
}

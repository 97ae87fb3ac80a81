//! Console users end to end with the real binary: a first start without users says how to
//! create the admin (and there is no default password), `hotline user add` refuses bad input
//! with a clear message, and the user it creates logs in over HTTP on 127.0.0.1 with a
//! hardened session cookie (`Secure` with `--cookie-secure`).

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{HOTLINE, Server, ServerOptions, hotline_with_password, http_get, store_args};

/// `hotline user add ARGS --data-dir ...`, the password on stdin; (success, stderr).
fn user_add(server: &Server, args: &[&str], password: &str) -> (bool, String) {
    let mut all: Vec<String> = ["user", "add"]
        .iter()
        .chain(args)
        .map(|a| a.to_string())
        .collect();
    all.extend(store_args(server));
    all.extend([
        "--dialplans".into(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/dialplans").into(),
    ]);
    let out = hotline_with_password(&all, password);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A JSON POST on 127.0.0.1; returns the raw response head and body.
fn post_json(port: u16, path: &str, body: &str) -> String {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn first_start_explains_the_first_admin_and_users_log_in() {
    let mut opts = ServerOptions::named("console-users");
    opts.extra_args = vec!["--cookie-secure".into()];
    let server = Server::start(opts);
    assert!(
        server.wait_for_log(
            "hotline user add admin --role admin --password-stdin",
            1,
            Duration::from_secs(10)
        ),
        "no first-start hint:\n{}",
        server.log_tail(40)
    );
    assert_eq!(http_get(server.http_port, "/api/me").unwrap(), 401);

    let (ok, err) = user_add(&server, &["x", "--role", "admin"], "a long password here");
    assert!(ok, "{err}");
    let (ok, err) = user_add(&server, &["x", "--role", "admin"], "a long password here");
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, err) = user_add(
        &server,
        &["y", "--role", "lawyer", "--lawyer", "nobody"],
        "a long password here",
    );
    assert!(!ok && err.contains("no lawyer \"nobody\""), "{err}");
    let (ok, err) = user_add(&server, &["y", "--role", "boss"], "a long password here");
    assert!(!ok && err.contains("unknown role"), "{err}");
    let (ok, err) = user_add(
        &server,
        &["y", "--role", "supervisor", "--region", "atlantis"],
        "a long password here",
    );
    assert!(!ok && err.contains("no region"), "{err}");
    let (ok, err) = user_add(&server, &["y", "--role", "admin"], "short");
    assert!(!ok && err.contains("at least 10"), "{err}");
    let (ok, err) = user_add(
        &server,
        &[
            "lai",
            "--role",
            "lawyer",
            "--lawyer",
            "lai-zhiming",
            "--lang",
            "en",
        ],
        "the lawyer's long password",
    );
    assert!(ok, "{err}");

    let mut child = Command::new(HOTLINE)
        .args(["user", "passwd", "lai", "--password-stdin", "--data-dir"])
        .arg(&server.data_dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "the lawyer's new password").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let old = post_json(
        server.http_port,
        "/api/login",
        r#"{"username":"lai","password":"the lawyer's long password"}"#,
    );
    assert!(old.starts_with("HTTP/1.1 401"), "{old}");

    let resp = post_json(
        server.http_port,
        "/api/login",
        r#"{"username":"lai","password":"the lawyer's new password"}"#,
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let cookie = resp
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {resp}"));
    for attr in [
        "hotline_session=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Secure",
    ] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(
        resp.contains(r#""lawyer_id":"lai-zhiming""#) && resp.contains(r#""lang":"en""#),
        "{resp}"
    );
    let wrong = post_json(
        server.http_port,
        "/api/login",
        r#"{"username":"lai","password":"guess"}"#,
    );
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    assert!(
        !server.log().contains("the lawyer's"),
        "a password reached the log"
    );
}

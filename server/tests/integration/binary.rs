//! The real `stepwise` binary: start-up, readiness, graceful shutdown, and a
//! failed migration stopping the server with a clear message.

use crate::common::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

fn get(addr: &str, path: &str) -> (u16, String) {
    get_with(addr, path, "")
}

fn get_with(addr: &str, path: &str, token: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {token}\r\n")
    };
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut res = String::new();
    s.read_to_string(&mut res).unwrap();
    let status = res[9..12].parse().unwrap();
    let body = res.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn starts_creates_its_database_seeds_the_example_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/folder/stepwise.db");
    let server = Server::start(&format!("sqlite://{}", file.display()), &[]);
    let addr = server.addr.clone();
    assert!(!addr.is_empty(), "no address logged");
    assert!(
        file.exists(),
        "the database file and its folders are created"
    );
    assert_eq!(get(&addr, "/healthz"), (200, "ok".into()));
    assert_eq!(get(&addr, "/readyz"), (200, "ready".into()));
    let (status, body) = get(&addr, "/api/v1/workflows");
    assert_eq!(status, 401, "the API needs a token or a session: {body}");
    let token = Server::admin_token(&format!("sqlite://{}", file.display()));
    let (status, body) = get_with(&addr, "/api/v1/workflows", &token);
    assert_eq!(status, 200);
    assert!(body.contains("Invoice approval"), "{body}");
    assert!(
        dir.path().join("nested/folder/secret.key").exists(),
        "the secret key is created next to the database"
    );
    // a page sends a new instance's first visitor to create the owner
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /workflows HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut res = String::new();
    s.read_to_string(&mut res).unwrap();
    assert!(res.starts_with("HTTP/1.1 303"), "{res}");
    assert!(res.to_lowercase().contains("location: /setup"), "{res}");

    server.signal("-TERM");
    let (status, log) = server.wait();
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
    assert!(log.contains("shutting down"), "{log}");
}

#[test]
fn a_failed_migration_stops_the_server_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.db");
    // A database whose migration history says the first migration was
    // applied with different contents: sqlx refuses to go on.
    let status = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c = sqlite3.connect('{}'); \
             c.execute('CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)'); \
             c.execute(\"INSERT INTO _sqlx_migrations VALUES (20261124000001, 'init', CURRENT_TIMESTAMP, 1, x'00', 0)\"); c.commit()",
            file.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    let server = Server::start(&format!("sqlite://{}", file.display()), &[]);
    assert!(server.addr.is_empty(), "the server must not listen");
    let (status, log) = server.wait();
    assert!(!status.success());
    assert!(
        log.contains("could not be migrated, so the server did not start"),
        "{log}"
    );
}

fn audit_verify(db_url: &str) -> (bool, String) {
    audit_verify_with(db_url, &[])
}

/// stdout and stderr together: a refused argument is reported on stderr.
fn audit_verify_with(db_url: &str, more: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["audit", "verify", "--database-url", db_url])
        .args(more)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs SQL on the database with Python's sqlite3, as someone with the
/// file in hand would (the append-only triggers dropped first).
fn tamper(file: &std::path::Path, sql: &str) {
    let status = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c = sqlite3.connect('{}'); \
             c.execute('DROP TRIGGER audit_events_no_update'); \
             c.execute('DROP TRIGGER audit_events_no_delete'); \
             c.execute(\"{sql}\"); c.commit()",
            file.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
}

/// A database in `dir` whose audit trail holds `events` events (one token
/// created per event, through the CLI); its file and URL.
fn trail(dir: &std::path::Path, name: &str, events: usize) -> (std::path::PathBuf, String) {
    let file = dir.join(name);
    let url = format!("sqlite://{}", file.display());
    for n in 0..events {
        let token = format!("t{n}");
        Server::cli(
            &[
                "token",
                "create",
                "--name",
                &token,
                "--role",
                "viewer",
                "--database-url",
                &url,
            ],
            &[],
        );
    }
    (file, url)
}

#[test]
fn audit_verify_names_the_first_broken_link() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str| trail(dir.path(), name, 4);
    let (_, intact) = make("intact.db");
    let (ok, out) = audit_verify(&intact);
    assert!(ok, "{out}");
    assert!(out.contains("intact: 4 events"), "{out}");

    let (file, changed) = make("changed.db");
    tamper(
        &file,
        "UPDATE audit_events SET actor = 'someone else' WHERE seq = 3",
    );
    let (ok, out) = audit_verify(&changed);
    assert!(!ok);
    assert!(
        out.contains("BROKEN at event 3: event 3 was changed after it was written"),
        "{out}"
    );

    let (file, deleted) = make("deleted.db");
    tamper(&file, "DELETE FROM audit_events WHERE seq = 2");
    let (ok, out) = audit_verify(&deleted);
    assert!(!ok);
    assert!(
        out.contains("BROKEN at event 2: event 2 is missing"),
        "{out}"
    );

    let (file, relinked) = make("relinked.db");
    tamper(
        &file,
        "UPDATE audit_events SET prev_hash = 'x' WHERE seq = 4",
    );
    let (ok, out) = audit_verify(&relinked);
    assert!(!ok);
    assert!(out.contains("BROKEN at event 4"), "{out}");
}

/// Removing the newest events leaves a chain that is intact on its own; the
/// head printed by an earlier verify, given back as the anchor, finds it.
#[test]
fn an_anchor_from_an_earlier_verify_finds_removed_newest_events() {
    let dir = tempfile::tempdir().unwrap();
    let (file, url) = trail(dir.path(), "anchored.db", 3);
    let (ok, out) = audit_verify(&url);
    assert!(ok, "{out}");
    let head = out
        .lines()
        .find_map(|l| l.strip_prefix("head: "))
        .unwrap_or_else(|| panic!("no head in {out}"))
        .to_string();
    assert!(head.starts_with("3:") && head.len() == 2 + 64, "{head}");
    let (ok, out) = audit_verify_with(&url, &["--anchor", &head]);
    assert!(ok, "the anchor holds on the untouched trail: {out}");

    tamper(&file, "DELETE FROM audit_events WHERE seq = 3");
    let (ok, out) = audit_verify(&url);
    assert!(
        ok,
        "without the anchor the shorter chain still checks out: {out}"
    );
    assert!(out.contains("intact: 2 events"), "{out}");
    let (ok, out) = audit_verify_with(&url, &["--anchor", &head]);
    assert!(!ok);
    assert!(
        out.contains("BROKEN at event 3: the trail ends at event 2, but the anchor names event 3"),
        "{out}"
    );

    // an anchor whose hash does not match the event with its number
    let other = format!("2:{}", "0".repeat(64));
    let (ok, out) = audit_verify_with(&url, &["--anchor", &other]);
    assert!(!ok);
    assert!(
        out.contains("BROKEN at event 2: event 2 is not the one the anchor names"),
        "{out}"
    );

    let (ok, out) = audit_verify_with(&url, &["--anchor", "yesterday"]);
    assert!(!ok);
    assert!(
        out.contains("the anchor 'yesterday' is not of the form SEQ:HASH"),
        "{out}"
    );
}

/// Sends a GET with `accept` as Accept-Encoding; the response's headers
/// (lower-cased names) and body bytes.
fn get_encoded(addr: &str, path: &str, accept: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: {accept}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut res = Vec::new();
    s.read_to_end(&mut res).unwrap();
    let split = res.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&res[..split]).to_lowercase();
    (head, res[split + 4..].to_vec())
}

/// The bytes of an HTTP/1.1 chunked body.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..line]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[line + 2..line + 2 + size]);
        b = &b[line + 2 + size + 2..];
    }
}

#[test]
fn front_end_files_are_sent_precompressed_to_browsers_that_accept_it() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let name = "stepwise.Zq3xT0aaBBccDDeeFF.wasm";
    std::fs::write(pkg.join(name), vec![b'a'; 4096]).unwrap();
    std::fs::write(pkg.join(format!("{name}.br")), b"brotli bytes").unwrap();
    std::fs::write(pkg.join(format!("{name}.gz")), b"gzip bytes").unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let site = dir.path().display().to_string();
    let server = Server::start(&db, &["--site-root", &site, "--no-example"]);
    let path = format!("/pkg/{name}");

    let (head, body) = get_encoded(&server.addr, &path, "gzip, deflate, br");
    assert!(head.contains("content-encoding: br"), "{head}");
    assert_eq!(body, b"brotli bytes");
    assert!(head.contains("vary: accept-encoding"), "{head}");
    let (head, body) = get_encoded(&server.addr, &path, "gzip");
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert_eq!(body, b"gzip bytes");
    let (head, body) = get_encoded(&server.addr, &path, "identity");
    assert!(!head.contains("content-encoding"), "{head}");
    assert_eq!(body.len(), 4096);
    // not this build's hash (the test binary's hash.txt names others): asked about
    assert!(head.contains("cache-control: no-cache"), "{head}");
    // pages are compressed as they are sent; without Accept-Encoding, not
    let (head, body) = get_encoded(&server.addr, "/login", "br");
    assert!(head.contains("content-encoding: br"), "{head}");
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(&body)
    } else {
        body
    };
    let mut html = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut html).expect("a brotli stream");
    assert!(String::from_utf8_lossy(&html).contains("<html"), "a page");
    let (head, _) = get_encoded(&server.addr, "/login", "identity");
    assert!(!head.contains("content-encoding"), "{head}");
}

/// An open page's live-update stream never ends by itself: SIGTERM must
/// end it, or the server would wait for it forever instead of stopping.
#[test]
fn sigterm_stops_the_server_while_a_page_listens_for_changes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let token = Server::admin_token(&url);
    let server = Server::start(&url, &["--no-example"]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    write!(
        s,
        "GET /events?topics=approvals HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\r\n",
        server.addr
    )
    .unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head[9..12], b"200");
    server.signal("-TERM");
    let started = std::time::Instant::now();
    let (status, log) = server.wait();
    assert!(status.success(), "{log}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{log}"
    );
    assert!(log.contains("stopped"), "{log}");
}

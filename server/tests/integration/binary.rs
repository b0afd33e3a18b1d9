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
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["audit", "verify", "--database-url", db_url])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
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

#[test]
fn audit_verify_names_the_first_broken_link() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str| {
        let file = dir.path().join(name);
        let url = format!("sqlite://{}", file.display());
        for n in ["a", "b", "c", "d"] {
            Server::cli(
                &[
                    "token",
                    "create",
                    "--name",
                    n,
                    "--role",
                    "viewer",
                    "--database-url",
                    &url,
                ],
                &[],
            );
        }
        (file, url)
    };
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

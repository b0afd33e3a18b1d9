//! The real `stepwise` binary: start-up, readiness, graceful shutdown, and a
//! failed migration stopping the server with a clear message.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn start(db_url: &str) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", db_url])
        .env("STEPWISE_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if let Some(addr) = line.split("listening on http://").nth(1) {
                let _ = tx.send(addr.trim().to_string());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let addr = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    (child, addr, reader)
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut res = String::new();
    s.read_to_string(&mut res).unwrap();
    let status = res[9..12].parse().unwrap();
    let body = res.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn starts_creates_its_database_seeds_the_example_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/folder/stepwise.db");
    let (mut child, addr, log) = start(&format!("sqlite://{}", file.display()));
    assert!(!addr.is_empty(), "no address logged");
    assert!(
        file.exists(),
        "the database file and its folders are created"
    );
    assert_eq!(get(&addr, "/healthz"), (200, "ok".into()));
    assert_eq!(get(&addr, "/readyz"), (200, "ready".into()));
    let (status, body) = get(&addr, "/api/v1/workflows");
    assert_eq!(status, 200);
    assert!(body.contains("Invoice approval"), "{body}");

    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = wait_exit(&mut child);
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
    let log = log.join().unwrap();
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
    let (mut child, addr, log) = start(&format!("sqlite://{}", file.display()));
    assert!(addr.is_empty(), "the server must not listen");
    let status = wait_exit(&mut child);
    assert!(!status.success());
    let log = log.join().unwrap();
    assert!(
        log.contains("could not be migrated, so the server did not start"),
        "{log}"
    );
}

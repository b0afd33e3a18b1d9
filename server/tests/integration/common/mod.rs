//! Starting the real `stepwise` binary for tests.

#![allow(dead_code)]

pub mod model_server;
pub mod openapi;
pub mod receiver;
pub mod smtp;
pub mod world;

/// The URL of a fresh database for one test: a SQLite file `name` in
/// `dir`, or a new database on the throwaway PostgreSQL cluster when the
/// suite runs on PostgreSQL (`crate::postgres::chosen`).
pub async fn fresh_db_url(dir: &std::path::Path, name: &str) -> String {
    if crate::postgres::chosen() {
        crate::postgres::fresh_database().await
    } else {
        format!("sqlite://{}", dir.join(name).display())
    }
}

/// A client that sends `token` as a bearer token with every request.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A fresh, migrated database for one test (see `fresh_db_url`).
pub async fn fresh_db(dir: &std::path::Path) -> app::store::Db {
    migrated(&fresh_db_url(dir, "test.db").await).await
}

/// The database at `url`, opened and migrated.
pub async fn migrated(url: &str) -> app::store::Db {
    let db = app::store::Db::connect(url, app::store::Durability::Normal)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db
}

/// An engine as the server builds one, for tests: evaluations in children
/// of the real `stepwise` binary (this test binary has no sandbox command),
/// and Http steps allowed to call this machine's loopback receivers.
/// An engine on the real clock with a minute's lease, shared (what a
/// served router takes).
pub fn live_engine(db: &app::store::Db) -> std::sync::Arc<server::engine::Engine> {
    std::sync::Arc::new(engine(
        db.clone(),
        std::sync::Arc::new(server::engine::SystemClock),
        60_000,
    ))
}

pub fn engine(
    db: app::store::Db,
    clock: std::sync::Arc<dyn server::engine::Clock>,
    lease_ms: i64,
) -> server::engine::Engine {
    server::engine::Engine::new(db, clock, lease_ms)
        .with_sandbox(sandbox())
        .with_outbound(server::outbound::Outbound::new(
            "127.0.0.1".parse().unwrap(),
            4 * 1024 * 1024,
        ))
}

/// The router's state for tests that serve it in-process: `engine` on
/// `db`, the site root in `dir`, a fixed sealing key.
pub fn app_state(
    db: &app::store::Db,
    engine: std::sync::Arc<server::engine::Engine>,
    dir: &std::path::Path,
) -> server::routes::AppState {
    server::routes::AppState {
        deliveries: app::ops::triggers::Deliveries::new(engine.changes()),
        metrics: server::metrics::Access::Token,
        db: db.clone(),
        leptos_options: leptos::config::LeptosOptions::builder()
            .output_name("stepwise")
            .site_root(dir.to_string_lossy().to_string())
            .build(),
        engine,
        sealer: app::security::Sealer::new([7; 32]),
        secure_cookies: false,
        demo: false,
        hashes: Default::default(),
    }
}

/// A new admin API token on `db` (its secret).
pub async fn admin_token(db: &app::store::Db) -> String {
    app::ops::accounts::create_token(db, "tests", "tests", app::domain::auth::Role::Admin, 1)
        .await
        .unwrap()
        .secret
}

/// A sandbox pool of children of the real binary. One per engine: a
/// child's pipes belong to the runtime that started it, and each test has
/// its own runtime.
pub fn sandbox() -> std::sync::Arc<server::sandbox::Sandbox> {
    std::sync::Arc::new(server::sandbox::Sandbox::new(sandbox_config()))
}

pub fn sandbox_config() -> server::sandbox::SandboxConfig {
    server::sandbox::SandboxConfig {
        program: env!("CARGO_BIN_EXE_stepwise").into(),
        ..Default::default()
    }
}

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    /// `127.0.0.1:port`, empty if it never listened.
    pub addr: String,
    log: Option<std::thread::JoinHandle<String>>,
}

/// The secret key of the PostgreSQL instances the tests start.
pub const TEST_KEY: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

impl Server {
    /// Starts `stepwise serve` on a free port with `db_url` and `extra` args,
    /// and waits (up to 30 s) until it logs its address.
    pub fn start(db_url: &str, extra: &[&str]) -> Server {
        Server::start_with_env(db_url, extra, &[])
    }

    /// `start` with environment variables set for the server.
    pub fn start_with_env(db_url: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stepwise"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", db_url])
            .args(extra)
            .env("STEPWISE_LOG", "info")
            // every process of a PostgreSQL instance is given the same key
            .envs(app::store::db::is_postgres(db_url).then_some(("STEPWISE_SECRET_KEY", TEST_KEY)))
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::thread::spawn(move || {
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
        Server {
            child,
            addr,
            log: Some(log),
        }
    }

    /// Runs a `stepwise` command (`token create`, `secret set`, ...) with
    /// `env` set; returns its standard output, trimmed.
    pub fn cli(args: &[&str], env: &[(&str, &str)]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// An admin API token for the database at `db_url`.
    pub fn admin_token(db_url: &str) -> String {
        Server::cli(
            &[
                "token",
                "create",
                "--name",
                "tests",
                "--role",
                "admin",
                "--database-url",
                db_url,
            ],
            &[],
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits for the process to end and returns its status and log.
    pub fn wait(mut self) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        let log = self.log.take().unwrap().join().unwrap();
        (status, log)
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

/// A server a test did not stop is killed, never left running.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

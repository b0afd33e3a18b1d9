//! The servers a workload runs against: one or more `stepwise serve`
//! processes on a new database (a SQLite file, or with `BENCH_PG_URL` a new
//! PostgreSQL database), and API clients for them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Server {
    children: Vec<Child>,
    /// The first process's address (every process's in `bases`).
    pub base: String,
    pub bases: Vec<String>,
    pub token: String,
    pub db: String,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start(bin: &str) -> Server {
        Server::start_with(bin, &[])
    }

    /// [`Server::start`] with more `serve` flags.
    pub fn start_with(bin: &str, flags: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = match pg_server() {
            Some(url) => fresh_pg_database(&url),
            None => format!("sqlite://{}", dir.path().join("bench.db").display()),
        };
        let token = make_token(bin, &db, "admin");
        let (mut children, mut bases) = (Vec::new(), Vec::new());
        for _ in 0..processes() {
            let (child, base) = spawn(bin, &db, flags);
            children.push(child);
            bases.push(base);
        }
        Server {
            children,
            base: bases[0].clone(),
            bases,
            token,
            db,
            _dir: dir,
        }
    }
}

/// Starts one `stepwise serve` on `db`; the process and its address.
fn spawn(bin: &str, db: &str, flags: &[&str]) -> (Child, String) {
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            db,
            "--no-example",
        ])
        .args(flags)
        // BENCH_SERVER_LOG=warn,sqlx::query=debug: the server's log (here,
        // every statement) goes to the bench's standard error
        .env("STEPWISE_LOG", server_log())
        .env("STEPWISE_SECRET_KEY", BENCH_KEY)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the stepwise binary");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(a) = line.split("listening on ").nth(1) {
            break a.trim().to_string();
        }
    };
    let echo = std::env::var_os("BENCH_SERVER_LOG").is_some();
    std::thread::spawn(move || {
        for line in lines.map_while(|l| l.ok()) {
            if echo {
                eprintln!("{line}");
            }
        }
    });
    (child, base)
}

impl Server {
    /// The bench's database, opened beside the server (to wait for it or
    /// to fill it faster than the API would).
    pub async fn open_db(&self) -> app::store::Db {
        app::store::Db::connect(&self.db, app::store::Durability::Normal)
            .await
            .expect("open the bench database")
    }

    /// A client that sends the bench's admin API token.
    pub fn client(&self) -> reqwest::Client {
        client_with(&self.token)
    }

    /// A client with a new token of `role`, made while the server runs.
    pub fn client_as(&self, bin: &str, role: &str) -> reqwest::Client {
        client_with(&make_token(bin, &self.db, role))
    }

    /// CPU time the first process and its sandbox children have used so
    /// far, in seconds: steadier than wall time on a shared machine.
    pub fn cpu_s(&self) -> f64 {
        let pid = self.children[0].id();
        let mut total = cpu_of(pid).map_or(0.0, |(_, t)| t);
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            if let Some((parent, t)) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
                .and_then(cpu_of)
                && parent == pid
            {
                total += t;
            }
        }
        total
    }

    pub fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.children[0].id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| (kb / 1024.0 * 10.0).round() / 10.0)
            .unwrap_or(0.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A process's parent and the CPU seconds it has used (user and system).
fn cpu_of(pid: u32) -> Option<(u32, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the fields after the command's closing parenthesis: state, ppid, ...
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let num = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    // SAFETY: sysconf reads a constant of the system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some((num(1)? as u32, (num(11)? + num(12)?) / hz))
}

/// The server's log filter. The bench learns the server's address from its
/// "listening on" line (target `stepwise`, level info), so a filter given in
/// `BENCH_SERVER_LOG` that says nothing of `stepwise` gets `stepwise=info`
/// added: without it the bench waited forever.
fn server_log() -> String {
    match std::env::var("BENCH_SERVER_LOG") {
        Ok(f) if f.contains("stepwise") => f,
        Ok(f) => format!("{f},stepwise=info"),
        Err(_) => "warn,stepwise=info".into(),
    }
}

const BENCH_KEY: &str = "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b";

/// `BENCH_PG_URL=postgres://…/db`: every workload on a new database of that
/// PostgreSQL server instead of a SQLite file.
fn pg_server() -> Option<String> {
    std::env::var("BENCH_PG_URL").ok().filter(|u| !u.is_empty())
}

/// `BENCH_PROCESSES=3`: that many processes share the (PostgreSQL)
/// database, and the clients spread their requests over them.
pub fn processes() -> usize {
    std::env::var("BENCH_PROCESSES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1)
}

pub fn backend() -> &'static str {
    if pg_server().is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A new database on the server of `url`; its URL.
fn fresh_pg_database(url: &str) -> String {
    let name = format!("bench_{}", uuid::Uuid::now_v7().simple());
    let out = Command::new("psql")
        .args([url, "-qc", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (server, _) = url.rsplit_once('/').expect("a URL ends with its database");
    format!("{server}/{name}")
}

/// A new API token of `role` for the database at `db`, made with the CLI.
pub fn make_token(bin: &str, db: &str, role: &str) -> String {
    let out = Command::new(bin)
        .args([
            "token",
            "create",
            "--name",
            role,
            "--role",
            role,
            "--database-url",
            db,
        ])
        .output()
        .expect("create an API token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub fn client_with(token: &str) -> reqwest::Client {
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

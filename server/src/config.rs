//! Command line and environment.

use app::store::Durability;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;

#[derive(Debug, Parser)]
#[command(name = "stepwise", version, about = "Self-hosted workflow automation")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options for `serve`, which runs when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage secrets for Http steps.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy a whole instance into a new, empty database: workflows and
    /// their versions, runs, approval items, users, tokens, secrets, model
    /// connections, triggers and the audit trail (which still verifies).
    /// Stop the servers first; the new instance needs the same secret key.
    Copy(CopyArgs),
    /// A consistent copy of a running SQLite instance into a new file
    /// (SQLite's VACUUM INTO), with the secret key's fingerprint; its audit
    /// trail is verified. For PostgreSQL use pg_dump (see the README).
    Backup(BackupArgs),
    /// Replace a stopped SQLite instance's database with a backup, after
    /// checking the backup (integrity, audit trail) and that the secret
    /// key is the one the backup was made with.
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new backup file (it must not exist yet).
    #[arg(long)]
    pub to: std::path::PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// As for `serve`.
    #[arg(long, env = "STEPWISE_SECRET_KEY_FILE")]
    pub secret_key_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file `stepwise backup` wrote.
    #[arg(long)]
    pub from: std::path::PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// As for `serve`: the key kept with the backup.
    #[arg(long, env = "STEPWISE_SECRET_KEY_FILE")]
    pub secret_key_file: Option<std::path::PathBuf>,
    /// Replace an existing database (stop every server using it first).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The instance to copy, e.g. sqlite://data/stepwise.db
    #[arg(long)]
    pub from: String,
    /// The new database, e.g. postgres://stepwise:…@db.internal/stepwise
    /// (it must exist and hold nothing yet).
    #[arg(long)]
    pub to: String,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit 1 and name the first broken link if
    /// an event was changed or deleted.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// `SEQ:HASH` printed by an earlier verify as the head: that event
        /// must still be there, unchanged (finds removed newest events).
        #[arg(long, value_name = "SEQ:HASH")]
        anchor: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Save a secret (sealed with the instance key). The value is read from
    /// STEPWISE_SECRET_VALUE, or from the first line of standard input.
    Set {
        /// e.g. LEDGER_API_KEY; used in templates as {{ secrets.LEDGER_API_KEY }}.
        #[arg(long)]
        name: String,
        /// Where it may be sent: host names (`*.` for every name below),
        /// addresses or networks, each optionally with `:port`, separated
        /// by commas (e.g. `ledger.example.com,10.0.0.5:8443`).
        #[arg(long)]
        hosts: String,
        #[command(flatten)]
        db: DbArgs,
        /// As for `serve`.
        #[arg(long, env = "STEPWISE_SECRET_KEY_FILE")]
        secret_key_file: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from STEPWISE_PASSWORD, or from
    /// the first line of standard input.
    Create {
        #[arg(long)]
        username: String,
        /// admin, editor, approver or viewer.
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long, default_value = "")]
        display_name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it (it is shown only this once).
    Create {
        /// Where the token is used, e.g. "billing system".
        #[arg(long)]
        name: String,
        /// admin, editor, approver or viewer.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Clone, Debug, Args)]
pub struct DbArgs {
    #[arg(
        long,
        env = "STEPWISE_DATABASE_URL",
        default_value = "sqlite://data/stepwise.db"
    )]
    pub database_url: String,
}

#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen address is logged).
    #[arg(long, env = "STEPWISE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Database URL; the SQLite file and its folder are created on first start.
    #[arg(
        long,
        env = "STEPWISE_DATABASE_URL",
        default_value = "sqlite://data/stepwise.db"
    )]
    pub database_url: String,
    /// `normal` survives a process crash; `full` also survives power loss
    /// (an fsync per commit).
    #[arg(long, env = "STEPWISE_DURABILITY", default_value = "normal", value_parser = parse_durability)]
    pub durability: Durability,
    /// Folder with the built web assets (`pkg/`, favicon).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "STEPWISE_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Engine workers running steps at the same time.
    #[arg(long, env = "STEPWISE_WORKERS", default_value_t = 4)]
    pub workers: usize,
    /// How long a step's claim lasts without a heartbeat (ms). A running
    /// step renews it every third of this, so it bounds how soon the steps
    /// of a process that died run elsewhere, not how long a step may take.
    #[arg(long, env = "STEPWISE_LEASE_MS", default_value_t = 15_000, value_parser = clap::value_parser!(i64).range(300..=3_600_000))]
    pub lease_ms: i64,
    /// The longest any step may run (ms); a node's own timeout may be
    /// shorter. Past it the attempt fails as timed out.
    #[arg(long, env = "STEPWISE_STEP_TIMEOUT_MS", default_value_t = 300_000, value_parser = clap::value_parser!(i64).range(100..=86_400_000))]
    pub step_timeout_ms: i64,
    /// Run every step on its own claim, with no pure stretch evaluated
    /// ahead: the simple path the bench compares the fast one against.
    #[arg(long, hide = true)]
    pub simple_engine: bool,
    /// On SIGTERM or Ctrl+C: how long running steps and requests in flight
    /// get to finish (ms) before the steps still running are released to
    /// run again and the process exits.
    #[arg(long, env = "STEPWISE_SHUTDOWN_GRACE_MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub shutdown_grace_ms: u64,
    /// Days finished runs are kept when their workflow sets no retention
    /// of its own (0: kept for ever). The audit trail is always kept.
    #[arg(long, env = "STEPWISE_RETENTION_DAYS", default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..=36_500))]
    pub retention_days: i64,
    /// How often finished runs past their retention are deleted (ms).
    #[arg(long, env = "STEPWISE_RETENTION_EVERY_MS", default_value_t = 600_000, value_parser = clap::value_parser!(u64).range(200..=86_400_000))]
    pub retention_every_ms: u64,
    /// How often to look for steps whose worker died and runs past their
    /// timeout (ms).
    #[arg(long, env = "STEPWISE_RECOVERY_MS", default_value_t = 2_000)]
    pub recovery_ms: u64,
    /// Do not add the example workflow to a new database.
    #[arg(long, env = "STEPWISE_NO_EXAMPLE")]
    pub no_example: bool,
    /// The key that seals secrets (default: `secret.key` next to the
    /// database file): created on first start, readable by the owner only,
    /// unless STEPWISE_SECRET_KEY (64 hex digits) is set. Back it up with the
    /// database: without it, stored secrets cannot be opened.
    #[arg(long, env = "STEPWISE_SECRET_KEY_FILE")]
    pub secret_key_file: Option<std::path::PathBuf>,
    /// Send the session cookie only over HTTPS; set this when Stepwise is
    /// served over HTTPS (for example behind a TLS proxy).
    #[arg(long, env = "STEPWISE_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Who may read Prometheus metrics at `/metrics`: `token` (any API
    /// token or signed-in person, a viewer's is enough), `public` (anyone
    /// who reaches the port: for a scraper on a private network) or `off`.
    #[arg(long, env = "STEPWISE_METRICS", value_enum, default_value_t = crate::metrics::Access::Token)]
    pub metrics: crate::metrics::Access,
    /// Internal hosts Http steps may call: loopback, private, link-local
    /// and other inside addresses are refused unless listed here. Names
    /// (`ledger.internal`, `*.corp.example`), addresses or networks
    /// (`10.0.0.5`, `10.0.0.0/8`, `[fd00::1]`), each optionally with
    /// `:port`, separated by commas.
    #[arg(long, env = "STEPWISE_ALLOW_HOSTS", default_value = "", value_parser = parse_hosts)]
    pub allow_hosts: app::domain::outbound::HostList,
    /// Largest Http response body a step reads, in bytes.
    #[arg(long, env = "STEPWISE_MAX_RESPONSE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_response_bytes: usize,
    /// Longest one expression or template may run (ms) before it is stopped.
    #[arg(long, env = "STEPWISE_EVAL_TIMEOUT_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub eval_timeout_ms: u64,
    /// Memory one evaluation process may use (MB).
    #[arg(long, env = "STEPWISE_EVAL_MEMORY_MB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(16..=8192))]
    pub eval_memory_mb: u64,
    /// Evaluation processes (expressions and templates evaluated at once).
    #[arg(long, env = "STEPWISE_SANDBOX_WORKERS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub sandbox_workers: u64,
    /// How often alert rules are checked and undelivered notices retried (ms).
    #[arg(long, env = "STEPWISE_ALERTS_EVERY_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(200..=3_600_000))]
    pub alerts_every_ms: u64,
    /// How often approval items are checked for people to tell and
    /// notifications are sent or retried (ms).
    #[arg(long, env = "STEPWISE_NOTIFY_EVERY_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub notify_every_ms: u64,
    /// The hour of the day (UTC) daily digests are sent.
    #[arg(long, env = "STEPWISE_DIGEST_HOUR", default_value_t = 8, value_parser = clap::value_parser!(u32).range(0..=23))]
    pub digest_hour: u32,
    /// The address people reach this server at (for links in
    /// notifications and alert notices); the listening address when not set.
    #[arg(long, env = "STEPWISE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve the stand-in services under /demo (a ledger, a flaky service)
    /// that the example workflow calls; off unless asked for.
    #[arg(long, env = "STEPWISE_DEMO")]
    pub demo: bool,
}

fn parse_hosts(s: &str) -> Result<app::domain::outbound::HostList, String> {
    s.parse()
}

fn parse_durability(s: &str) -> Result<Durability, String> {
    s.parse()
}

#[derive(Clone, Debug, Args)]
pub struct LogArgs {
    /// Log filter: a level (`info`, `debug`) or directives (`stepwise=debug,sqlx=warn`).
    #[arg(long, env = "STEPWISE_LOG", default_value = "info", global = true)]
    pub log_level: String,
    /// `text` for people, `json` for log collectors.
    #[arg(
        long,
        env = "STEPWISE_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl ServeArgs {
    pub fn key_file(&self) -> Result<std::path::PathBuf, String> {
        key_file(&self.database_url, self.secret_key_file.as_ref())
    }
}

/// The secret key file: the one given, else `secret.key` next to the
/// SQLite database. A PostgreSQL instance may run as many processes on
/// many machines, which must all have the same key: it is never made up
/// on the spot, so it must be given (here, or in STEPWISE_SECRET_KEY).
pub fn key_file(
    database_url: &str,
    given: Option<&std::path::PathBuf>,
) -> Result<std::path::PathBuf, String> {
    if let Some(f) = given {
        return Ok(f.clone());
    }
    if app::store::db::is_postgres(database_url) {
        if std::env::var("STEPWISE_SECRET_KEY").is_ok_and(|k| !k.trim().is_empty()) {
            // the key is given in the environment; no file is read
            return Ok("secret.key".into());
        }
        return Err(
            "on PostgreSQL every process needs the same secret key: give it in \
             STEPWISE_SECRET_KEY (64 hex digits, e.g. from `openssl rand -hex 32`) or \
             --secret-key-file (a file holding them), the same on every machine"
                .into(),
        );
    }
    Ok(sqlite_file(database_url)
        .and_then(|f| f.parent().map(|d| d.join("secret.key")))
        .unwrap_or_else(|| "secret.key".into()))
}

/// The file behind a SQLite URL, if it names one (not `:memory:`).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.starts_with(":memory:") {
        None
    } else {
        Some(path.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_is_the_default_command() {
        let cli = Cli::try_parse_from(["stepwise", "--listen", "127.0.0.1:0"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.listen.port(), 0);
        let cli = Cli::try_parse_from(["stepwise", "serve", "--durability", "full"]).unwrap();
        match cli.command {
            Some(Command::Serve(args)) => assert_eq!(args.durability, Durability::Full),
            other => panic!("{other:?}"),
        }
        let err = Cli::try_parse_from(["stepwise", "--durability", "maybe"]).unwrap_err();
        assert!(err.to_string().contains("'normal' or 'full'"), "{err}");
    }

    #[test]
    fn sqlite_file_paths() {
        assert_eq!(sqlite_file("sqlite://data/x.db"), Some("data/x.db".into()));
        assert_eq!(
            sqlite_file("sqlite:/tmp/a.db?mode=rwc"),
            Some("/tmp/a.db".into())
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
    }
}

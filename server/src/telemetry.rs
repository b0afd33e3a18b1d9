//! Logging set-up.

use crate::config::{LogArgs, LogFormat};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub fn init(args: &LogArgs) -> Result<(), String> {
    let mut filter = EnvFilter::try_new(&args.log_level)
        .map_err(|e| format!("invalid --log-level '{}': {e}", args.log_level))?;
    // PostgreSQL's notices ("relation ... already exists, skipping" while
    // migrating) are not news, unless asked for by name
    if !args.log_level.contains("sqlx") {
        filter = filter.add_directive("sqlx::postgres::notice=warn".parse().expect("a directive"));
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    }
    .map_err(|e| e.to_string())
}

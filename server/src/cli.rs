//! The command-line tasks besides serving: creating users and API tokens.

use crate::config::{
    AuditCommand, CopyArgs, SecretCommand, TokenCommand, UserCommand, key_file, sqlite_file,
};
use app::domain::auth::Role;
use app::store::{Db, Durability};

/// Opens (creating the folder if needed) and migrates the database;
/// `refused` says what did not happen if that fails.
pub async fn open_db(url: &str, durability: Durability, refused: &str) -> Result<Db, String> {
    if let Some(file) = sqlite_file(url)
        && let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the database folder {}: {e}", dir.display()))?;
    }
    let db = Db::connect(url, durability).await.map_err(|e| {
        format!(
            "cannot open the database {}: {e}",
            app::store::db::redacted(url)
        )
    })?;
    db.migrate().await.map_err(|e| {
        format!(
            "the database {} could not be migrated, so {refused}: {e}. \
             Restore a backup (stepwise restore) or point --database-url at a new database.",
            app::store::db::redacted(url)
        )
    })?;
    Ok(db)
}

/// From the environment variable `var`, else the first line of stdin.
fn read_value(var: &str, what: &str) -> Result<String, String> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the {what} from standard input: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn secret(c: SecretCommand) -> Result<(), String> {
    let SecretCommand::Set {
        name,
        hosts,
        db,
        secret_key_file,
    } = c;
    let sealer = app::security::Sealer::load(
        std::env::var("STEPWISE_SECRET_KEY").ok().as_deref(),
        &key_file(&db.database_url, secret_key_file.as_ref())?,
    )?;
    let db = open_db(&db.database_url, Durability::Normal, "nothing was done").await?;
    app::ops::key_check::check(&db, &sealer).await?;
    let value = read_value("STEPWISE_SECRET_VALUE", "secret's value")?;
    app::ops::secrets::set_secret(
        &db,
        &sealer,
        "cli",
        &name,
        &value,
        &hosts,
        app::ops::now_ms(),
    )
    .await
    .map_err(|e| e.message)?;
    eprintln!("saved secret {name}");
    Ok(())
}

pub async fn user(c: UserCommand) -> Result<(), String> {
    let UserCommand::Create {
        username,
        role,
        display_name,
        db,
    } = c;
    let role: Role = role.parse()?;
    let db = open_db(&db.database_url, Durability::Normal, "nothing was done").await?;
    let password = read_value("STEPWISE_PASSWORD", "password")?;
    let user = app::ops::accounts::create_user(
        &db,
        "cli",
        &username,
        &display_name,
        &password,
        role,
        app::ops::now_ms(),
    )
    .await
    .map_err(|e| e.message)?;
    println!(
        "created {} ({}) with role {}",
        user.username, user.id, user.role
    );
    Ok(())
}

pub async fn token(c: TokenCommand) -> Result<(), String> {
    let TokenCommand::Create { name, role, db } = c;
    let role: Role = role.parse()?;
    let db = open_db(&db.database_url, Durability::Normal, "nothing was done").await?;
    let t = app::ops::accounts::create_token(&db, "cli", &name, role, app::ops::now_ms())
        .await
        .map_err(|e| e.message)?;
    // only the token on standard output, so scripts can capture it
    println!("{}", t.secret);
    eprintln!(
        "created API token {} ({}) with role {role}; it is shown only this once",
        t.token.name, t.token.id
    );
    Ok(())
}

/// Ok(true) when the chain is intact.
pub async fn audit(c: AuditCommand) -> Result<bool, String> {
    let AuditCommand::Verify { db, anchor } = c;
    let anchor = anchor
        .as_deref()
        .map(app::domain::audit::Anchor::parse)
        .transpose()?;
    let db = open_db(&db.database_url, Durability::Normal, "nothing was checked").await?;
    let mut conn = db.acquire().await.map_err(|e| e.to_string())?;
    let report = app::store::audit::verify(&mut conn, anchor.as_ref())
        .await
        .map_err(|e| e.to_string())?;
    match (report.broken_at, report.reason) {
        (Some(seq), Some(reason)) => {
            println!(
                "BROKEN at event {seq}: {reason} ({} events before it are intact)",
                report.events
            );
            Ok(false)
        }
        _ => {
            println!("intact: {} events, every hash recomputed", report.events);
            if let Some(head) = report.head {
                println!(
                    "head: {head}\n(keep it outside this machine; `--anchor {head}` later shows whether newer events were removed)"
                );
            }
            Ok(true)
        }
    }
}

/// `stepwise copy`: the whole instance into a new database, then the
/// copy's audit trail verified.
pub async fn copy(c: CopyArgs) -> Result<(), String> {
    if c.from == c.to {
        return Err("--from and --to name the same database; nothing was copied".into());
    }
    let from = open_db(&c.from, Durability::Normal, "nothing was copied").await?;
    let to = open_db(&c.to, Durability::Full, "nothing was copied").await?;
    let mut last = std::time::Instant::now();
    let copied = app::store::copy::copy(&from, &to, |table, n| {
        if last.elapsed() > std::time::Duration::from_secs(2) {
            eprintln!("  {table}: {n} rows so far");
            last = std::time::Instant::now();
        }
    })
    .await
    .map_err(|e| format!("nothing was copied: {e}"))?;
    for (table, n) in &copied {
        eprintln!("  {table}: {n}");
    }
    let mut conn = to.acquire().await.map_err(|e| e.to_string())?;
    let report = app::store::audit::verify(&mut conn, None)
        .await
        .map_err(|e| e.to_string())?;
    if let (Some(seq), Some(reason)) = (report.broken_at, report.reason) {
        return Err(format!(
            "copied, but the copy's audit trail is broken at event {seq}: {reason} \
             (run `stepwise audit verify` on the source: it was copied as it is)"
        ));
    }
    println!(
        "copied {} into {}: {} rows; the audit trail verifies ({} events). \
         Start the new instance with the same secret key (STEPWISE_SECRET_KEY or the \
         secret.key file of the old one).",
        app::store::db::redacted(&c.from),
        app::store::db::redacted(&c.to),
        copied.iter().map(|(_, n)| n).sum::<u64>(),
        report.events
    );
    Ok(())
}

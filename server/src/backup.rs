//! `stepwise backup` and `stepwise restore` for SQLite instances.
//!
//! A backup is SQLite's `VACUUM INTO`: one read transaction, so a
//! consistent copy of a running instance (WAL lets the server go on
//! writing meanwhile), compacted. The copy is marked with the secret key's
//! fingerprint and when it was taken, and its audit trail is verified
//! before the command says it is done. A restore checks the backup
//! (integrity, audit trail) and that the key it is given opens the
//! backup's secrets, then replaces the database file in one rename.
//! PostgreSQL instances are backed up with `pg_dump` (see the README).

use crate::config::{BackupArgs, RestoreArgs, key_file, sqlite_file};
use app::security::Sealer;
use app::store::{Db, Durability};
use std::path::{Path, PathBuf};

const FINGERPRINT: &str = "backup_key_fingerprint";
const TAKEN_AT: &str = "backup_taken_at";

fn sqlite_only(url: &str, what: &str) -> Result<PathBuf, String> {
    if app::store::db::is_postgres(url) {
        return Err(format!(
            "{what} works on SQLite instances; for PostgreSQL use pg_dump --format=custom \
             (and pg_restore), and keep the instance's secret key with the dump"
        ));
    }
    sqlite_file(url).ok_or_else(|| format!("{what} needs a SQLite database file, not {url}"))
}

fn sealer(url: &str, given: Option<&PathBuf>) -> Result<Sealer, String> {
    Sealer::load_existing(
        std::env::var("STEPWISE_SECRET_KEY").ok().as_deref(),
        &key_file(url, given)?,
    )
}

async fn open(path: &Path) -> Result<Db, String> {
    Db::connect(&format!("sqlite://{}", path.display()), Durability::Full)
        .await
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// The key check and fingerprint a database keeps, if any.
async fn key_marks(db: &Db) -> Result<(Option<String>, Option<String>), String> {
    let check = db
        .meta(app::ops::key_check::META_KEY)
        .await
        .map_err(|e| e.to_string())?;
    let fingerprint = db.meta(FINGERPRINT).await.map_err(|e| e.to_string())?;
    Ok((check, fingerprint))
}

/// The audit trail verified, or what is wrong with it.
async fn verified(db: &Db, what: &str) -> Result<i64, String> {
    let mut conn = db.acquire().await.map_err(|e| e.to_string())?;
    let report = app::store::audit::verify(&mut conn, None)
        .await
        .map_err(|e| e.to_string())?;
    match (report.broken_at, report.reason) {
        (Some(seq), Some(reason)) => Err(format!(
            "{what}'s audit trail is broken at event {seq}: {reason}"
        )),
        _ => Ok(report.events),
    }
}

async fn count(db: &Db, table: &str) -> i64 {
    let Ok(mut conn) = db.acquire().await else {
        return 0;
    };
    app::store::conn::query_scalar(format!("SELECT COUNT(*) FROM {table}").as_str())
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0)
}

/// `stepwise backup --to FILE`.
pub async fn backup(a: BackupArgs) -> Result<(), String> {
    let url = &a.db.database_url;
    let source = sqlite_only(url, "stepwise backup")?;
    if a.to.exists() {
        return Err(format!(
            "{} already exists; name a new file (a backup never overwrites one)",
            a.to.display()
        ));
    }
    if !source.exists() {
        return Err(format!("there is no database at {}", source.display()));
    }
    let sealer = sealer(url, a.secret_key_file.as_ref())?;
    let db = Db::connect(url, Durability::Normal)
        .await
        .map_err(|e| format!("cannot open {}: {e}", source.display()))?;
    if let (Some(check), _) = key_marks(&db).await?
        && !app::ops::key_check::opens(&sealer, &check)
    {
        return Err("the secret key given is not this instance's (it does not open its secrets); a backup needs the instance's key to be restorable. Nothing was written".into());
    }
    let to = a.to.to_string_lossy().replace('\'', "''");
    {
        let mut conn = db.acquire().await.map_err(|e| e.to_string())?;
        app::store::conn::query(format!("VACUUM INTO '{to}'").as_str())
            .execute(&mut conn)
            .await
            .map_err(|e| format!("the backup failed: {e}"))?;
    }
    db.close().await;
    let copy = open(&a.to).await?;
    let mark = async {
        let mut tx = copy.write().await.map_err(|e| e.to_string())?;
        for (k, v) in [
            (FINGERPRINT, sealer.fingerprint().to_string()),
            (TAKEN_AT, app::ops::now_ms().to_string()),
        ] {
            app::store::set_meta(&mut tx, k, &v)
                .await
                .map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())
    };
    let checked = match mark.await {
        Ok(()) => verified(&copy, "the backup").await,
        Err(e) => Err(e),
    };
    let (runs, items) = (
        count(&copy, "runs").await,
        count(&copy, "approval_items").await,
    );
    copy.close().await;
    let events = match checked {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&a.to);
            return Err(format!("the backup was not kept: {e}"));
        }
    };
    println!(
        "backed up {} to {}: {runs} runs, {items} approval items, {events} audit events (the trail verifies). \
         Keep the secret key with it: its fingerprint is {}; a restore with another key is refused.",
        source.display(),
        a.to.display(),
        sealer.fingerprint()
    );
    Ok(())
}

/// `stepwise restore --from FILE`.
pub async fn restore(a: RestoreArgs) -> Result<(), String> {
    let url = &a.db.database_url;
    let target = sqlite_only(url, "stepwise restore")?;
    let refused = |why: String| format!("{why}; nothing was restored");
    if !a.from.is_file() {
        return Err(refused(format!(
            "there is no backup file at {}",
            a.from.display()
        )));
    }
    if target.exists() && !a.force {
        return Err(refused(format!(
            "{} exists; stop every server using it and pass --force to replace it",
            target.display()
        )));
    }
    let sealer = sealer(url, a.secret_key_file.as_ref()).map_err(refused)?;
    // check the backup where it is, then copy it beside the target
    let backup = open(&a.from).await.map_err(refused)?;
    let integrity: String = {
        let mut conn = backup.acquire().await.map_err(|e| e.to_string())?;
        app::store::conn::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| {
                refused(format!(
                    "{} is not a readable backup: {e}",
                    a.from.display()
                ))
            })?
    };
    if integrity != "ok" {
        return Err(refused(format!(
            "{} is damaged: {integrity}",
            a.from.display()
        )));
    }
    let (check, fingerprint) = key_marks(&backup).await.map_err(refused)?;
    if let Some(check) = &check
        && !app::ops::key_check::opens(&sealer, check)
    {
        return Err(refused(format!(
            "the secret key given (fingerprint {}) is not the one this backup was made with (fingerprint {}). \
             Restore with the key kept with the backup (--secret-key-file or STEPWISE_SECRET_KEY)",
            sealer.fingerprint(),
            fingerprint.as_deref().unwrap_or("not recorded")
        )));
    }
    let events = verified(&backup, "the backup").await.map_err(refused)?;
    backup.close().await;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| refused(format!("cannot create {}: {e}", dir.display())))?;
    }
    let staged = target.with_extension("restoring");
    std::fs::copy(&a.from, &staged)
        .and_then(|_| std::fs::File::open(&staged)?.sync_all())
        .map_err(|e| {
            refused(format!(
                "cannot copy the backup to {}: {e}",
                staged.display()
            ))
        })?;
    // the old database's journal must not be applied to the restored file
    for ext in ["-wal", "-shm"] {
        let mut p = target.clone().into_os_string();
        p.push(ext);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    std::fs::rename(&staged, &target)
        .map_err(|e| refused(format!("cannot move the backup into place: {e}")))?;
    // a backup from an older release is brought up to date
    let db = crate::cli::open_db(
        url,
        Durability::Full,
        "the restored database cannot be used",
    )
    .await?;
    let runs = count(&db, "runs").await;
    db.close().await;
    println!(
        "restored {} into {}: {runs} runs, {events} audit events (the trail verifies); the secret key matches (fingerprint {}). Start the server.",
        a.from.display(),
        target.display(),
        sealer.fingerprint()
    );
    Ok(())
}

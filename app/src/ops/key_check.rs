//! Every process of an instance must seal and open secrets with the same
//! key (on PostgreSQL there may be many, on many machines). The database
//! keeps a value sealed with the key of the first process that started on
//! it; a process whose key cannot open it refuses to start, instead of
//! sealing new secrets nobody else can read or failing every step that
//! uses an old one.

use crate::security::Sealer;
use crate::store::Db;

pub const META_KEY: &str = "secret_key_check";
const CANARY: &str = "stepwise: the instance's secret key";

/// Whether `sealer` opens `kept`, the database's key check.
pub fn opens(sealer: &Sealer, kept: &str) -> bool {
    hex::decode(kept.trim())
        .ok()
        .and_then(|sealed| sealer.open(&sealed).ok())
        .is_some_and(|text| text == CANARY)
}

/// Records the key check if the database has none yet, then checks `sealer`
/// against it. The error says what to fix.
pub async fn check(db: &Db, sealer: &Sealer) -> Result<(), String> {
    let store_err = |e: crate::store::StoreError| format!("cannot check the secret key: {e}");
    if db.meta(META_KEY).await.map_err(store_err)?.is_none() {
        // the first of several processes starting at once wins; the others
        // are checked against its key below
        let mut tx = db.write().await.map_err(store_err)?;
        crate::store::conn::query(
            "INSERT INTO instance_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(META_KEY)
        .bind(hex::encode(sealer.seal(CANARY)))
        .execute(&mut tx)
        .await
        .map_err(|e| store_err(e.into()))?;
        tx.commit().await.map_err(|e| store_err(e.into()))?;
    }
    let kept = db
        .meta(META_KEY)
        .await
        .map_err(store_err)?
        .unwrap_or_default();
    if opens(sealer, &kept) {
        Ok(())
    } else {
        Err(
            "the secret key does not open this database's secrets: it is not the key \
             the instance was started with. Give every process the same key \
             (STEPWISE_SECRET_KEY, or --secret-key-file pointing at the instance's \
             secret.key)"
                .into(),
        )
    }
}

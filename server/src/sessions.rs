//! Sign-in sessions, kept in the product's own database so that every
//! process behind a load balancer knows every session (issue 17): the
//! maintained stores of tower-sessions-sqlx-store, one per backend.

use app::store::{Db, Pool};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session store on the instance's backend.
#[derive(Clone, Debug)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Sessions {
    /// The session table (created if missing) in `db`.
    pub async fn open(db: &Db) -> Result<Sessions, String> {
        let store = match &db.pool {
            Pool::Sqlite(p) => {
                let s = SqliteStore::new(p.clone());
                s.migrate().await.map(|_| Sessions::Sqlite(s))
            }
            Pool::Postgres(p) => {
                let s = PostgresStore::new(p.clone());
                s.migrate().await.map(|_| Sessions::Postgres(s))
            }
        };
        store.map_err(|e| format!("cannot prepare the session table: {e}"))
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.create(record).await,
            Sessions::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.save(record).await,
            Sessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s) => s.load(id).await,
            Sessions::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete(id).await,
            Sessions::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete_expired().await,
            Sessions::Postgres(s) => s.delete_expired().await,
        }
    }
}

//! [`Conn`]: a connection or transaction on either backend, and how a
//! SQLite write transaction opens (its `BEGIN` goes with the first
//! statements), commits and rolls back.

use super::{Batch, Query};
use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite, Transaction};

/// Which database a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pooled connection or an open transaction, on either backend.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    /// A read connection lent without sqlx's pool (see `store::readers`).
    SqliteRead(crate::store::readers::Reader),
    /// A read transaction (a snapshot).
    SqliteTx(Transaction<'static, Sqlite>),
    /// A write transaction: the process's write gate and, with it, the
    /// writer connection (see `Db::write` and `store::gate`).
    SqliteWrite(crate::store::db::WriteGate),
    Pg(PoolConnection<Postgres>),
    PgTx(Transaction<'static, Postgres>),
}

/// The driver's own connection under a [`Conn`].
pub(super) enum Side<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Pg(&'c mut sqlx::PgConnection),
}

impl Conn {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) | Conn::SqliteRead(_) | Conn::SqliteTx(_) | Conn::SqliteWrite(_) => {
                Backend::Sqlite
            }
            Conn::Pg(_) | Conn::PgTx(_) => Backend::Postgres,
        }
    }

    pub(super) fn side(&mut self) -> Side<'_> {
        match self {
            Conn::Sqlite(c) => Side::Sqlite(c),
            Conn::SqliteRead(c) => Side::Sqlite(c),
            Conn::SqliteTx(t) => Side::Sqlite(t),
            Conn::SqliteWrite(g) => Side::Sqlite(g.writer()),
            Conn::Pg(c) => Side::Pg(c),
            Conn::PgTx(t) => Side::Pg(t),
        }
    }

    /// The process's SQLite write gate, when this transaction holds it.
    pub fn gate(&mut self) -> Option<&mut crate::store::db::WriteGate> {
        match self {
            Conn::SqliteWrite(gate) => Some(gate),
            _ => None,
        }
    }

    /// `r`, noting on a lent read connection that a command failed in a
    /// way that may have broken it (it is closed when given back).
    pub(super) fn noted<T>(&mut self, r: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let (Err(e), Conn::SqliteRead(c)) = (&r, &mut *self)
            && matches!(
                e,
                sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_)
            )
        {
            c.set_broken();
        }
        r
    }

    /// Whether the next statement sent opens a SQLite write transaction
    /// (and so goes with its `BEGIN`).
    pub(super) fn opens(&self) -> bool {
        matches!(self, Conn::SqliteWrite(g) if g.opens())
    }

    /// What to send before the statements about to go: the `BEGIN` of a
    /// SQLite write transaction that has sent nothing yet, and the
    /// statements kept to go first (`WriteGate::send_first`).
    pub(super) fn opening(&mut self) -> Option<(&'static str, Vec<Query<'static>>)> {
        match self {
            Conn::SqliteWrite(g) => g.opening(),
            _ => None,
        }
    }

    /// Sends the `BEGIN` of a SQLite write transaction that has sent
    /// nothing yet, with the statements kept to go first (for statements
    /// that do not go through a batch).
    pub(super) async fn open(&mut self) -> Result<(), sqlx::Error> {
        if self.send_first().await? {
            return Ok(());
        }
        if let Some((begin, _)) = self.opening()
            && let Side::Sqlite(c) = self.side()
        {
            sqlx::query(begin).execute(c).await?;
        }
        Ok(())
    }

    /// Sends the statements a SQLite write transaction that has sent
    /// nothing yet keeps to go first (`WriteGate::send_first`), with its
    /// `BEGIN`; whether there were any.
    pub(super) async fn send_first(&mut self) -> Result<bool, sqlx::Error> {
        let first = match self {
            Conn::SqliteWrite(g) if g.opens() => g.take_first(),
            _ => return Ok(false),
        };
        if first.is_empty() {
            return Ok(false);
        }
        let mut b = Batch::new();
        for q in first {
            b.push(q);
        }
        b.run(self).await?;
        Ok(true)
    }

    /// Commits a transaction (a plain connection has nothing to commit).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        // audit events kept to go with the last writes and not sent yet
        if let Err(e) = crate::store::audit::write_pending(&mut self).await {
            return Err(match e {
                crate::store::StoreError::Db(e) => e,
                other => sqlx::Error::Protocol(other.to_string()),
            });
        }
        // statements kept to go first, when nothing was sent with them
        self.send_first().await?;
        match self {
            Conn::SqliteTx(t) => t.commit().await,
            Conn::SqliteWrite(mut g) => {
                g.end("COMMIT").await?;
                g.committed();
                Ok(())
            }
            Conn::PgTx(t) => t.commit().await,
            Conn::Sqlite(_) | Conn::SqliteRead(_) | Conn::Pg(_) => Ok(()),
        }
    }

    /// Rolls a transaction back (dropping it does the same).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Conn::SqliteTx(t) => t.rollback().await,
            Conn::SqliteWrite(mut g) => g.end("ROLLBACK").await,
            Conn::PgTx(t) => t.rollback().await,
            Conn::Sqlite(_) | Conn::SqliteRead(_) | Conn::Pg(_) => Ok(()),
        }
    }
}

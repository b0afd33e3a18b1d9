//! The store's seam (`app::store::conn`) does the same on both backends:
//! one test body, run on SQLite and on the throwaway PostgreSQL cluster.

use app::store::conn::{Backend, Conn, query, query_as, query_scalar};

#[derive(sqlx::FromRow, Debug, PartialEq)]
struct Row {
    id: i64,
    name: Option<String>,
    score: f64,
    ok: bool,
    blob: Vec<u8>,
}

async fn sqlite() -> (Conn, sqlx::SqlitePool, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let mut c = Conn::Sqlite(pool.acquire().await.unwrap());
    query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL NOT NULL, ok BOOLEAN NOT NULL, blob BLOB NOT NULL)")
        .execute(&mut c)
        .await
        .unwrap();
    (c, pool, dir)
}

async fn postgres() -> (Conn, sqlx::PgPool) {
    let admin = sqlx::PgPool::connect(&super::url()).await.unwrap();
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let pool = sqlx::PgPool::connect(&super::database_url(&name))
        .await
        .unwrap();
    let mut c = Conn::Pg(pool.acquire().await.unwrap());
    query("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION NOT NULL, ok BOOLEAN NOT NULL, blob BYTEA NOT NULL)")
        .execute(&mut c)
        .await
        .unwrap();
    (c, pool)
}

/// The same statements on either backend.
async fn exercise(mut c: Conn, begin: impl AsyncFn() -> Conn) {
    let backend = c.backend();
    for (id, name) in [(1_i64, Some("ann")), (2, None), (3, Some("bo"))] {
        let done = query("INSERT INTO t (id, name, score, ok, blob) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(name)
            .bind(id as f64 / 2.0)
            .bind(id % 2 == 1)
            .bind(vec![id as u8, 0xff])
            .execute(&mut c)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1, "{backend:?}");
    }
    // a typed NULL: PostgreSQL needs the type of `$1` in `$1 IS NULL`
    let none: Option<String> = None;
    let all: Vec<Row> = query_as(
        "SELECT id, name, score, ok, blob FROM t WHERE ($1 IS NULL OR name = $1) ORDER BY id",
    )
    .bind(&none)
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(all.len(), 3, "{backend:?}");
    assert_eq!(
        all[1],
        Row {
            id: 2,
            name: None,
            score: 1.0,
            ok: false,
            blob: vec![2, 0xff]
        },
        "{backend:?}"
    );
    let named: Option<Row> = query_as("SELECT id, name, score, ok, blob FROM t WHERE name = $1")
        .bind("bo")
        .fetch_optional(&mut c)
        .await
        .unwrap();
    assert_eq!(named.map(|r| r.id), Some(3), "{backend:?}");
    let count: i64 = query_scalar("SELECT COUNT(*) FROM t WHERE ok = $1")
        .bind(true)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(count, 2, "{backend:?}");
    let missing = query_scalar::<i64>("SELECT id FROM t WHERE id = $1")
        .bind(99_i64)
        .fetch_one(&mut c)
        .await;
    assert!(
        matches!(missing, Err(sqlx::Error::RowNotFound)),
        "{backend:?}"
    );
    // a transaction rolled back changes nothing; a committed one stays
    let mut tx = begin().await;
    query("UPDATE t SET score = $1")
        .bind(9.5)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let mut tx = begin().await;
    let done = query("DELETE FROM t WHERE id = $1")
        .bind(2_i64)
        .execute(&mut tx)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    tx.commit().await.unwrap();
    let scores: Vec<f64> = query_scalar("SELECT score FROM t ORDER BY id")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(scores, [0.5, 1.5], "{backend:?}");
    // a unique violation is recognised as one
    let e = query("INSERT INTO t (id, name, score, ok, blob) VALUES ($1, NULL, 0, FALSE, $2)")
        .bind(1_i64)
        .bind(vec![])
        .execute(&mut c)
        .await
        .unwrap_err();
    assert!(
        e.as_database_error()
            .is_some_and(|d| d.is_unique_violation()),
        "{backend:?}: {e}"
    );
}

#[tokio::test]
async fn one_body_of_statements_does_the_same_on_sqlite_and_postgresql() {
    let (c, pool, _dir) = sqlite().await;
    assert_eq!(c.backend(), Backend::Sqlite);
    exercise(c, async || Conn::SqliteTx(pool.begin().await.unwrap())).await;
    let (c, pool) = postgres().await;
    assert_eq!(c.backend(), Backend::Postgres);
    exercise(c, async || Conn::PgTx(pool.begin().await.unwrap())).await;
}

/// A write transaction on PostgreSQL holds the instance's write lock from
/// its first statement until it ends, so no other writes in between.
#[tokio::test]
async fn a_write_transaction_holds_the_write_lock_until_it_ends() {
    let db = app::store::Db::connect(&super::fresh_database().await, Default::default())
        .await
        .unwrap();
    let mut other = db.acquire().await.unwrap();
    let free = async |c: &mut Conn| -> bool {
        query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(app::store::db::WRITE_LOCK)
            .fetch_one(c)
            .await
            .unwrap()
    };
    let tx = db.write().await.unwrap();
    assert!(
        !free(&mut other).await,
        "held while the transaction is open"
    );
    tx.rollback().await.unwrap();
    assert!(free(&mut other).await, "released when it ends");
}

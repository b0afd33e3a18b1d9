//! The PostgreSQL backend's test harness (issue 17): `make test` runs the
//! Rust tests under `scripts/pg.sh`, which starts a throwaway cluster of
//! Debian's PostgreSQL in a temporary folder on a free port and stops it
//! afterwards; tests find it in `STEPWISE_TEST_PG_URL`.

mod conn;
mod copy;
mod locks;
mod processes;

use sqlx::Connection;

/// Whether the tests' databases are on PostgreSQL: `STEPWISE_TEST_BACKEND=postgres`
/// (make test runs the integration suite once on each backend).
pub fn chosen() -> bool {
    std::env::var("STEPWISE_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A new, empty database on the throwaway cluster; its URL.
pub async fn fresh_database() -> String {
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&url())
        .await
        .expect("the throwaway cluster accepts connections");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.ok();
    database_url(&name)
}

/// The throwaway cluster's URL.
pub fn url() -> String {
    std::env::var("STEPWISE_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "STEPWISE_TEST_PG_URL is not set: run the tests under scripts/pg.sh (`scripts/pg.sh run -- cargo test ...`; make test does)"
        )
    })
}

/// The URL of database `name` on the throwaway cluster.
pub fn database_url(name: &str) -> String {
    let url = url();
    let (server, _) = url.rsplit_once('/').expect("a URL ends with its database");
    format!("{server}/{name}")
}

#[tokio::test]
async fn the_throwaway_cluster_answers_through_the_servers_postgresql_driver() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url())
        .await
        .expect("the throwaway cluster accepts connections");
    let (sum, version): (i32, String) =
        sqlx::query_as("SELECT $1::int + $2::int, current_setting('server_version_num')")
            .bind(40)
            .bind(2)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(sum, 42);
    assert!(version.parse::<u32>().unwrap() >= 150_000, "{version}");
    // a test database of its own, as the store tests will use
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
}

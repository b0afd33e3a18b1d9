//! The reference every figure is read against: how many one-row write
//! transactions SQLite itself commits per second on this machine (WAL,
//! through its C API with no driver or thread in between), at
//! synchronous=NORMAL (the server's default) and at FULL (`--durability
//! full`). A figure divided by its reference survives a change of machine.

use libsqlite3_sys as ffi;
use std::ffi::CString;
use std::time::{Duration, Instant};

/// How long each reference is measured.
const SPAN: Duration = Duration::from_secs(2);

/// Commits per second at `synchronous` ("NORMAL" or "FULL").
pub fn sqlite_commits_per_s(synchronous: &str) -> f64 {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = CString::new(dir.path().join("ref.db").to_string_lossy().as_bytes()).unwrap();
    let mut db = std::ptr::null_mut();
    // SAFETY: plain use of SQLite's C API on one connection, from one
    // thread; every pointer is SQLite's own or a NUL-terminated string
    // that outlives the call, and each handle is finalized/closed below.
    unsafe {
        assert_eq!(ffi::sqlite3_open(path.as_ptr(), &mut db), ffi::SQLITE_OK);
        exec(
            db,
            &format!(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous};
                 CREATE TABLE t (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL)"
            ),
        );
        let sql = CString::new(
            "INSERT INTO t (at, body) VALUES (?1, 'a row of about the size of a step')",
        )
        .unwrap();
        let mut insert = std::ptr::null_mut();
        assert_eq!(
            ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut insert, std::ptr::null_mut()),
            ffi::SQLITE_OK
        );
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < SPAN {
            exec(db, "BEGIN");
            ffi::sqlite3_bind_int64(insert, 1, n as i64);
            assert_eq!(ffi::sqlite3_step(insert), ffi::SQLITE_DONE);
            ffi::sqlite3_reset(insert);
            exec(db, "COMMIT");
            n += 1;
        }
        let per_s = n as f64 / started.elapsed().as_secs_f64();
        ffi::sqlite3_finalize(insert);
        ffi::sqlite3_close(db);
        per_s
    }
}

/// Runs `sql` (one or more statements) and stops the bench on an error.
unsafe fn exec(db: *mut ffi::sqlite3, sql: &str) {
    let sql = CString::new(sql).unwrap();
    // SAFETY: `db` is open and `sql` is NUL-terminated (see the caller).
    let rc = unsafe {
        ffi::sqlite3_exec(
            db,
            sql.as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, ffi::SQLITE_OK, "{sql:?}");
}

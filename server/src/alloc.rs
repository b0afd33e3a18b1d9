//! The process's memory allocator: mimalloc, for Rust and for SQLite.
//!
//! The engine's hot path allocates and frees many small objects on several
//! threads (rows, JSON values, requests); glibc's malloc was a sixth of the
//! server's CPU there (`make profile`, issue 20), and SQLite's own
//! allocations still went through it (with a global mutex for SQLite's
//! memory statistics on every one). The sandbox child gets mimalloc too,
//! without an arena reserved ahead (see `sandbox::pool`), so its
//! address-space limit still bounds what a step can use.

use libsqlite3_sys as sqlite;
use std::os::raw::{c_int, c_void};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` in mimalloc 3.3's `mimalloc.h` (the Rust
/// binding names only some options; both crates are pinned). Left at its
/// default, mimalloc commits its whole arena up front on Linux and RSS after
/// `make bench` was about 80 MB instead of 60.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// `mi_option_purge_delay` (same header): how long freed memory stays
/// committed before mimalloc gives it back to the OS.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc 3 waits 1 s (mimalloc 2 waited 10 ms), and purges only when a
/// thread allocates or frees again, so what the engine freed in a burst's
/// last second stayed resident once the burst was over: RSS after
/// `linear-20` was 58–70 MB from one run to the next. With 50 ms it was
/// 58–61 MB; throughput moved within the noise (interleaved A/B over 16
/// rounds: one set 2–6 % below, one 5 % above, rounds ranging ±25 %);
/// 200 ms left more behind (up to 62 MB) and 0–10 ms cost throughput in
/// some rounds (issue 20).
const PURGE_DELAY_MS: std::os::raw::c_long = 50;

/// Runs before `main` and before mimalloc starts (a constructor with a
/// priority runs before those without, mimalloc's own among them): it
/// reserves its first arena while the process starts, and SQLite takes its
/// allocator only before it is first used.
#[used]
#[unsafe(link_section = ".init_array.00200")]
static CONFIGURE: extern "C" fn() = configure;

extern "C" fn configure() {
    let methods = sqlite::sqlite3_mem_methods {
        xMalloc: Some(sqlite_malloc),
        xFree: Some(sqlite_free),
        xRealloc: Some(sqlite_realloc),
        xSize: Some(sqlite_size),
        xRoundup: Some(sqlite_roundup),
        xInit: Some(sqlite_init),
        xShutdown: Some(sqlite_shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: two integer options set, and SQLite configured before any
    // thread exists and before SQLite is initialised; SQLite copies the
    // methods before `sqlite3_config` returns. A refusal (SQLite already
    // initialised) leaves SQLite on its default allocator, which works.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        sqlite::sqlite3_config(sqlite::SQLITE_CONFIG_MALLOC, &methods as *const _);
        // no memory statistics: nothing reads them, and they take a
        // global mutex on every allocation
        sqlite::sqlite3_config(sqlite::SQLITE_CONFIG_MEMSTATUS, 0 as c_int);
    }
}

// SQLite's allocator interface over mimalloc. SQLite never asks for 0 or a
// negative size (it frees instead), and needs 8-byte alignment, which
// mimalloc gives every allocation.

unsafe extern "C" fn sqlite_malloc(n: c_int) -> *mut c_void {
    // SAFETY: mi_malloc takes any size and returns null when it cannot
    unsafe { libmimalloc_sys::mi_malloc(n.max(1) as usize) }
}

unsafe extern "C" fn sqlite_free(p: *mut c_void) {
    // SAFETY: p came from sqlite_malloc/sqlite_realloc (or is null)
    unsafe { libmimalloc_sys::mi_free(p) }
}

unsafe extern "C" fn sqlite_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    // SAFETY: as above
    unsafe { libmimalloc_sys::mi_realloc(p, n.max(1) as usize) }
}

unsafe extern "C" fn sqlite_size(p: *mut c_void) -> c_int {
    // SAFETY: as above
    let n = unsafe { libmimalloc_sys::mi_usable_size(p) };
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn sqlite_roundup(n: c_int) -> c_int {
    // SAFETY: a pure function of the size
    let good = unsafe { libmimalloc_sys::mi_good_size(n.max(1) as usize) };
    c_int::try_from(good).unwrap_or(n)
}

unsafe extern "C" fn sqlite_init(_: *mut c_void) -> c_int {
    sqlite::SQLITE_OK
}

unsafe extern "C" fn sqlite_shutdown(_: *mut c_void) {}

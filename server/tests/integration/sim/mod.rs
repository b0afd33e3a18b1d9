//! A deterministic simulation of the engine and approvals, in the spirit
//! of FoundationDB's simulator: one seed determines a scenario — random
//! workflows (`workflows`), and random operations on them: starts, cancels,
//! retries (with and without an edited input), re-runs, decisions by
//! random people and tokens (some of whom may not decide), deadlines and
//! delays passing, clock jumps past leases, workers that hold a step while
//! everything else goes on, workers that die (a new engine on the same
//! database), injected panics, and an Http receiver that fails and answers
//! slowly on a seeded schedule. The invariants (`check`) are checked after
//! every operation and at the end.
//!
//! `SIM_SEEDS=N` runs N scenarios (default 2,000); `SIM_SEED=S` replays
//! scenario S alone and prints its operations (`make sim SEEDS=N`,
//! `make sim SEED=S`).

mod check;
mod people;
mod scenario;
mod workflows;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const DEFAULT_SEEDS: u64 = 2_000;
/// On PostgreSQL each scenario creates a database of its own (a tenth of a
/// second or so), so the default run there is shorter.
const DEFAULT_SEEDS_PG: u64 = 200;

#[test]
fn simulation() {
    let replay: Option<u64> = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok());
    let seeds: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if crate::postgres::chosen() {
            DEFAULT_SEEDS_PG
        } else {
            DEFAULT_SEEDS
        });
    let first: u64 = std::env::var("SIM_FIRST")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    // SIM_LOG=error (or any level) shows the server's log while it runs
    if let Ok(level) = std::env::var("SIM_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(level))
            .with_test_writer()
            .try_init();
    }
    // the panics the simulation injects are expected: keep them out of the
    // output (any other panic is reported as usual)
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let injected = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|m| m.starts_with("injected fault"));
        if !injected {
            default_hook(info);
        }
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let shared = Arc::new(scenario::Shared::new().await);
        let started = std::time::Instant::now();
        if let Some(seed) = replay {
            let out = scenario::run(seed, &shared, true).await;
            match out {
                Ok(s) => eprintln!("seed {seed}: ok ({s})"),
                Err(e) => panic!("{e}"),
            }
            return;
        }
        let next = Arc::new(AtomicUsize::new(0));
        let ops = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..threads {
            let (shared, next, ops) = (shared.clone(), next.clone(), ops.clone());
            tasks.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst) as u64;
                    if i >= seeds {
                        return Ok(());
                    }
                    let seed = first + i;
                    match scenario::run(seed, &shared, false).await {
                        Ok(s) => {
                            ops.fetch_add(s.ops, Ordering::SeqCst);
                        }
                        Err(e) => return Err(e),
                    }
                }
            });
        }
        let mut failure = None;
        while let Some(r) = tasks.join_next().await {
            if let Err(e) = r.unwrap() {
                failure.get_or_insert(e);
                next.store(usize::MAX / 2, Ordering::SeqCst);
            }
        }
        if let Some(e) = failure {
            panic!("{e}");
        }
        eprintln!(
            "simulation: {seeds} scenarios (seeds {first}..{}), {} operations, in {:.1} s",
            first + seeds - 1,
            ops.load(Ordering::SeqCst),
            started.elapsed().as_secs_f64()
        );
    });
}

/// One seed determines everything: a scenario played twice performs the
/// same operations and gets the same answers (ids aside, which are random
/// and numbered in order of appearance).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_replays_exactly() {
    let shared = scenario::Shared::new().await;
    for seed in [7, 1234, 99_001] {
        let a = scenario::run(seed, &shared, false).await.unwrap();
        let b = scenario::run(seed, &shared, false).await.unwrap();
        assert!(a.trace.len() > 5, "seed {seed} did something");
        assert_eq!(a.trace, b.trace, "seed {seed} played differently");
    }
}

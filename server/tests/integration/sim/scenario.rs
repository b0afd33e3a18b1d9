//! One scenario: a seeded sequence of operations on a fresh database, with
//! the invariants checked after each and at the end.

use super::{check, people, workflows};
use crate::common::receiver::{Answer, Receiver};
use app::domain::audit::Actor;
use app::domain::run::ItemStatus;
use app::error::ErrorCode;
use app::ops::approvals::DecisionInput;
use app::store::runs::Claimed;
use app::store::{Db, Durability};
use fastrand::Rng;
use serde_json::json;
use server::engine::{Clock, Engine, ManualClock};
use std::collections::HashMap;
use std::sync::Arc;

const T0: i64 = 1_800_000_000_000;
const LEASE_MS: i64 = 10_000;

/// Items someone may still decide, in a stable order.
const OPEN_ITEMS: &str = "SELECT i.id FROM approval_items i JOIN runs r ON r.id = i.run_id
     WHERE i.status = 'pending' AND r.status = 'running' ORDER BY i.created_at, i.node_id";

/// What every scenario shares: the sandbox processes and a migrated
/// database to copy.
pub struct Shared {
    sandbox: Arc<server::sandbox::Sandbox>,
    template: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Shared {
    pub async fn new() -> Shared {
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("template.db");
        if !crate::postgres::chosen() {
            let db = Db::connect(
                &format!("sqlite://{}", dir.path().join("build.db").display()),
                Durability::Normal,
            )
            .await
            .unwrap();
            db.migrate().await.unwrap();
            // one self-contained file: a copy of a WAL database can miss what
            // is still in its write-ahead log
            app::store::conn::query(format!("VACUUM INTO '{}'", template.display()))
                .execute(&mut db.acquire().await.unwrap())
                .await
                .unwrap();
            db.close().await;
        }
        Shared {
            sandbox: crate::common::sandbox(),
            template,
            _dir: dir,
        }
    }

    /// A fresh database for one scenario: a copy of the migrated SQLite
    /// file, or a new database on the throwaway PostgreSQL cluster.
    async fn fresh(&self, dir: &std::path::Path) -> Result<Db, String> {
        if crate::postgres::chosen() {
            return Ok(crate::common::fresh_db(dir).await);
        }
        let path = dir.join("sim.db");
        std::fs::copy(&self.template, &path).map_err(|e| e.to_string())?;
        Db::connect(&format!("sqlite://{}", path.display()), Durability::Normal)
            .await
            .map_err(|e| e.to_string())
    }
}

pub struct Stats {
    pub ops: usize,
    runs: usize,
    /// The operations and their answers, with run and item ids numbered in
    /// order of appearance (ids are random; everything else is the seed's).
    pub trace: Vec<String>,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} operations, {} runs", self.ops, self.runs)
    }
}

/// A claim a worker holds while other things happen.
struct Held {
    claim: Claimed,
    engine: Arc<Engine>,
    started: i64,
}

struct Sim {
    rng: Rng,
    db: Db,
    clock: Arc<ManualClock>,
    engine: Arc<Engine>,
    shared: Arc<server::sandbox::Sandbox>,
    panic_on: Option<String>,
    rx: Receiver,
    people: Vec<people::Person>,
    workflows: Vec<String>,
    held: Vec<Held>,
    decided: check::Decided,
    /// Calls whose result was thrown away because the run ended while the
    /// worker held the step, by idempotency key.
    zombies: HashMap<String, usize>,
    trace: Vec<String>,
    verbose: bool,
}

pub async fn run(seed: u64, shared: &Shared, verbose: bool) -> Result<Stats, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db = shared.fresh(dir.path()).await?;
    let mut rng = Rng::with_seed(seed);
    // the receiver's schedule: by the step and how often its key was
    // called, so it does not depend on run ids
    let salt = rng.u64(..);
    let seen = std::sync::Mutex::new(HashMap::<String, u64>::new());
    let rx = Receiver::start(move |_, key| {
        let node = key.rsplit(':').next().unwrap_or_default();
        let nth = {
            let mut seen = seen.lock().unwrap();
            let n = seen.entry(key.to_string()).or_default();
            *n += 1;
            *n
        };
        let mut h = Rng::with_seed(salt ^ fxhash(node) ^ nth.wrapping_mul(0x9e3779b97f4a7c15));
        match h.u8(..10) {
            0 | 1 => Answer {
                status: 503,
                delay_ms: 0,
            },
            2 => Answer {
                status: 422,
                delay_ms: 0,
            },
            // slower than the steps' 60 ms timeout
            3 => Answer {
                status: 200,
                delay_ms: 120,
            },
            _ => Answer::ok(),
        }
    })
    .await;
    let clock = Arc::new(ManualClock::new(T0));
    let mut sim = Sim {
        engine: Arc::new(Engine::new(db.clone(), clock.clone(), LEASE_MS)),
        rng,
        db,
        clock,
        shared: shared.sandbox.clone(),
        panic_on: None,
        rx,
        people: people::cast(),
        workflows: vec![],
        held: vec![],
        decided: Default::default(),
        zombies: Default::default(),
        trace: vec![],
        verbose,
    };
    let out = sim.play().await;
    let stats = Stats {
        ops: sim.trace.len(),
        runs: sim.count_runs().await,
        trace: normalized(&sim.trace),
    };
    sim.db.close().await;
    match out {
        Ok(()) => Ok(stats),
        Err(e) => {
            let last: Vec<&String> = sim.trace.iter().rev().take(25).rev().collect();
            Err(format!(
                "simulation seed {seed} broke an invariant: {e}\n  last operations:\n    {}\n  replay: SIM_SEED={seed} cargo test -p server --test integration sim::simulation -- --nocapture   (or: make sim SEED={seed})",
                last.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n    ")
            ))
        }
    }
}

/// `trace` with every `run_<32 hex>` and `apv_<32 hex>` replaced by
/// `run#1`, `apv#1`, … in order of first appearance.
fn normalized(trace: &[String]) -> Vec<String> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    trace
        .iter()
        .map(|line| {
            let mut out = String::new();
            let mut rest = line.as_str();
            while let Some(at) = ["run_", "apv_"]
                .iter()
                .filter_map(|p| rest.find(p).map(|i| (i, *p)))
                .min()
            {
                let (i, prefix) = at;
                let id_len = prefix.len() + 32;
                let candidate = rest.get(i..i + id_len).unwrap_or("");
                out.push_str(&rest[..i]);
                if candidate.len() == id_len
                    && candidate[prefix.len()..]
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit())
                {
                    let label = seen.entry(candidate.to_string()).or_insert_with(|| {
                        let n = counts.entry(prefix).or_default();
                        *n += 1;
                        format!("{}#{n}", &prefix[..3])
                    });
                    out.push_str(label);
                    rest = &rest[i + id_len..];
                } else {
                    out.push_str(prefix);
                    rest = &rest[i + prefix.len()..];
                }
            }
            out.push_str(rest);
            out
        })
        .collect()
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl Sim {
    fn note(&mut self, s: String) {
        if self.verbose {
            eprintln!("  {s}");
        }
        self.trace.push(s);
    }

    fn new_engine(&self) -> Arc<Engine> {
        let mut e = Engine::new(self.db.clone(), self.clock.clone(), LEASE_MS)
            .with_sandbox(self.shared.clone())
            .with_outbound(server::outbound::Outbound::new(
                "127.0.0.1".parse().unwrap(),
                1024 * 1024,
            ))
            .without_jitter();
        if let Some(n) = &self.panic_on {
            e = e.with_panic_on(n);
        }
        Arc::new(e)
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    async fn count_runs(&self) -> usize {
        app::store::conn::query_scalar::<i64>("SELECT COUNT(*) FROM runs")
            .fetch_one(&mut self.db.acquire().await.unwrap())
            .await
            .unwrap_or(0) as usize
    }

    async fn play(&mut self) -> Result<(), String> {
        for _ in 0..self.rng.usize(1..3) {
            let def = workflows::workflow(&mut self.rng, &self.rx.url);
            let wf = app::ops::workflows::create(
                &self.db,
                &Actor("user:dan".into()),
                &format!("wf{}", self.workflows.len()),
                &def,
                false,
                self.now(),
            )
            .await
            .map_err(|e| format!("the generator made an invalid workflow: {e:?}\n{def:#?}"))?;
            if self.panic_on.is_none() && self.rng.u8(..8) == 0 {
                self.panic_on = def
                    .nodes
                    .iter()
                    .find(|n| n.id.starts_with('h'))
                    .map(|n| n.id.clone());
            }
            self.workflows.push(wf.workflow_id);
        }
        self.engine = self.new_engine();
        for _ in 0..self.rng.usize(1..4) {
            self.start().await?;
        }
        let steps = self.rng.usize(10..36);
        for _ in 0..steps {
            self.step().await?;
            self.check_held().await?;
            check::always(&self.db, &mut self.decided).await?;
        }
        self.drain().await?;
        check::always(&self.db, &mut self.decided).await?;
        check::at_end(&self.db, &self.rx.calls(), &self.zombies).await
    }

    async fn step(&mut self) -> Result<(), String> {
        match self.rng.u8(..100) {
            0..30 => {
                let n = self.rng.usize(1..5);
                self.note(format!("tick x{n}"));
                for _ in 0..n {
                    self.engine.tick().await.map_err(err)?;
                }
            }
            30..38 => self.hold().await?,
            38..46 => self.finish_held().await?,
            46..49 => {
                self.note(format!(
                    "kill: {} held steps die with their worker",
                    self.held.len()
                ));
                self.held.clear();
                self.engine = self.new_engine();
            }
            49..59 => {
                let ms = self.rng.i64(500..5_000);
                self.note(format!("clock +{ms} ms"));
                self.clock.advance(ms);
            }
            59..65 => {
                let ms = self.rng.i64(LEASE_MS..200_000);
                self.note(format!("clock jumps +{ms} ms"));
                self.clock.advance(ms);
            }
            65..71 => {
                self.note("recover".into());
                self.engine.recover().await.map_err(err)?;
            }
            71..84 => self.decide().await?,
            84..87 => self.cancel().await?,
            87..93 => self.retry().await?,
            93..95 => self.rerun().await?,
            95..97 => self.inbox().await?,
            _ => self.start().await?,
        }
        Ok(())
    }

    async fn start(&mut self) -> Result<(), String> {
        let wf = self.workflows[self.rng.usize(..self.workflows.len())].clone();
        let by = people::STARTERS[self.rng.usize(..people::STARTERS.len())];
        let x = self.rng.u8(..10);
        let rows = app::ops::runs::prepare(
            &self.db,
            &Actor(by.into()),
            &wf,
            None,
            &json!({"x": x}),
            app::ops::runs::Via::Api,
            self.now(),
        )
        .await
        .map_err(err)?;
        // half as the REST API starts a run (carried through its opening
        // pure steps in the transaction that inserts it), half as the
        // browser does (inserted, for a worker)
        let carried = self.rng.bool();
        let id = match carried {
            true => self.engine.start_told(rows).await.map_err(err)?.id,
            false => app::ops::runs::insert_prepared(&self.db, rows)
                .await
                .map_err(err)?,
        };
        let how = if carried { "carried" } else { "queued" };
        self.note(format!("start {id} by {by} with x={x}, {how}"));
        Ok(())
    }

    async fn hold(&mut self) -> Result<(), String> {
        let now = self.now();
        if let Some(c) = self.engine.claim_next(now).await.map_err(err)? {
            self.note(format!(
                "hold {}:{} attempt {}",
                c.run_id, c.node_id, c.attempt
            ));
            self.held.push(Held {
                claim: c,
                engine: self.engine.clone(),
                started: now,
            });
        }
        Ok(())
    }

    async fn finish_held(&mut self) -> Result<(), String> {
        if self.held.is_empty() {
            return Ok(());
        }
        let h = self.held.remove(self.rng.usize(..self.held.len()));
        // the key its call carries (an item's names the item)
        let key: String = app::store::conn::query_scalar("SELECT CASE WHEN item_index IS NULL THEN id || ':' || $2
                    ELSE item_root || ':' || $2 || ':' || item_path END
                    || COALESCE((SELECT '@' || pass FROM steps WHERE run_id = $1 AND node_id = $2 AND pass > 0), '')
             FROM runs WHERE id = $1",
        )
        .bind(&h.claim.run_id)
        .bind(&h.claim.node_id)
        .fetch_one(&mut self.db.acquire().await.unwrap())
        .await
        .map_err(err)?;
        // a worker that lost its step still makes its call; the result is
        // thrown away. Recovery logged it as a lost attempt, unless the
        // step was taken from it otherwise (its run ended): count that.
        let (holds, logged): (i64, i64) = app::store::conn::query_as("SELECT (SELECT COUNT(*) FROM steps WHERE run_id = $1 AND node_id = $2 AND status = 'running'
                       AND lease_owner = $3 AND attempt = $4),
                    (SELECT COUNT(*) FROM step_attempts WHERE run_id = $1 AND node_id = $2 AND attempt = $4)",
        )
        .bind(&h.claim.run_id)
        .bind(&h.claim.node_id)
        .bind(h.engine.worker_id())
        .bind(h.claim.attempt)
        .fetch_one(&mut self.db.acquire().await.unwrap())
        .await
        .map_err(err)?;
        self.note(format!(
            "finish held {key} attempt {} (still its own: {})",
            h.claim.attempt,
            holds == 1
        ));
        if holds == 0 && logged == 0 {
            *self.zombies.entry(key).or_default() += 1;
        }
        h.engine
            .run_claimed(h.claim.clone(), h.started)
            .await
            .map_err(err)?;
        Ok(())
    }

    /// No step is taken from a worker whose lease is still live.
    async fn check_held(&self) -> Result<(), String> {
        let now = self.now();
        for h in &self.held {
            if h.started + LEASE_MS <= now {
                continue;
            }
            let row: Option<(String, Option<String>, i64)> = app::store::conn::query_as(
                "SELECT status, lease_owner, attempt FROM steps WHERE run_id = $1 AND node_id = $2",
            )
            .bind(&h.claim.run_id)
            .bind(&h.claim.node_id)
            .fetch_optional(&mut self.db.acquire().await.unwrap())
            .await
            .map_err(err)?;
            if let Some((status, owner, attempt)) = row
                && status == "running"
                && (owner.as_deref() != Some(h.engine.worker_id()) || attempt != h.claim.attempt)
            {
                return Err(format!(
                    "{}:{} runs twice at once: attempt {attempt} by {owner:?} while attempt {} holds a live lease",
                    h.claim.run_id, h.claim.node_id, h.claim.attempt
                ));
            }
        }
        Ok(())
    }

    async fn decide(&mut self) -> Result<(), String> {
        let Some(id) = self.pick(OPEN_ITEMS).await? else {
            return Ok(());
        };
        let who = self.rng.usize(..self.people.len());
        let approve = self.rng.u8(..10) < 7;
        let edit = self.rng.u8(..10) < 3;
        self.decide_as(&id, who, approve, edit).await.map(|_| ())
    }

    /// One decision; checks the product's answer against the oracle.
    /// Returns whether it was taken.
    async fn decide_as(
        &mut self,
        id: &str,
        who: usize,
        approve: bool,
        edit: bool,
    ) -> Result<bool, String> {
        let (item, _) = app::ops::approvals::get(&self.db, id).await.map_err(err)?;
        let p = &self.people[who];
        let allowed = item.status == ItemStatus::Pending && people::may(p, &item);
        let input = DecisionInput {
            decision: if approve { "approve" } else { "reject" }.into(),
            comment: String::new(),
            output: edit.then(|| json!({"edited_by": p.principal.actor})),
            answers: Default::default(),
        };
        let actor = p.principal.actor.clone();
        let r = app::ops::approvals::decide(&self.db, &p.principal, id, input, self.now()).await;
        self.note(format!(
            "{actor} {} {id} ({}) -> {}",
            if approve { "approves" } else { "rejects" },
            item.node_id,
            match &r {
                Ok(_) => "ok".to_string(),
                Err(e) => e.message.clone(),
            }
        ));
        match r {
            Ok(_) if !allowed => Err(format!("{actor} decided {id}, which the rules exclude")),
            Ok(_) => Ok(true),
            Err(e) if e.code == ErrorCode::Forbidden && allowed => Err(format!(
                "{actor} was refused {id}, which the rules allow: {}",
                e.message
            )),
            Err(e) if matches!(e.code, ErrorCode::Forbidden | ErrorCode::Conflict) => Ok(false),
            Err(e) => Err(format!("deciding {id} failed: {e:?}")),
        }
    }

    /// One id of those `sql` lists (in a stable order), chosen by the seed.
    async fn pick(&mut self, sql: &str) -> Result<Option<String>, String> {
        let ids: Vec<(String,)> = app::store::conn::query_as(sql)
            .fetch_all(&mut self.db.acquire().await.unwrap())
            .await
            .map_err(err)?;
        Ok((!ids.is_empty()).then(|| ids[self.rng.usize(..ids.len())].0.clone()))
    }

    /// A person's inbox lists exactly the pending items the rules let them
    /// decide (the SQL filter against the oracle).
    async fn inbox(&mut self) -> Result<(), String> {
        let who = self.rng.usize(..self.people.len());
        let p = &self.people[who];
        let now = self.now();
        let page = |all: bool| app::domain::approvals::ApprovalFilter {
            all,
            limit: 500,
            ..Default::default()
        };
        let mine = app::ops::approvals::list(&self.db, &p.principal, page(false), now)
            .await
            .map_err(err)?;
        let every = app::ops::approvals::list(&self.db, &p.principal, page(true), now)
            .await
            .map_err(err)?;
        let listed: Vec<&str> = mine.items.iter().map(|i| i.id.as_str()).collect();
        let allowed: Vec<&str> = every
            .items
            .iter()
            .filter(|i| people::may(p, i))
            .map(|i| i.id.as_str())
            .collect();
        let actor = p.principal.actor.clone();
        let (n, total) = (listed.len(), mine.total);
        if listed != allowed || total as usize != n {
            return Err(format!(
                "{actor}'s inbox lists {listed:?} (total {total}); the rules allow {allowed:?}"
            ));
        }
        self.note(format!("{actor}'s inbox: {n} items"));
        Ok(())
    }

    async fn cancel(&mut self) -> Result<(), String> {
        let Some(id) = self
            .pick("SELECT id FROM runs WHERE status = 'running' ORDER BY created_at, id")
            .await?
        else {
            return Ok(());
        };
        let r = app::ops::runs::cancel(&self.db, &Actor("user:dan".into()), &id, self.now()).await;
        self.note(format!(
            "cancel {id} -> {:?}",
            r.as_ref().map_err(|e| &e.message)
        ));
        r.map_err(err)
    }

    async fn retry(&mut self) -> Result<(), String> {
        // any failed step: the product must refuse what does not apply
        let steps: Vec<(String, String)> = app::store::conn::query_as(
            "SELECT run_id, node_id FROM steps WHERE status = 'failed' ORDER BY run_id, node_id",
        )
        .fetch_all(&mut self.db.acquire().await.unwrap())
        .await
        .map_err(err)?;
        if steps.is_empty() {
            return Ok(());
        }
        let (run, node) = steps[self.rng.usize(..steps.len())].clone();
        let input = self
            .rng
            .bool()
            .then(|| json!({"input": {"x": 1}, "steps": {}}));
        let r = app::ops::runs::retry_step(
            &self.db,
            &Actor("user:dan".into()),
            &run,
            &node,
            input.as_ref(),
            self.now(),
        )
        .await;
        self.note(format!(
            "retry {run}:{node} (edited: {}) -> {:?}",
            input.is_some(),
            r.as_ref().map_err(|e| &e.message)
        ));
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.code == ErrorCode::Conflict => Ok(()),
            Err(e) => Err(format!("retry failed: {e:?}")),
        }
    }

    async fn rerun(&mut self) -> Result<(), String> {
        let Some(id) = self
            .pick("SELECT id FROM runs WHERE status != 'running' ORDER BY created_at, id")
            .await?
        else {
            return Ok(());
        };
        let new =
            app::ops::runs::rerun(&self.db, &Actor("user:ann".into()), &id, false, self.now())
                .await;
        self.note(format!(
            "rerun {id} -> {:?}",
            new.as_ref().map_err(|e| &e.message)
        ));
        match new {
            Ok(_) => Ok(()),
            // an item run is re-run through its parent
            Err(e) if e.code == ErrorCode::Conflict => Ok(()),
            Err(e) => Err(format!("rerun failed: {e:?}")),
        }
    }

    /// Lets everything that can happen happen: held steps finish, people
    /// decide what waits for them, time passes. Then every run must have
    /// ended: nothing waits on nothing.
    async fn drain(&mut self) -> Result<(), String> {
        self.note("drain".into());
        while !self.held.is_empty() {
            self.finish_held().await?;
        }
        for _ in 0..40 {
            self.engine.recover().await.map_err(err)?;
            self.engine.run_until_idle().await.map_err(err)?;
            let ids: Vec<(String,)> = app::store::conn::query_as(OPEN_ITEMS)
                .fetch_all(&mut self.db.acquire().await.unwrap())
                .await
                .map_err(err)?;
            for (id,) in ids {
                for who in 0..self.people.len() {
                    self.decide_as(&id, who, true, false).await?;
                }
            }
            check::always(&self.db, &mut self.decided).await?;
            let open: i64 = app::store::conn::query_scalar(
                "SELECT COUNT(*) FROM runs WHERE status = 'running'",
            )
            .fetch_one(&mut self.db.acquire().await.unwrap())
            .await
            .map_err(err)?;
            if open == 0 {
                return Ok(());
            }
            self.clock.advance(86_400_000);
        }
        Ok(())
    }
}

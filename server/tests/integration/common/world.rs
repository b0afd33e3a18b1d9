//! The engine driven to idle with a clock the test moves (no sleeps), on a
//! fresh SQLite file.

use app::domain::audit::Actor;
use app::domain::graph::*;
use app::ops::runs;
use app::store::Db;
use serde_json::Value;
use server::engine::{Engine, ManualClock};
use std::sync::Arc;

pub const T0: i64 = 1_800_000_000_000;

pub struct World {
    pub db: Db,
    /// The database's URL (to open it again, as another process would).
    pub url: String,
    pub clock: Arc<ManualClock>,
    pub engine: Engine,
    _dir: tempfile::TempDir,
}

impl World {
    pub async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let url = super::fresh_db_url(dir.path(), "test.db").await;
        let db = super::migrated(&url).await;
        let clock = Arc::new(ManualClock::new(T0));
        let engine = super::engine(db.clone(), clock.clone(), 30_000).without_jitter();
        World {
            db,
            url,
            clock,
            engine,
            _dir: dir,
        }
    }

    /// The same world whose engine claims every step on its own (the
    /// simple path, as `--simple-engine`).
    pub fn on_the_simple_path(self) -> World {
        World {
            engine: self.engine.with_simple_path(true),
            ..self
        }
    }

    /// The same world whose engine opens secrets with `sealer`.
    pub fn with_sealer(self, sealer: app::security::Sealer) -> World {
        World {
            engine: self.engine.with_sealer(sealer),
            ..self
        }
    }

    pub async fn start(&self, def: WorkflowDef, input: Value) -> app::domain::ids::RunId {
        self.start_as(&Actor::anonymous(), def, input).await
    }

    /// Starts a run of a new workflow `def` as `actor`, as the REST API
    /// starts one: carried through its opening pure steps when it has them
    /// (`Engine::start`).
    pub async fn start_as(
        &self,
        actor: &Actor,
        def: WorkflowDef,
        input: Value,
    ) -> app::domain::ids::RunId {
        let rows = self.prepare(actor, def, input).await;
        self.engine.start(rows).await.unwrap()
    }

    /// Starts a run of a new workflow `def` as the browser, a webhook or a
    /// schedule starts one: inserted with its Start ready, for a worker.
    pub async fn start_queued(&self, def: WorkflowDef, input: Value) -> app::domain::ids::RunId {
        let rows = self.prepare(&Actor::anonymous(), def, input).await;
        runs::insert_prepared(&self.db, rows).await.unwrap()
    }

    /// A run of a new workflow `def`, checked and built, not yet stored.
    pub async fn prepare(&self, actor: &Actor, def: WorkflowDef, input: Value) -> runs::RunRows {
        let wf = app::ops::workflows::create(
            &self.db,
            &Actor::anonymous(),
            &format!("wf {}", fastrand::u64(..)),
            &def,
            false,
            T0,
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
        runs::prepare(
            &self.db,
            actor,
            &wf.workflow_id,
            None,
            &input,
            app::ops::runs::Via::Api,
            self.clock.now_ms(),
        )
        .await
        .unwrap()
    }

    pub async fn idle(&self) {
        self.engine.run_until_idle().await.unwrap();
    }

    pub async fn run(&self, id: &str) -> app::domain::records::RunDetail {
        runs::get(&self.db, id).await.unwrap()
    }

    /// Runs the engine until idle and returns run `id`, which must have
    /// succeeded (else the test fails with the run's error).
    pub async fn succeeded(&self, id: &str) -> app::domain::records::RunRecord {
        self.idle().await;
        let r = self.run(id).await.run;
        assert_eq!(
            r.status,
            app::domain::run::RunStatus::Succeeded,
            "{:?}",
            r.error
        );
        r
    }

    /// The newest audit event `action` (of run `run`, if given).
    pub async fn event(&self, action: &str, run: Option<&str>) -> app::domain::audit::AuditEvent {
        let mut conn = self.db.acquire().await.unwrap();
        let f = app::domain::audit::AuditFilter {
            action: Some(action.into()),
            run_id: run.map(String::from),
            ..Default::default()
        };
        app::store::audit::search(&mut conn, &f, 1)
            .await
            .unwrap()
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {action} event"))
    }

    pub async fn step(&self, run: &str, node: &str) -> app::domain::records::StepRecord {
        self.run(run)
            .await
            .steps
            .into_iter()
            .find(|s| s.node_id == node)
            .unwrap()
    }
}

pub trait Now {
    fn now_ms(&self) -> i64;
}
impl Now for ManualClock {
    fn now_ms(&self) -> i64 {
        use server::engine::Clock;
        self.now()
    }
}

pub fn start() -> Node {
    Node::new("start", "Start", NodeKind::Start { input_schema: None })
}
pub fn transform(id: &str, expr: &str) -> Node {
    Node::new(
        id,
        id,
        NodeKind::Transform {
            expression: expr.into(),
        },
    )
}
pub fn end(id: &str, output: Option<&str>) -> Node {
    Node::new(
        id,
        id,
        NodeKind::End {
            output: output.map(String::from),
        },
    )
}
pub fn http(id: &str, url: &str) -> Node {
    Node::new(
        id,
        id,
        NodeKind::Http {
            request: HttpRequest {
                method: "POST".into(),
                url: url.into(),
                headers: Default::default(),
                body: Some("{{ input | tojson }}".into()),
            },
            response_schema: None,
        },
    )
}
pub fn def(nodes: Vec<Node>, edges: Vec<(&str, &str, &str)>) -> WorkflowDef {
    WorkflowDef {
        nodes,
        edges: edges
            .into_iter()
            .map(|(a, p, b)| Edge::new(a, p, b))
            .collect(),
        settings: Settings::default(),
    }
}

//! Where a REST start enters the engine: the run is prepared (read
//! ahead, see `start_new`), its opening evaluated (`fresh`) and its
//! transaction shared with other starts (`group`).

use super::Engine;
use super::fresh::{Carried, Fresh};
use app::domain::ids::RunId;
use app::domain::run::RunStatus;
use app::ops::runs::RunRows;
use serde_json::Value;
use std::sync::Arc;

/// A started run: its id, how it ended if its opening ended it, and the
/// run as its transaction left it when the start asked for that and the
/// opening ended it.
pub struct StartedRun {
    pub id: RunId,
    pub ended: Option<RunStatus>,
    pub view: Option<super::Viewed>,
}

type Started = std::result::Result<StartedRun, app::error::AppError>;

impl Engine {
    /// As [`Engine::start`], with the run's transaction shared with other
    /// starts that come meanwhile (see `group`); and how the run ended if
    /// its opening ended it (a synchronous start answers then without
    /// looking).
    pub async fn start_told(self: &Arc<Self>, rows: RunRows) -> Started {
        self.start_viewed(rows, false).await
    }

    /// As [`Engine::start_told`]; with `view`, a run its opening ended is
    /// read in its transaction as well ([`StartedRun::view`]).
    pub async fn start_viewed(self: &Arc<Self>, rows: RunRows, view: bool) -> Started {
        let fresh = self.fresh(rows).await?;
        self.started(fresh, view).await
    }

    /// Starts a run of `pick` of `workflow_id` as `ops::runs::prepare` and
    /// [`Engine::start_told`] do, prepared for the version this process
    /// last read (see `ops::runs::prepare_ahead`). On SQLite the run's own
    /// transaction confirms that version (`RunRows::confirmed_in_transaction`):
    /// when `pick` names another one there (a publish came between, here
    /// or in another process), nothing is written and the start is
    /// prepared again from a read. On PostgreSQL the opening is evaluated
    /// while the read that confirms the version is made; when the read
    /// names another version or fails, the opening is dropped unwritten
    /// and the start goes on as without it. With `view`, as
    /// [`Engine::start_viewed`].
    pub async fn start_new(
        self: &Arc<Self>,
        actor: &app::domain::audit::Actor,
        workflow_id: &str,
        pick: app::store::workflows::Pick,
        input: &Value,
        via: app::ops::runs::Via<'_>,
        (now, view): (i64, bool),
    ) -> Started {
        use app::ops::runs;
        let prepare = || runs::prepare(&self.db, actor, workflow_id, pick, input, via, now);
        let Some(rows) = runs::prepare_ahead(actor, workflow_id, pick, input, via, now) else {
            return self.start_viewed(prepare().await?, view).await;
        };
        let ahead = rows.record.version;
        if self.db.backend() == app::store::conn::Backend::Sqlite {
            // confirmed where it is written: no read before
            let id = rows.id.clone();
            return match self
                .start_viewed(rows.confirmed_in_transaction(pick), view)
                .await
            {
                Err(e) if !self.failure_stands(workflow_id, pick, ahead, &id).await => {
                    tracing::debug!(error = %e, workflow_id, "a start prepared ahead met another version; prepared again");
                    self.start_viewed(prepare().await?, view).await
                }
                started => started,
            };
        }
        let (read, fresh) = tokio::join!(
            runs::runnable(&self.db, workflow_id, pick),
            self.fresh(rows)
        );
        if read?.version != ahead {
            return self.start_viewed(prepare().await?, view).await;
        }
        self.started(fresh?, view).await
    }

    /// After a start of version `ahead` failed: whether it stands as the
    /// failure of that version, not of a guess that went stale. It went
    /// stale when `pick` names another version now (or the workflow can no
    /// longer run) and its run `id` was not written (a failure after its
    /// commit must not start it twice).
    async fn failure_stands(
        &self,
        workflow_id: &str,
        pick: app::store::workflows::Pick,
        ahead: i64,
        id: &RunId,
    ) -> bool {
        let named = app::ops::runs::runnable(&self.db, workflow_id, pick).await;
        if named.is_ok_and(|r| r.version == ahead) {
            return true;
        }
        match app::ops::runs::get(&self.db, id.as_str()).await {
            Err(e) => e.code != app::error::ErrorCode::NotFound,
            Ok(_) => true,
        }
    }

    /// Starts `fresh` with its opening, or the run it gave back for the
    /// workers.
    async fn started(
        self: &Arc<Self>,
        fresh: std::result::Result<Fresh, RunRows>,
        view: bool,
    ) -> Started {
        let fresh = match fresh {
            Ok(fresh) => fresh,
            Err(rows) => {
                let id = self.queue_start(rows).await?;
                return Ok(StartedRun {
                    id,
                    ended: None,
                    view: None,
                });
            }
        };
        let id = fresh.id().clone();
        let Carried { ended, view } = self.carry_grouped(fresh, view).await?;
        tracing::info!(run_id = %id, "run started and carried through its pure opening");
        Ok(StartedRun { id, ended, view })
    }
}

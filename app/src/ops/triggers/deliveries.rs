//! What every process shares about a webhook's deliveries, through the
//! database: the refused ones (written down at a bounded pace, the last
//! few kept, so a flood of bad requests neither fills the database nor
//! keeps its writer busy) and who listens for a test event (a delivery
//! that reaches any process is handed to a listener on any other).

use crate::domain::ids::TriggerId;
use crate::domain::triggers::EventOutcome;
use crate::domain::triggers::throttle::{self, Throttle, Verdict};
pub use crate::domain::triggers::view::TestEvent;
use crate::error::AppError;
use crate::ops::{CLOSING, Changes};
use crate::store::{Db, StoreError, test_listens, triggers as store};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Refused deliveries kept per webhook.
pub const KEEP_REFUSED: i64 = 10;
/// How often a listener looks in the database when no signal came (a
/// signal from another process may be lost; it only costs this much).
const POLL: Duration = Duration::from_millis(500);

/// Shared by the webhook handler, the REST API and the pages of one
/// process; clones share the throttle.
#[derive(Clone)]
pub struct Deliveries {
    throttle: Arc<Mutex<Throttle>>,
    changes: Changes,
}

/// The topic a catch is announced on, to the listeners of `id`.
fn topic(id: &TriggerId) -> String {
    format!("test-event:{id}")
}

impl Deliveries {
    /// Listeners hear of a catch through `changes` (and its relay).
    pub fn new(changes: Changes) -> Self {
        Deliveries {
            throttle: Arc::default(),
            changes,
        }
    }

    /// Writes down a refused delivery and why, unless this process wrote
    /// too many of this webhook's lately (then it is counted and told with
    /// the next one). Never fails: the refusal is answered regardless.
    pub async fn refused(&self, db: &Db, id: &TriggerId, now: i64, why: &str) {
        let verdict = self
            .throttle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .refusal(id, now);
        let Verdict::Write { held } = verdict else {
            return;
        };
        let detail = throttle::detail(why, held);
        let written = async {
            let mut tx = db.write().await?;
            let event = store::NewEvent {
                trigger_id: id,
                at: now,
                outcome: EventOutcome::Refused,
                detail: &detail,
                run_id: None,
                delivery_key: None,
                nominal_at: None,
            };
            store::insert_event(&mut tx, &event).await?;
            store::keep_refused(&mut tx, id, KEEP_REFUSED).await?;
            tx.commit().await.map_err(StoreError::from)?;
            Ok::<_, StoreError>(())
        };
        if let Err(e) = written.await {
            tracing::warn!(trigger_id = %id, error = %e, "could not write down a refused delivery");
        }
    }

    /// Whether anyone, on any process, waits for the next delivery to `id`.
    pub async fn listening(&self, db: &Db, id: &TriggerId, now: i64) -> Result<bool, AppError> {
        let mut conn = db.acquire().await.map_err(StoreError::from)?;
        Ok(test_listens::listening(&mut conn, id, now).await?)
    }

    /// Hands `event` to everyone listening for `id` and records it as a
    /// test event; false when nobody listens (any more) and the delivery
    /// should start a run.
    pub async fn catch(
        &self,
        db: &Db,
        id: &TriggerId,
        event: &TestEvent,
    ) -> Result<bool, AppError> {
        let json = serde_json::to_string(event).map_err(|e| AppError::internal(&e))?;
        let mut tx = db.write().await?;
        if test_listens::catch(&mut tx, id, event.at, &json).await? == 0 {
            return Ok(false);
        }
        let recorded = store::NewEvent {
            trigger_id: id,
            at: event.at,
            outcome: EventOutcome::Test,
            detail: "received as a test event; no run was started",
            run_id: None,
            delivery_key: None,
            nominal_at: None,
        };
        store::insert_event(&mut tx, &recorded).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.changes.notify(topic(id));
        Ok(true)
    }

    /// Waits up to `wait` for the next authenticated delivery to `id`,
    /// whichever process it reaches: it is handed here instead of starting
    /// a run. None when none came in time (or the server is stopping).
    pub async fn listen(
        &self,
        db: &Db,
        id: &TriggerId,
        wait: Duration,
    ) -> Result<Option<TestEvent>, AppError> {
        let me = format!("lsn_{}", uuid::Uuid::now_v7().simple());
        let now = crate::ops::now_ms();
        let mut heard = self.changes.subscribe();
        let mut tx = db.write().await?;
        test_listens::add(&mut tx, &me, id, now + wait.as_millis() as i64, now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        let mut guard = Listening {
            db: db.clone(),
            id: Some(me.clone()),
        };
        let deadline = tokio::time::Instant::now() + wait;
        let topic = topic(id);
        loop {
            let mut conn = db.acquire().await.map_err(StoreError::from)?;
            if test_listens::caught(&mut conn, &me).await?.is_some() {
                break;
            }
            drop(conn);
            let next = (tokio::time::Instant::now() + POLL).min(deadline);
            let stopping = tokio::select! {
                _ = tokio::time::sleep_until(next) => false,
                stopping = signal(&mut heard, &topic) => stopping,
            };
            if stopping || tokio::time::Instant::now() >= deadline {
                break;
            }
        }
        // ended in one step with what it caught, even at the last moment
        guard.id = None;
        let mut tx = db.write().await?;
        let caught = test_listens::end(&mut tx, &me).await?;
        tx.commit().await.map_err(StoreError::from)?;
        caught
            .map(|e| serde_json::from_str(&e))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("a caught test event: {e}")).into())
    }
}

/// Waits for a catch announced on `topic` (false) or the server stopping
/// (true). A lagging receiver counts as a catch: the caller looks anyway.
async fn signal(rx: &mut tokio::sync::broadcast::Receiver<Arc<str>>, topic: &str) -> bool {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match rx.recv().await {
            Ok(t) if &*t == topic => return false,
            Ok(t) if &*t == CLOSING => return true,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return false,
            Err(RecvError::Closed) => return std::future::pending().await,
        }
    }
}

/// A listener that went away before it ended (its request was dropped):
/// ended in the background so no later delivery is caught for nobody.
struct Listening {
    db: Db,
    id: Option<String>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let (Some(id), Ok(rt)) = (self.id.take(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let db = self.db.clone();
        rt.spawn(async move {
            if let Ok(mut tx) = db.write().await {
                let _ = test_listens::end(&mut tx, &id).await;
                let _ = tx.commit().await;
            }
        });
    }
}

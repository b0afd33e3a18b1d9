//! What the server keeps of deliveries in memory only: the last refused
//! ones (an unauthenticated request never writes to the database, so a
//! flood of them cannot fill it) and who is listening for a test event.

use crate::domain::ids::TriggerId;
pub use crate::domain::triggers::view::TestEvent;
use crate::domain::triggers::{EventOutcome, TriggerEvent};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Refused deliveries kept per trigger.
const KEEP: usize = 10;
/// Triggers whose refusals are kept (the oldest entry goes beyond this).
const MAX_TRIGGERS: usize = 10_000;

type Listeners = HashMap<TriggerId, Vec<tokio::sync::oneshot::Sender<TestEvent>>>;

/// Shared by the webhook handler, the REST API and the pages.
#[derive(Clone, Default)]
pub struct Recent {
    refused: Arc<Mutex<HashMap<TriggerId, VecDeque<TriggerEvent>>>>,
    listeners: Arc<Mutex<Listeners>>,
}

impl Recent {
    /// Remembers a refused delivery and why.
    pub fn refused(&self, id: &TriggerId, at: i64, why: &str) {
        let mut m = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= MAX_TRIGGERS && !m.contains_key(id) {
            m.clear();
        }
        let q = m.entry(id.clone()).or_default();
        if q.len() >= KEEP {
            q.pop_front();
        }
        q.push_back(TriggerEvent {
            at,
            outcome: EventOutcome::Refused,
            detail: why.to_string(),
            run_id: None,
            nominal_at: None,
        });
    }

    /// The refused deliveries remembered for `id`, newest first.
    pub fn refusals(&self, id: &TriggerId) -> Vec<TriggerEvent> {
        let m = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        m.get(id)
            .map(|q| q.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// Waits for the next authenticated delivery to `id`: it is handed
    /// here instead of starting a run.
    pub fn listen(&self, id: &TriggerId) -> tokio::sync::oneshot::Receiver<TestEvent> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut m = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        let waiting = m.entry(id.clone()).or_default();
        waiting.retain(|s| !s.is_closed());
        waiting.push(tx);
        rx
    }

    /// Hands `event` to whoever listens for `id`; false when nobody does
    /// (any more) and the delivery should start a run.
    pub fn deliver_test(&self, id: &TriggerId, event: TestEvent) -> bool {
        let waiting = {
            let mut m = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
            match m.remove(id) {
                Some(w) => w.into_iter().filter(|s| !s.is_closed()).collect::<Vec<_>>(),
                None => Vec::new(),
            }
        };
        if waiting.is_empty() {
            return false;
        }
        let mut delivered = false;
        for s in waiting {
            delivered |= s.send(event.clone()).is_ok();
        }
        delivered
    }

    /// Whether anyone listens for `id` now.
    pub fn listening(&self, id: &TriggerId) -> bool {
        let m = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        m.get(id).is_some_and(|w| w.iter().any(|s| !s.is_closed()))
    }
}

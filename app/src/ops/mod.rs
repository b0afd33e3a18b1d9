//! (ssr) Use cases. Each runs in one transaction that changes the state and
//! writes its audit event together.

pub mod accounts;
pub mod approvals;
pub mod calls;
pub mod foreach;
pub mod loops;
pub mod models;
pub mod progress;
pub mod runs;
pub mod seed;
pub mod step_test;
pub mod triggers;
pub mod workflows;

/// Milliseconds since the Unix epoch: the one place ops read the clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Wakes the engine's workers when an operation created work for them (a
/// run started, a step retried). Shared through the request context so the
/// UI's server functions and the REST API wake the same workers.
#[derive(Clone, Debug, Default)]
pub struct Wakeup(std::sync::Arc<tokio::sync::Notify>);

impl Wakeup {
    pub fn wake(&self) {
        // Wake every idle worker, and remember the wake-up for one that is
        // busy right now so it looks again before sleeping.
        self.0.notify_waiters();
        self.0.notify_one();
    }

    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.0.notified()
    }
}

/// Tells open pages that something they show changed (`approvals`,
/// `run:<id>`), through the server-sent events stream.
#[derive(Clone, Debug)]
pub struct Changes(tokio::sync::broadcast::Sender<std::sync::Arc<str>>);

impl Default for Changes {
    fn default() -> Self {
        Changes(tokio::sync::broadcast::channel(1024).0)
    }
}

impl Changes {
    pub fn notify(&self, topic: impl Into<std::sync::Arc<str>>) {
        // nobody listening is fine
        let _ = self.0.send(topic.into());
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<str>> {
        self.0.subscribe()
    }
}

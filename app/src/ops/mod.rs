//! (ssr) Use cases. Each runs in one transaction that changes the state and
//! writes its audit event together.

pub mod accounts;
pub mod approvals;
pub mod calls;
pub mod foreach;
pub mod golden;
pub mod key_check;
pub mod loops;
pub mod models;
pub mod monitoring;
pub mod notify;
pub mod progress;
pub mod runs;
pub mod secrets;
pub mod seed;
pub mod step_test;
pub mod tokens;
pub mod triggers;
mod watch;
pub mod workflows;

pub use watch::Watch;

/// Milliseconds since the Unix epoch: the one place ops read the clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What one process tells the others on the same database (PostgreSQL):
/// there is work, or something pages show changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signal {
    Wake,
    Changed(std::sync::Arc<str>),
}

/// Where signals for the other processes go once a relay is attached
/// (`server::bus` on PostgreSQL; with SQLite there is one process and
/// none is). Clones share the attachment.
#[derive(Clone, Debug, Default)]
pub struct Relay(std::sync::Arc<std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<Signal>>>);

impl Relay {
    /// Sends every later signal to `to`. False if one was attached before.
    pub fn attach(&self, to: tokio::sync::mpsc::UnboundedSender<Signal>) -> bool {
        self.0.set(to).is_ok()
    }

    fn send(&self, s: Signal) {
        if let Some(to) = self.0.get() {
            // a relay that stopped only costs the others latency: they
            // poll as well
            let _ = to.send(s);
        }
    }
}

/// Wakes the engine's workers when an operation created work for them (a
/// run started, a step retried), here and, through the relay, in every
/// other process. Shared through the request context so the UI's server
/// functions and the REST API wake the same workers.
#[derive(Clone, Debug, Default)]
pub struct Wakeup {
    notify: std::sync::Arc<tokio::sync::Notify>,
    relay: Relay,
}

impl Wakeup {
    pub fn wake(&self) {
        self.wake_here();
        self.relay.send(Signal::Wake);
    }

    /// Wakes this process's workers only (a wake-up from another process).
    ///
    /// One worker is woken (or, when all are busy, the next to finish looks
    /// again before sleeping); a worker that finds work wakes the next
    /// ([`Wakeup::pass_on`]), so a burst of work spreads over the workers
    /// while a single ready step costs one look, not one per worker.
    pub fn wake_here(&self) {
        self.notify.notify_one();
    }

    /// Called by a worker that found work: there may be more, so another
    /// worker looks.
    pub fn pass_on(&self) {
        self.notify.notify_one();
    }

    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }

    pub fn relay(&self) -> &Relay {
        &self.relay
    }
}

/// The topic that tells every stream to end ([`Changes::close_streams`]);
/// no change is named so.
pub const CLOSING: &str = "\u{0}closing";

/// Tells open pages that something they show changed (`approvals`,
/// `run:<id>`), through the server-sent events stream, in this process and
/// through the relay in every other.
#[derive(Clone, Debug)]
pub struct Changes {
    tx: tokio::sync::broadcast::Sender<std::sync::Arc<str>>,
    watched: watch::Watched,
    relay: Relay,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            tx: tokio::sync::broadcast::channel(1024).0,
            watched: Default::default(),
            relay: Relay::default(),
        }
    }
}

impl Changes {
    pub fn notify(&self, topic: impl Into<std::sync::Arc<str>>) {
        let topic = topic.into();
        self.notify_here(topic.clone());
        self.relay.send(Signal::Changed(topic));
    }

    /// Tells this process's pages only (a change made by another process).
    pub fn notify_here(&self, topic: std::sync::Arc<str>) {
        self.watched.tell(&topic);
        // nobody listening is fine
        let _ = self.tx.send(topic);
    }

    /// Tells the waiters of `topic` in this process only, never the pages'
    /// streams nor other processes: a hint that saves a waiter a look
    /// (the engine's `ended:<id>`), which a waiter elsewhere does without.
    pub fn hint_here(&self, topic: &str) {
        self.watched.tell(topic);
    }

    /// Waits on `topic` alone: woken by its notices, here or (through the
    /// relay) from another process, and by no other change.
    pub fn watch(&self, topic: impl Into<std::sync::Arc<str>>) -> Watch {
        self.watched.watch(topic.into())
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<str>> {
        self.tx.subscribe()
    }

    /// The server is stopping: every open stream ends (a page's stream
    /// never ends by itself, and a graceful shutdown waits for it).
    pub fn close_streams(&self) {
        let _ = self.tx.send(CLOSING.into());
    }

    pub fn relay(&self) -> &Relay {
        &self.relay
    }
}

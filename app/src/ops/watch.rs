//! Waiting on one topic alone (a long poll on one run): a notice wakes the
//! waiters of its own topic, not every waiter of every change, so a
//! thousand open long polls cost a notice one lookup, not a thousand
//! wake-ups.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The topics someone waits on, each with what wakes its waiters.
#[derive(Clone, Debug, Default)]
pub(super) struct Watched(Arc<Mutex<HashMap<Arc<str>, Arc<Notify>>>>);

impl Watched {
    /// Wakes those waiting on `topic` (nobody waiting is fine).
    pub(super) fn tell(&self, topic: &str) {
        let notify = match self.0.lock() {
            Ok(m) => m.get(topic).cloned(),
            Err(_) => None,
        };
        if let Some(n) = notify {
            n.notify_waiters();
        }
    }

    pub(super) fn watch(&self, topic: Arc<str>) -> Watch {
        let notify = match self.0.lock() {
            Ok(mut m) => m.entry(topic.clone()).or_default().clone(),
            // a poisoned map tells nobody: the waiter's own looks still
            // see the change
            Err(_) => Arc::default(),
        };
        Watch {
            watched: self.clone(),
            topic,
            notify,
        }
    }
}

/// One waiter's hold on a topic; the topic is forgotten when its last
/// waiter lets go.
#[derive(Debug)]
pub struct Watch {
    watched: Watched,
    topic: Arc<str>,
    notify: Arc<Notify>,
}

impl Watch {
    /// Resolves at the topic's next notice after the future was enabled
    /// (`Notified::enable`) or first polled: enable it before looking at
    /// what the notice is about, so a notice in between is not missed.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Ok(mut m) = self.watched.0.lock() {
            // held by the map and this waiter alone: nobody else waits
            let last = m
                .get(&self.topic)
                .is_some_and(|n| Arc::ptr_eq(n, &self.notify) && Arc::strong_count(n) == 2);
            if last {
                m.remove(&self.topic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notice_wakes_the_waiters_of_its_topic_and_no_others() {
        let w = Watched::default();
        let (a1, a2, b) = (
            w.watch("run:a".into()),
            w.watch("run:a".into()),
            w.watch("run:b".into()),
        );
        let (mut f1, mut f2, mut fb) = (
            Box::pin(a1.notified()),
            Box::pin(a2.notified()),
            Box::pin(b.notified()),
        );
        f1.as_mut().enable();
        f2.as_mut().enable();
        fb.as_mut().enable();
        w.tell("run:a");
        w.tell("run:c");
        let now = |f: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>| {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            std::future::Future::poll(f, &mut cx).is_ready()
        };
        assert!(now(f1.as_mut()), "the first waiter on run:a is woken");
        assert!(now(f2.as_mut()), "the second waiter on run:a is woken");
        assert!(!now(fb.as_mut()), "the waiter on run:b is not");
    }

    #[tokio::test]
    async fn a_topic_is_forgotten_when_its_last_waiter_lets_go() {
        let w = Watched::default();
        let a1 = w.watch("run:a".into());
        let a2 = w.watch("run:a".into());
        drop(a1);
        assert_eq!(w.0.lock().unwrap().len(), 1, "one waiter still holds run:a");
        drop(a2);
        assert!(w.0.lock().unwrap().is_empty(), "nobody waits on run:a");
        // a notice to a topic nobody waits on is harmless
        w.tell("run:a");
    }
}

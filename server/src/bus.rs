//! Signals between the processes of one instance on PostgreSQL (issue 17):
//! a wake-up when one process created work, and the topics of the changes
//! pages show (`approvals`, `run:<id>`), so a browser connected to any
//! process hears of a change any process made.
//!
//! They travel over LISTEN/NOTIFY on one channel, and only as a hint:
//! workers poll at least every second and the pages' streams look again on
//! their own, so a lost notification (a dropped connection; PgBouncer in
//! transaction mode, which does not carry LISTEN) costs latency, never
//! work. Signals are sent after the transaction that caused them has
//! committed, each process's in batches (one NOTIFY per few milliseconds
//! at most, which keeps NOTIFY's commit-time lock off the hot path), and
//! each process ignores its own.

use app::ops::{Changes, Signal, Wakeup};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The channel every process listens on.
pub const CHANNEL: &str = "stepwise";
/// NOTIFY payloads must stay under 8,000 bytes; topics past this go in
/// another notification.
const MAX_PAYLOAD: usize = 7_000;
/// How long signals are gathered before they go out together.
const BATCH: Duration = Duration::from_millis(5);

/// One notification: who sent it, whether there is work, what changed.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub from: String,
    #[serde(default)]
    pub wake: bool,
    #[serde(default)]
    pub topics: Vec<String>,
}

/// The notifications for a batch of signals from process `from`, each
/// under the payload limit (a topic too long for one is dropped: topics
/// are short names, and a page looks again on its own).
pub fn messages(from: &str, signals: impl IntoIterator<Item = Signal>) -> Vec<String> {
    let mut wake = false;
    let mut topics = BTreeSet::new();
    for s in signals {
        match s {
            Signal::Wake => wake = true,
            Signal::Changed(t) if t.len() < MAX_PAYLOAD / 2 => {
                topics.insert(t.to_string());
            }
            Signal::Changed(_) => {}
        }
    }
    let mut out = Vec::new();
    let mut m = Message {
        from: from.to_string(),
        wake,
        topics: vec![],
    };
    let mut size = 0;
    for t in topics {
        if size + t.len() + 3 > MAX_PAYLOAD - from.len() - 64 {
            out.push(serde_json::to_string(&m).expect("a message serializes"));
            m = Message {
                from: from.to_string(),
                ..Default::default()
            };
            size = 0;
        }
        size += t.len() + 3;
        m.topics.push(t);
    }
    if m.wake || !m.topics.is_empty() {
        out.push(serde_json::to_string(&m).expect("a message serializes"));
    }
    out
}

/// Relays this process's wake-ups and changes to the others and theirs to
/// this one, until the process ends.
pub fn start(pool: PgPool, wakeup: Wakeup, changes: Changes) {
    let me: Arc<str> = format!("p_{}", uuid::Uuid::now_v7().simple()).into();
    let (tx, rx) = mpsc::unbounded_channel();
    wakeup.relay().attach(tx.clone());
    changes.relay().attach(tx);
    tokio::spawn(send_loop(pool.clone(), me.clone(), rx));
    tokio::spawn(listen_loop(pool, me, wakeup, changes));
}

async fn send_loop(pool: PgPool, me: Arc<str>, mut rx: mpsc::UnboundedReceiver<Signal>) {
    while let Some(first) = rx.recv().await {
        tokio::time::sleep(BATCH).await;
        let mut batch = vec![first];
        while let Ok(s) = rx.try_recv() {
            batch.push(s);
        }
        for payload in messages(&me, batch) {
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(&payload)
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "could not tell the other processes (they will poll)");
            }
        }
    }
}

async fn listen_loop(pool: PgPool, me: Arc<str>, wakeup: Wakeup, changes: Changes) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for the other processes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "cannot listen for the other processes; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    let Ok(m) = serde_json::from_str::<Message>(n.payload()) else {
                        continue;
                    };
                    if *m.from == *me {
                        continue;
                    }
                    if m.wake {
                        wakeup.wake_here();
                    }
                    for t in m.topics {
                        changes.notify_here(t.into());
                    }
                }
                // the connection was lost (and is made again on the next
                // call): what was sent meanwhile is lost, so look for work
                Ok(None) => wakeup.wake_here(),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the other processes' notifications; listening again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_one_message_with_each_topic_once() {
        let out = messages(
            "p_1",
            [
                Signal::Changed("run:a".into()),
                Signal::Wake,
                Signal::Changed("approvals".into()),
                Signal::Changed("run:a".into()),
            ],
        );
        assert_eq!(out.len(), 1);
        let m: Message = serde_json::from_str(&out[0]).unwrap();
        assert_eq!(
            m,
            Message {
                from: "p_1".into(),
                wake: true,
                topics: vec!["approvals".into(), "run:a".into()],
            }
        );
    }

    #[test]
    fn many_topics_are_split_under_the_payload_limit_and_none_is_lost() {
        let topics: Vec<Signal> = (0..2_000)
            .map(|i| Signal::Changed(format!("run:{i:040}").into()))
            .collect();
        let out = messages("p_1", topics);
        assert!(out.len() > 1);
        assert!(
            out.iter().all(|p| p.len() < 8_000),
            "{:?}",
            out.iter().map(|p| p.len()).max()
        );
        let n: usize = out
            .iter()
            .map(|p| serde_json::from_str::<Message>(p).unwrap().topics.len())
            .sum();
        assert_eq!(n, 2_000);
    }

    #[test]
    fn nothing_to_say_sends_nothing_and_a_huge_topic_is_dropped() {
        assert!(messages("p_1", []).is_empty());
        assert!(messages("p_1", [Signal::Changed("x".repeat(10_000).into())]).is_empty());
    }
}

//! What every server process on one database sees of a webhook's
//! deliveries: a test-event listener on one hears a delivery that reached
//! another, and refusals show on all of them, written at a bounded pace.

use super::{Stack, three_steps};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Listens for a test event through `st`'s REST API, in the background.
fn listen(
    st: &Arc<Stack>,
    id: &str,
    wait_ms: u64,
) -> tokio::task::JoinHandle<(u16, serde_json::Value)> {
    let st = st.clone();
    let path = format!("/api/v1/triggers/{id}/test-event?wait_ms={wait_ms}");
    tokio::spawn(async move { st.api("POST", &path, None).await })
}

/// Waits until the trigger shows someone listening (true) or not.
async fn until_listening(st: &Stack, id: &str, want: bool) {
    for _ in 0..100 {
        let (_, t) = st.api("GET", &format!("/api/v1/triggers/{id}"), None).await;
        if t["listening"] == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the trigger never showed listening = {want}");
}

#[tokio::test]
async fn a_listener_on_one_process_captures_a_delivery_that_reached_another_without_a_run() {
    let a = Arc::new(Stack::new().await);
    let b = a.another().await;
    let wf = a.workflow(three_steps(), true).await;
    let (path, key, id) = a.hook(&wf, json!({"mapping": "{amount: .body.n}"})).await;
    let listener = listen(&a, &id, 10_000);
    // the other process's panel shows it listening
    until_listening(&b, &id, true).await;
    let (s, answer) = b.deliver(&path, &key, None, r#"{"n": 5}"#, &[]).await;
    assert_eq!(
        (s, answer["test_event"].as_bool()),
        (200, Some(true)),
        "{answer}"
    );
    let (s, event) = listener.await.unwrap();
    assert_eq!(s, 200, "{event}");
    assert_eq!(event["request"]["body"], json!({"n": 5}));
    assert_eq!(event["input"], json!({"amount": 5}));
    assert_eq!(a.count("SELECT COUNT(*) FROM runs").await, 0);
    // the history says so; nobody listens any more, and the next one runs
    let (_, t) = a.api("GET", &format!("/api/v1/triggers/{id}"), None).await;
    assert_eq!(t["events"][0]["outcome"], "test", "{t}");
    assert_eq!(t["listening"], false, "{t}");
    assert_eq!(
        b.deliver(&path, &key, None, r#"{"n": 5}"#, &[]).await.0,
        202
    );
    assert_eq!(a.count("SELECT COUNT(*) FROM trigger_listens").await, 0);
}

#[tokio::test]
async fn two_listeners_on_two_processes_both_receive_the_one_delivery() {
    let a = Arc::new(Stack::new().await);
    let b = Arc::new(a.another().await);
    let wf = a.workflow(three_steps(), true).await;
    let (path, key, id) = a.hook(&wf, json!({})).await;
    let first = listen(&a, &id, 10_000);
    let second = listen(&b, &id, 10_000);
    until_listening(&a, &id, true).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(a.count("SELECT COUNT(*) FROM trigger_listens").await, 2);
    let (s, _) = a.deliver(&path, &key, None, r#"{"amount": 3}"#, &[]).await;
    assert_eq!(s, 200);
    for l in [first, second] {
        let (s, event) = l.await.unwrap();
        assert_eq!((s, &event["request"]["body"]), (200, &json!({"amount": 3})));
    }
}

#[tokio::test]
async fn a_listener_whose_time_ran_out_or_who_went_away_catches_nothing_more() {
    let st = Arc::new(Stack::new().await);
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, id) = st.hook(&wf, json!({})).await;
    // waits 300 ms, nothing comes: 204, and the next delivery runs
    let (s, _) = listen(&st, &id, 300).await.unwrap();
    assert_eq!(s, 204);
    // (each body differs: a signed request sent again is a replay)
    assert_eq!(
        st.deliver(&path, &key, None, r#"{"amount": 101}"#, &[])
            .await
            .0,
        202
    );
    // a listener whose request is dropped (the page was closed)
    let gone = st
        .http
        .post(format!(
            "{}/api/v1/triggers/{id}/test-event?wait_ms=60000",
            st.base
        ))
        .bearer_auth(&st.token)
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(gone.unwrap_err().is_timeout());
    until_listening(&st, &id, false).await;
    assert_eq!(
        st.deliver(&path, &key, None, r#"{"amount": 102}"#, &[])
            .await
            .0,
        202
    );
    // a schedule, or no trigger at all
    let (s, b) = st
        .api(
            "POST",
            "/api/v1/triggers/trg_nothing/test-event?wait_ms=10",
            None,
        )
        .await;
    assert_eq!(s, 404, "{b}");
}

#[tokio::test]
async fn a_flood_of_bad_deliveries_keeps_the_last_ten_and_says_how_many_were_not_kept() {
    let st = Arc::new(Stack::new().await);
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, id) = st.hook(&wf, json!({})).await;
    let (quiet_path, _, quiet) = st.hook(&wf, json!({})).await;
    let mut all = Vec::new();
    for _ in 0..8 {
        let (st, path) = (st.clone(), path.clone());
        all.push(tokio::spawn(async move {
            for _ in 0..50 {
                let (s, _) = st.deliver(&path, "whsec_wrong", None, "{}", &[]).await;
                assert_eq!(s, 401);
            }
        }));
    }
    for t in all {
        t.await.unwrap();
    }
    let refused = "SELECT COUNT(*) FROM trigger_events WHERE outcome = 'refused' AND trigger_id = ";
    assert_eq!(st.count(&format!("{refused}'{id}'")).await, 10);
    // a few more at once are held; a second later the next one is
    // written, telling how many were not
    for _ in 0..5 {
        st.deliver(&path, "whsec_wrong", None, "{}", &[]).await;
    }
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    st.deliver(&path, "whsec_wrong", None, "{}", &[]).await;
    let (_, t) = st.api("GET", &format!("/api/v1/triggers/{id}"), None).await;
    let newest = t["events"][0]["detail"].as_str().unwrap();
    assert!(newest.contains("were not kept"), "{newest}");
    assert_eq!(st.count(&format!("{refused}'{id}'")).await, 10);
    // another webhook keeps its own, and a good delivery still runs
    st.deliver(&quiet_path, "whsec_wrong", None, "{}", &[])
        .await;
    assert_eq!(st.count(&format!("{refused}'{quiet}'")).await, 1);
    assert_eq!(
        st.deliver(&path, &key, None, r#"{"amount": 103}"#, &[])
            .await
            .0,
        202
    );
}

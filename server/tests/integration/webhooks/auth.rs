//! Who may deliver: signatures, replays, key rotation, tokens.

use super::{Stack, three_steps};
use serde_json::json;

#[tokio::test]
async fn a_signed_delivery_starts_the_published_version_and_a_bad_one_starts_nothing_and_shows_on_any_process()
 {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, id) = st.hook(&wf, json!({})).await;
    assert_eq!(path, format!("/hooks/{id}"));
    let (s, b) = st
        .deliver(&path, &key, None, r#"{"amount": 21}"#, &[])
        .await;
    assert_eq!(s, 202, "{b}");
    let run_id = b["run_id"].as_str().unwrap();
    assert_eq!(b["status_url"], format!("/api/v1/runs/{run_id}"));
    let (_, run) = st
        .api("GET", &format!("/api/v1/runs/{run_id}?wait_ms=10000"), None)
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], json!({"amount": 42}));
    assert_eq!(run["origin"], "webhook");
    assert_eq!(run["trigger_id"], id);
    assert_eq!(run["started_by"], format!("trigger:{id}"));

    let runs_before = st.count("SELECT COUNT(*) FROM runs").await;
    let kept = "SELECT COUNT(*) FROM trigger_events WHERE outcome != 'refused'";
    let events_before = st.count(kept).await;
    let now = app::ops::now_ms() / 1000;
    // wrong key, expired, from the future, unsigned
    let (s, b) = st
        .deliver(&path, "whsec_wrong", None, r#"{"amount": 1}"#, &[])
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{b}"
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    let (s, b) = st
        .deliver(&path, &key, Some(now - 6 * 60), r#"{"amount": 1}"#, &[])
        .await;
    assert_eq!(s, 401);
    assert!(
        b["error"]["message"].as_str().unwrap().contains("behind"),
        "{b}"
    );
    let (s, _) = st
        .deliver(&path, &key, Some(now + 6 * 60), r#"{"amount": 1}"#, &[])
        .await;
    assert_eq!(s, 401);
    let res = st
        .http
        .post(format!("{}{path}", st.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // an API token is not a webhook's key
    let res = st
        .http
        .post(format!("{}{path}", st.base))
        .bearer_auth(&st.token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, runs_before);
    assert_eq!(st.count(kept).await, events_before);
    // the panel of any process shows the refusals
    let other = st.another().await;
    let (_, t) = other
        .api("GET", &format!("/api/v1/triggers/{id}"), None)
        .await;
    let refused: Vec<_> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "refused")
        .collect();
    assert_eq!(refused.len(), 5, "{t}");
}

#[tokio::test]
async fn a_replayed_signed_request_returns_the_first_run_and_a_rotated_key_works_alongside_the_old()
{
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, old, id) = st.hook(&wf, json!({})).await;
    let t = app::ops::now_ms() / 1000;
    let (s1, first) = st
        .deliver(&path, &old, Some(t), r#"{"amount": 1}"#, &[])
        .await;
    let (s2, again) = st
        .deliver(&path, &old, Some(t), r#"{"amount": 1}"#, &[])
        .await;
    assert_eq!((s1, s2), (202, 200), "{again}");
    assert_eq!(again["run_id"], first["run_id"]);
    assert_eq!(again["duplicate"], true);
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 1);
    // rotate: both keys work until the old one is retired
    let (s, rotated) = st
        .api("POST", &format!("/api/v1/triggers/{id}/keys"), None)
        .await;
    assert_eq!(s, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_eq!(rotated["trigger"]["rotating"], true);
    assert_eq!(
        st.deliver(&path, &new, None, r#"{"amount": 2}"#, &[])
            .await
            .0,
        202
    );
    assert_eq!(
        st.deliver(&path, &old, None, r#"{"amount": 3}"#, &[])
            .await
            .0,
        202
    );
    let (s, _) = st
        .api(
            "DELETE",
            &format!("/api/v1/triggers/{id}/keys/previous"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        st.deliver(&path, &old, None, r#"{"amount": 4}"#, &[])
            .await
            .0,
        401
    );
    assert_eq!(
        st.deliver(&path, &new, None, r#"{"amount": 5}"#, &[])
            .await
            .0,
        202
    );
    // the secret is never shown again
    let (_, t) = st.api("GET", &format!("/api/v1/triggers/{id}"), None).await;
    assert!(
        !t.to_string().contains(&new) && !t.to_string().contains("secret"),
        "{t}"
    );
}

#[tokio::test]
async fn token_auth_accepts_the_token_in_its_header_only() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, token, _) = st.hook(&wf, json!({"auth": {"type": "token"}})).await;
    let post = |h: Option<(&'static str, String)>| {
        let mut r = st
            .http
            .post(format!("{}{path}", st.base))
            .body(r#"{"amount": 1}"#);
        if let Some((k, v)) = h {
            r = r.header(k, v);
        }
        r.send()
    };
    assert_eq!(
        post(Some(("x-stepwise-token", token.clone())))
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(
        post(Some(("x-stepwise-token", format!("{token}x"))))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(Some(("x-other", token.clone())))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(post(None).await.unwrap().status(), 401);
}

//! Exports stream: the audit trail (CSV, JSONL) and the labelled examples
//! of a workflow's decisions are read and sent a page at a time, so an
//! export of any size holds one page in memory; every row arrives once, in
//! order, across pages.

use crate::approvals::{approval, approve, flow, item};
use crate::common::world::*;
use app::domain::audit::{Actor, NewAuditEvent};
use app::domain::auth::{Principal, Role};
use serde_json::json;

#[tokio::test]
async fn the_audit_export_streams_every_event_once_across_pages() {
    let api = crate::rest_api::Api::new().await;
    {
        let mut tx = api.db().write().await.unwrap();
        for i in 0..2_500 {
            let ev = NewAuditEvent::new(
                i,
                "user:bulk",
                "bulk.event",
                "bulk:export".into(),
                json!({"i": i, "note": "a, \"quoted\" value"}),
            );
            app::store::audit::append(&mut tx, &ev).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    for format in ["csv", "jsonl"] {
        let (status, body, headers) = api
            .send(
                axum::http::Request::get(format!(
                    "/api/v1/audit?format={format}&entity=bulk%3Aexport"
                ))
                .body(axum::body::Body::empty())
                .unwrap(),
            )
            .await;
        assert_eq!(status, 200);
        assert!(
            headers.get("content-length").is_none(),
            "{format}: streamed, its length unknown up front"
        );
        let text = body
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| body.to_string());
        let mut lines: Vec<&str> = text.lines().collect();
        if format == "csv" {
            assert_eq!(lines.remove(0), "seq,at,actor,action,entity,run_id,details");
        }
        assert_eq!(
            lines.len(),
            2_500,
            "{format}: every event, across three pages"
        );
        // newest first, each once: the "at" values count down from 2499
        let ats: Vec<i64> = lines
            .iter()
            .map(|l| match format {
                "csv" => l.split(',').nth(1).unwrap().parse().unwrap(),
                _ => serde_json::from_str::<serde_json::Value>(l).unwrap()["at"]
                    .as_i64()
                    .unwrap(),
            })
            .collect();
        assert_eq!(ats, (0..2_500).rev().collect::<Vec<i64>>(), "{format}");
    }
}

#[tokio::test]
async fn the_decisions_export_pages_by_decision_time_and_id_without_losing_ties() {
    let w = World::new().await;
    let wf = app::ops::workflows::create(
        &w.db,
        &Actor::anonymous(),
        "Exported",
        &flow(approval("ok", &["approver"], 1)),
        false,
        T0,
    )
    .await
    .unwrap()
    .workflow_id;
    let mut runs = vec![];
    for n in 0..5 {
        let run = app::ops::runs::start(
            &w.db,
            &Actor::anonymous(),
            &wf,
            None,
            &json!({"amount": n, "vendor": format!("V{n}")}),
            app::ops::runs::Via::Api,
            T0,
        )
        .await
        .unwrap();
        runs.push(run);
    }
    w.idle().await;
    let ann = Principal::user("ann", Role::Approver);
    for run in &runs {
        let i = item(&w, run, "ok").await;
        // every decision at the same millisecond: the id breaks the tie
        app::ops::approvals::decide(&w.db, &ann, &i.id, approve("fine"), T0)
            .await
            .unwrap();
    }
    let mut after = None;
    let mut pages = vec![];
    loop {
        let (text, next) = app::ops::approvals::export_page(&w.db, &wf, None, after, 2)
            .await
            .unwrap();
        pages.push(text.lines().count());
        match next {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(pages, [2, 2, 1]);
    let (whole, _) = app::ops::approvals::export_page(&w.db, &wf, None, None, 500)
        .await
        .unwrap();
    let ids: Vec<String> = whole
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["item_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ties in order of id");
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "each once");
}

#[tokio::test]
async fn the_workflows_versions_and_attempts_lists_page_and_careless_pages_are_refused() {
    use crate::rest_api::small_def;
    let api = crate::rest_api::Api::new().await;
    let mut ids = vec![];
    for n in 0..7 {
        let (_, created) = api.create(&format!("Paged {n}"), small_def()).await;
        ids.push(created["workflow_id"].as_str().unwrap().to_string());
    }
    let (status, first) = api.get("/api/v1/workflows?limit=3").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["workflows"].as_array().unwrap().len(), 3);
    assert_eq!(first["next_offset"], 3);
    let (_, last) = api.get("/api/v1/workflows?limit=3&offset=6").await;
    assert_eq!(last["workflows"].as_array().unwrap().len(), 1);
    assert!(last.get("next_offset").is_none(), "{last}");
    let mut seen: Vec<String> = vec![];
    for offset in [0, 3, 6] {
        let (_, page) = api
            .get(&format!("/api/v1/workflows?limit=3&offset={offset}"))
            .await;
        seen.extend(
            page["workflows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].as_str().unwrap().to_string()),
        );
    }
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "the pages hold every workflow once");

    // versions: five of one workflow, two at a time, newest first
    let id = &ids[0];
    for _ in 0..4 {
        let (s, b) = api
            .json(
                "PUT",
                &format!("/api/v1/workflows/{id}"),
                json!({"definition": small_def()}).to_string(),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    let (_, v) = api
        .get(&format!("/api/v1/workflows/{id}/versions?limit=2&offset=2"))
        .await;
    let nums: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["version"].as_i64().unwrap())
        .collect();
    assert_eq!(nums, [3, 2]);
    let (s, past) = api
        .get(&format!("/api/v1/workflows/{id}/versions?offset=50"))
        .await;
    assert_eq!(
        (s.as_u16(), past),
        (200, json!([])),
        "past the end: an empty page, not 404"
    );

    // attempts: a run of four steps, two at a time
    let (_, started) = api
        .json(
            "POST",
            &format!("/api/v1/workflows/{id}/runs"),
            json!({"input": {"a": 1, "b": 2}}).to_string(),
        )
        .await;
    let run = started["run_id"].as_str().unwrap().to_string();
    api.engine.run_until_idle().await.unwrap();
    let (_, a) = api
        .get(&format!("/api/v1/runs/{run}/attempts?limit=2"))
        .await;
    let (_, b) = api
        .get(&format!("/api/v1/runs/{run}/attempts?limit=2&offset=2"))
        .await;
    let nodes: Vec<&str> = a
        .as_array()
        .unwrap()
        .iter()
        .chain(b.as_array().unwrap())
        .map(|x| x["node_id"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["start", "calc", "check", "end"]);

    for bad in ["limit=0", "limit=501", "offset=-1", "limit=ten", "page=2"] {
        let (s, e) = api.get(&format!("/api/v1/workflows?{bad}")).await;
        assert_eq!(s, 400, "{bad}: {e}");
        assert!(
            e["error"]["message"].as_str().unwrap_or_default().len() > 5,
            "{bad}: {e}"
        );
    }
    let (_, e) = api.get("/api/v1/workflows?limit=0").await;
    assert!(
        e.to_string().contains("limit must be 1 to 500, not 0"),
        "{e}"
    );
}

#[tokio::test]
async fn a_compressed_export_arrives_whole() {
    let api = crate::rest_api::Api::new().await;
    {
        let mut tx = api.db().write().await.unwrap();
        for i in 0..1_500 {
            let ev = NewAuditEvent::new(
                i,
                "user:bulk",
                "bulk.event",
                "bulk:zip".into(),
                json!({"i": i}),
            );
            app::store::audit::append(&mut tx, &ev).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    // as a browser asks for it: the compression layer polls the stream once
    // more after its end (that panicked the server and cut the download)
    let (status, headers, bytes) = api
        .raw(
            axum::http::Request::get("/api/v1/audit?format=jsonl&entity=bulk%3Azip")
                .header("accept-encoding", "br")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-encoding").map(|v| v.to_str().unwrap()),
        Some("br")
    );
    let mut text = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut text).expect("a whole brotli stream");
    assert_eq!(
        String::from_utf8(text).unwrap().lines().count(),
        1_500,
        "two pages, each line once"
    );
}

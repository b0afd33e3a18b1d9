//! The step log keeps what each step resolved from the run context: the
//! run input and the steps it reads, not the whole context again, so the
//! log of a long run grows with its steps rather than steps × context.

use crate::common::world::*;
use app::ops::runs;
use serde_json::json;

#[tokio::test]
async fn each_attempt_keeps_the_steps_it_read_and_a_dynamic_read_keeps_them_all() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform("a", "{v: .input.x}"),
            transform("b", "{v: (.steps.a.output.v + 1)}"),
            transform("c", "{v: (.steps.b.output.v * 2)}"),
            transform("any", ".steps | keys"),
            end("end", Some(".steps.c.output.v")),
        ],
        vec![
            ("start", "out", "a"),
            ("a", "out", "b"),
            ("b", "out", "c"),
            ("c", "out", "any"),
            ("any", "out", "end"),
        ],
    );
    let run = w.start(d, json!({"x": 20})).await;
    let r = w.succeeded(&run).await;
    assert_eq!(r.output, Some(json!(42)));
    let attempts = runs::attempts(&w.db, &run, app::domain::records::Paging::FIRST)
        .await
        .unwrap();
    let input = |id: &str| {
        attempts
            .iter()
            .find(|a| a.node_id == id)
            .and_then(|a| a.input.clone())
            .unwrap()
    };
    let steps = |id: &str| {
        let mut k: Vec<String> = input(id)["steps"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        input("c")["input"],
        json!({"x": 20}),
        "the run input is kept"
    );
    assert_eq!(steps("a"), Vec::<String>::new());
    assert_eq!(steps("b"), ["a"]);
    assert_eq!(steps("c"), ["b"]);
    assert_eq!(input("c")["steps"]["b"]["output"], json!({"v": 21}));
    // `.steps | keys` may read any step: all of them are kept
    assert_eq!(steps("any"), ["a", "b", "c", "start"]);
    // and an output's lineage names what it read
    let lineage = attempts
        .iter()
        .find(|a| a.node_id == "c")
        .unwrap()
        .lineage
        .clone()
        .unwrap();
    assert_eq!(lineage.reads, ["b"]);
}

#[tokio::test]
async fn a_long_chain_logs_in_proportion_to_its_steps_not_steps_times_context() {
    let w = World::new().await;
    // 40 steps, each reading the one before and adding 1 KB of text
    let mut nodes = vec![start(), transform("s0", "{pad: (\"x\" * 1000), n: 0}")];
    let mut edges = vec![("start".to_string(), "s0".to_string())];
    for i in 1..40 {
        nodes.push(transform(
            &format!("s{i}"),
            &format!(
                "{{pad: .steps.s{}.output.pad, n: (.steps.s{}.output.n + 1)}}",
                i - 1,
                i - 1
            ),
        ));
        edges.push((format!("s{}", i - 1), format!("s{i}")));
    }
    nodes.push(end("end", Some(".steps.s39.output.n")));
    edges.push(("s39".into(), "end".into()));
    let edges: Vec<(&str, &str, &str)> = edges
        .iter()
        .map(|(a, b)| (a.as_str(), "out", b.as_str()))
        .collect();
    let run = w.start(def(nodes, edges), json!({})).await;
    assert_eq!(w.succeeded(&run).await.output, Some(json!(39)));
    let logged: usize = runs::attempts(&w.db, &run, app::domain::records::Paging::FIRST)
        .await
        .unwrap()
        .iter()
        .filter_map(|a| a.input.as_ref())
        .map(|i| i.to_string().len())
        .sum();
    // each attempt keeps about one step's output (1 KB); the whole context
    // would have been about 40 × 41 / 2 KB = 820 KB
    assert!(logged < 60_000, "{logged} bytes of step input logged");
}

//! The workflow format: JSON shape, defaults, ports.
use super::*;

#[test]
fn node_json_is_flat_with_type_tag() {
    let n = Node::new(
        "calc",
        "Calculate",
        NodeKind::Transform {
            expression: ".input.amount * 2".into(),
        },
    );
    let v = serde_json::to_value(&n).unwrap();
    assert_eq!(v["type"], "transform");
    assert_eq!(v["expression"], ".input.amount * 2");
    assert!(v.get("retry").is_none(), "default retry is omitted");
    let back: Node = serde_json::from_value(v).unwrap();
    assert_eq!(back, n);
}

#[test]
fn defaults_fill_in_missing_fields() {
    let n: Node = serde_json::from_str(
        r#"{"id":"h","name":"Call","type":"http","url":"https://x.test/{{ input.id }}"}"#,
    )
    .unwrap();
    match &n.kind {
        NodeKind::Http { request, .. } => assert_eq!(request.method, "GET"),
        other => panic!("unexpected kind {other:?}"),
    }
    assert_eq!(n.retry.transient.max_attempts, 5);
    assert_eq!(n.retry.format.max_attempts, 2);
    assert_eq!(n.retry.business.max_attempts, 1);
    let e: Edge = serde_json::from_str(r#"{"from":"a","to":"b"}"#).unwrap();
    assert_eq!(e.port, "out");
}

#[test]
fn unknown_fields_are_rejected() {
    let err = serde_json::from_str::<WorkflowDef>(r#"{"nodes":[],"edgez":[]}"#).unwrap_err();
    assert!(err.to_string().contains("edgez"), "{err}");
}

#[test]
fn ports_per_kind() {
    let b = NodeKind::Branch {
        conditions: vec![BranchCondition {
            label: "big".into(),
            expression: "true".into(),
        }],
    };
    assert_eq!(b.ports(), vec!["big", "default"]);
    assert!(NodeKind::End { output: None }.ports().is_empty());
}

#[test]
fn durations_read_well() {
    assert_eq!(human_duration(90_000), "1m 30s");
    assert_eq!(human_duration(500), "500ms");
    assert_eq!(human_duration(86_400_000 + 3_600_000), "1d 1h");
}

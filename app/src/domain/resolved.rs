//! What a step resolved from the run context: the part of `{input, steps,
//! item, index}` its expressions and templates read. The step log keeps
//! this instead of the whole context again (which grows with every step,
//! so storing it per attempt grew with steps × context), and an output's
//! lineage names exactly the steps it read.
//!
//! Conservative: whenever a step may read steps it does not name (a Code
//! step's JavaScript, `.steps | keys`, `steps[x]`, the whole context as
//! `.`, `..` or a bare function at the start of jq), it keeps them all.

use super::graph::{Node, NodeKind};
use super::validate::refs::{sources, step_reads};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Keywords that may start a jq program without reading the context.
const JQ_KEYWORDS: [&str; 10] = [
    "if", "reduce", "foreach", "def", "try", "label", "null", "true", "false", "not",
];

/// Whether jq `code` may read the whole context rather than named paths:
/// `..`, a `.` that starts no named path, or a function applied to the
/// context at the start.
fn reads_whole_context(code: &str) -> bool {
    // string literals cannot read anything
    let mut plain = String::with_capacity(code.len());
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            while let Some(d) = chars.next() {
                match d {
                    '\\' => {
                        chars.next();
                    }
                    '"' => break,
                    _ => {}
                }
            }
            plain.push_str("\"\"");
        } else {
            plain.push(c);
        }
    }
    if plain.contains("..") {
        return true;
    }
    let b = plain.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    for (i, &c) in b.iter().enumerate() {
        // a path-starting dot (not `.a.b`'s second, not `1.5`)
        let starts_path = c == b'.'
            && (i == 0 || !(ident(b[i - 1]) || matches!(b[i - 1], b']' | b')' | b'?' | b'"')));
        if starts_path
            && !b
                .get(i + 1)
                .is_some_and(|n| ident(*n) || *n == b'[' || *n == b'"')
        {
            return true;
        }
    }
    let first: String = plain
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    !first.is_empty()
        && !first.starts_with(|c: char| c.is_ascii_digit())
        && !JQ_KEYWORDS.contains(&first.as_str())
}

/// The steps `node` reads, or None when it may read any of them.
pub fn steps_read(node: &Node) -> Option<std::collections::BTreeSet<String>> {
    if matches!(node.kind, NodeKind::Code { .. }) {
        return None;
    }
    let mut all = std::collections::BTreeSet::new();
    for (_, code, template) in sources(node) {
        let (ids, dynamic) = step_reads(code, template);
        if dynamic || (!template && reads_whole_context(code)) {
            return None;
        }
        all.extend(ids);
    }
    Some(all)
}

/// `ctx` with only the steps `node` reads (everything else as it is).
pub fn resolved<'a>(node: &Node, ctx: &'a Value) -> Cow<'a, Value> {
    let (Some(read), Value::Object(map)) = (steps_read(node), ctx) else {
        return Cow::Borrowed(ctx);
    };
    let mut out = Map::with_capacity(map.len());
    for (k, v) in map {
        if k == "steps" {
            let kept: Map<String, Value> = v
                .as_object()
                .map(|s| {
                    s.iter()
                        .filter(|(id, _)| read.contains(id.as_str()))
                        .map(|(id, x)| (id.clone(), x.clone()))
                        .collect()
                })
                .unwrap_or_default();
            out.insert(k.clone(), Value::Object(kept));
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Cow::Owned(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::graph::NodeKind;
    use serde_json::json;

    fn transform(expression: &str) -> Node {
        Node::new(
            "t",
            "t",
            NodeKind::Transform {
                expression: expression.into(),
            },
        )
    }

    fn ctx() -> Value {
        json!({"input": {"x": 1}, "steps": {"a": {"output": 1}, "b": {"output": 2}, "c": {"output": 3}}})
    }

    #[test]
    fn a_step_keeps_only_the_steps_it_names() {
        let c = ctx();
        let r = resolved(
            &transform(".steps.a.output + .steps[\"b\"].output + .input.x"),
            &c,
        );
        assert_eq!(
            r.as_ref(),
            &json!({"input": {"x": 1}, "steps": {"a": {"output": 1}, "b": {"output": 2}}})
        );
        let fail = Node::new(
            "f",
            "f",
            NodeKind::Fail {
                message: "{{ steps.c.output }} and {{ input.x }}".into(),
            },
        );
        assert_eq!(
            resolved(&fail, &ctx())["steps"],
            json!({"c": {"output": 3}})
        );
        // a string that mentions a step reads nothing
        assert_eq!(
            resolved(&transform("\"see .steps.b\" + .input.x"), &ctx())["steps"],
            json!({})
        );
    }

    #[test]
    fn a_step_that_may_read_any_step_keeps_them_all() {
        for code in [
            ".steps | keys",
            ".steps[.input.which].output",
            ".",
            "{all: .}",
            "[..] | length",
            "tojson",
            ". as $c | $c.steps.a",
        ] {
            assert_eq!(
                resolved(&transform(code), &ctx()).as_ref(),
                &ctx(),
                "{code}"
            );
        }
        let tmpl = Node::new(
            "f",
            "f",
            NodeKind::Fail {
                message: "{% for k in steps %}{{ k }}{% endfor %}".into(),
            },
        );
        assert_eq!(resolved(&tmpl, &ctx()).as_ref(), &ctx());
        let code = Node::new(
            "c",
            "c",
            NodeKind::Code {
                source: "function main(ctx) { return ctx.steps.a; }".into(),
            },
        );
        assert_eq!(resolved(&code, &ctx()).as_ref(), &ctx());
    }

    #[test]
    fn keywords_numbers_and_named_paths_do_not_read_the_whole_context() {
        for code in [
            "if .input.x > 1.5 then .steps.a else null end",
            "[.steps.a.output[] | select(.ok)]",
            "1 + .input.x",
        ] {
            assert!(steps_read(&transform(code)).is_some(), "{code}");
        }
    }
}

//! Steps named in expressions and templates must exist: `.steps.<id>` (jq)
//! or `steps.<id>` (templates) naming no node reads null at run time and
//! silently takes a Branch's default, so it is a problem to fix instead.

use super::{ProblemKind, Problems};
use crate::domain::graph::*;
use std::collections::BTreeSet;

/// The expressions (false) and templates (true) a node holds, by what they
/// are for.
pub(crate) fn sources(n: &Node) -> Vec<(String, &str, bool)> {
    let mut out: Vec<(String, &str, bool)> = Vec::new();
    match &n.kind {
        NodeKind::Transform { expression } => out.push(("expression".into(), expression, false)),
        NodeKind::Branch { conditions } => {
            for c in conditions {
                out.push((format!("condition '{}'", c.label), &c.expression, false));
            }
        }
        NodeKind::End {
            output: Some(output),
        } => out.push(("output".into(), output, false)),
        NodeKind::Http { request: r, .. } => {
            out.push(("URL".into(), &r.url, true));
            for (name, value) in &r.headers {
                out.push((format!("header '{name}'"), value, true));
            }
            if let Some(b) = &r.body {
                out.push(("body".into(), b, true));
            }
        }
        NodeKind::Approval(a) => {
            out.push(("title".into(), &a.title, true));
            out.push(("instructions".into(), &a.instructions, true));
        }
        NodeKind::Fail { message } => out.push(("message".into(), message, true)),
        NodeKind::SubWorkflow {
            input: Some(input), ..
        } => out.push(("input mapping".into(), input, false)),
        NodeKind::ForEach(f) => out.push(("items expression".into(), &f.items, false)),
        NodeKind::Llm(cfg) => {
            out.push(("system prompt".into(), &cfg.system, true));
            out.push(("prompt".into(), &cfg.prompt, true));
        }
        NodeKind::Email(e) => {
            for (what, t) in [
                ("to", &e.to),
                ("cc", &e.cc),
                ("subject", &e.subject),
                ("text", &e.text),
            ] {
                out.push((what.into(), t, true));
            }
            if let Some(h) = &e.html {
                out.push(("HTML".into(), h, true));
            }
            if let Some(a) = &e.attachments {
                out.push(("attachments".into(), a, false));
            }
        }
        _ => {}
    }
    if let Some(r) = &n.compensation {
        out.push(("compensation URL".into(), &r.url, true));
        for (name, value) in &r.headers {
            out.push((format!("compensation header '{name}'"), value, true));
        }
        if let Some(b) = &r.body {
            out.push(("compensation body".into(), b, true));
        }
    }
    out
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The step ids `code` reads: `.steps.<id>` or `.steps["<id>"]` at the
/// start of a path in jq (`template`: `steps.<id>` inside `{{ }}` and
/// `{% %}`), outside string literals.
pub fn step_refs(code: &str, template: bool) -> BTreeSet<String> {
    step_reads(code, template).0
}

/// [`step_refs`], and whether `code` also reads `steps` in a way that
/// names no step (`.steps | keys`, `.steps[.input.which]`, `steps[x]`):
/// then any step may be read.
pub fn step_reads(code: &str, template: bool) -> (BTreeSet<String>, bool) {
    let mut found = BTreeSet::new();
    let mut dynamic = false;
    if template {
        let mut rest = code;
        while let Some(open) = rest.find(['{']) {
            let after = &rest[open + 1..];
            let close = match after.chars().next() {
                Some('{') => "}}",
                Some('%') => "%}",
                _ => {
                    rest = after;
                    continue;
                }
            };
            let inner = &after[1..];
            let end = inner.find(close).unwrap_or(inner.len());
            dynamic |= scan(&inner[..end], false, &mut found);
            rest = &inner[end..];
        }
    } else {
        dynamic = scan(code, true, &mut found);
    }
    (found, dynamic)
}

/// Finds `steps` accesses in `code`; `dotted`: jq, where the path starts
/// with `.steps`. True when one of them names no step.
fn scan(code: &str, dotted: bool, found: &mut BTreeSet<String>) -> bool {
    let b = code.as_bytes();
    let mut dynamic = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            // skip string literals (both quote kinds for templates)
            q @ (b'"' | b'\'') if q == b'"' || !dotted => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        let at = if dotted {
            // `.steps` where the dot starts a path (not `.input.steps`)
            b[i] == b'.'
                && b[i + 1..].starts_with(b"steps")
                && (i == 0
                    || !(ident_char(b[i - 1])
                        || matches!(b[i - 1], b']' | b')' | b'.' | b'?' | b'"')))
        } else {
            b[i..].starts_with(b"steps") && (i == 0 || !(ident_char(b[i - 1]) || b[i - 1] == b'.'))
        };
        if !at {
            i += 1;
            continue;
        }
        let mut j = i + if dotted { 6 } else { 5 };
        if b.get(j).is_some_and(|c| ident_char(*c)) {
            // `.stepsx`: another name
            i = j;
            continue;
        }
        if b.get(j) == Some(&b'?') {
            j += 1;
        }
        let id = match b.get(j) {
            Some(b'.') => {
                let start = j + 1;
                let mut end = start;
                while end < b.len() && ident_char(b[end]) {
                    end += 1;
                }
                (end > start).then(|| code[start..end].to_string())
            }
            Some(b'[') => {
                let quoted = &code[j + 1..];
                let q = quoted.chars().next().filter(|c| *c == '"' || *c == '\'');
                q.and_then(|q| {
                    let body = &quoted[1..];
                    body.find(q).map(|e| body[..e].to_string())
                })
            }
            _ => None,
        };
        match id {
            Some(id) => {
                found.insert(id);
            }
            None => dynamic = true,
        }
        i = j;
    }
    dynamic
}

/// Every step a node's expressions and templates name exists.
/// After `validate(def)` found `problems` (elsewhere: in the browser,
/// the server's answer for the saved version), remembers the expressions
/// of every step it found nothing wrong with as compiling, so validating an
/// edited copy compiles only the expressions that changed. Nothing is
/// remembered when a problem of the whole workflow may have stopped the
/// checks early (a definition too large is not checked step by step).
pub fn remember_checked(def: &WorkflowDef, problems: &[super::Problem]) {
    if problems
        .iter()
        .any(|p| p.node.is_none() && p.edge.is_none() && p.kind == ProblemKind::InvalidSetting)
    {
        return;
    }
    let faulty: BTreeSet<&str> = problems.iter().filter_map(|p| p.node.as_deref()).collect();
    for n in def.nodes.iter().filter(|n| !faulty.contains(n.id.as_str())) {
        for (_, code, template) in sources(n) {
            if !template {
                crate::domain::expr::remember_sound(code);
            }
        }
    }
}

/// Every step a node's expressions and templates name is in its scope
/// (`whole`: the complete workflow, to say when a step is in another one).
pub(super) fn check_step_refs(p: &mut Problems, def: &WorkflowDef, whole: &WorkflowDef) {
    let ids: BTreeSet<&str> = def.nodes.iter().map(|n| n.id.as_str()).collect();
    for n in &def.nodes {
        for (what, code, template) in sources(n) {
            for id in step_refs(code, template) {
                if ids.contains(id.as_str()) {
                    continue;
                }
                let message = match (whole.node(&id), &n.parent) {
                    (Some(_), Some(frame)) => format!(
                        "the {what} reads step '{id}', which is outside the body of For each '{frame}'; a body reads its own steps, .item and .index (pass other values in through the items expression)"
                    ),
                    (Some(_), None) => format!(
                        "the {what} reads step '{id}', which is inside a For each body; read the For each step's results instead"
                    ),
                    (None, _) => format!(
                        "the {what} reads step '{id}', which is not in the workflow; use the id of one of its steps"
                    ),
                };
                p.node(ProblemKind::UnknownStep, n, message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(code: &str, template: bool) -> Vec<String> {
        step_refs(code, template).into_iter().collect()
    }

    #[test]
    fn step_references_are_found_where_they_are_read() {
        assert_eq!(refs(".steps.calc.output.amount > 5", false), ["calc"]);
        assert_eq!(refs(r#".steps["my-step"].output"#, false), ["my-step"]);
        assert_eq!(
            refs(".steps?.a.output // .steps.b.output", false),
            ["a", "b"]
        );
        assert_eq!(refs("{x: .steps.a.output}", false), ["a"]);
        // not a top-level access, not the name, inside a string
        assert!(refs(".input.steps.x", false).is_empty());
        assert!(refs(".stepsx.y", false).is_empty());
        assert!(refs(r#"".steps.nope" + .input"#, false).is_empty());
        assert!(refs(".steps", false).is_empty());
        // templates: inside tags only
        assert_eq!(
            refs("Pay {{ steps.calc.output.amount }} now", true),
            ["calc"]
        );
        assert_eq!(
            refs("{% if steps.gate.output %}ok{% endif %}", true),
            ["gate"]
        );
        assert!(refs("steps.calc outside any tag", true).is_empty());
        assert!(refs("{{ input.steps.x }} {{ 'steps.y' }}", true).is_empty());
        assert_eq!(refs("{{ steps['a-b'].output }}", true), ["a-b"]);
        // hostile: unclosed tags and strings end the scan, never panic;
        // text that is not ASCII is stepped over byte by byte
        assert_eq!(refs("\"é\\ü\" + .steps.ä + .steps.b", false), ["b"]);
        assert!(refs("{{ 'ü' }} {{ é.steps }}", true).is_empty());
        assert!(refs("{{ steps.", true).is_empty());
        assert!(refs("\".steps.a", false).is_empty());
        assert!(refs(".steps[\"unterminated", false).is_empty());
        assert_eq!(refs("{{ steps.a", true), ["a"]);
    }
}

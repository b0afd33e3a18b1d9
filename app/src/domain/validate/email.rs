//! Checks of an Email step's settings: someone to send to, a subject and a
//! body, templates and the attachments expression that parse, and written
//! addresses that are addresses.

use super::{ProblemKind, Problems};
use crate::domain::expr;
use crate::domain::graph::*;
use crate::domain::notify::check_email;

/// The addresses written in a recipients field, split on commas,
/// semicolons and line breaks.
pub fn split_addresses(s: &str) -> Vec<&str> {
    s.split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect()
}

pub(super) fn check_email_step(p: &mut Problems, n: &Node, e: &EmailConfig) {
    let mut bad = |kind, message: String| p.node(kind, n, message);
    if e.to.trim().is_empty() {
        bad(
            ProblemKind::MissingConfig,
            "say who the email goes to (to)".into(),
        );
    }
    if e.subject.trim().is_empty() {
        bad(
            ProblemKind::MissingConfig,
            "give the email a subject".into(),
        );
    }
    if e.text.trim().is_empty() && e.html.as_deref().is_none_or(|h| h.trim().is_empty()) {
        bad(ProblemKind::MissingConfig, "write the email's text".into());
    }
    let mut written = 0;
    for (what, src) in [("to", &e.to), ("cc", &e.cc)] {
        if let Err(err) = expr::check_template(src) {
            bad(ProblemKind::InvalidTemplate, format!("{what}: {err}"));
            continue;
        }
        // addresses written out (not rendered from the run) are checked now
        if !src.contains("{{") && !src.contains("{%") {
            for a in split_addresses(src) {
                written += 1;
                if let Err(err) = check_email(a) {
                    bad(ProblemKind::MissingConfig, format!("{what}: {err}"));
                }
            }
        }
    }
    if written > MAX_RECIPIENTS {
        bad(
            ProblemKind::MissingConfig,
            format!("an email goes to at most {MAX_RECIPIENTS} people (to and cc), not {written}"),
        );
    }
    for (what, src) in [
        ("subject", Some(&e.subject)),
        ("text", Some(&e.text)),
        ("HTML", e.html.as_ref()),
    ] {
        if let Some(src) = src
            && let Err(err) = expr::check_template(src)
        {
            bad(ProblemKind::InvalidTemplate, format!("{what}: {err}"));
        }
    }
    if let Some(a) = &e.attachments
        && let Err(err) = expr::check(a)
    {
        bad(
            ProblemKind::InvalidExpression,
            format!("attachments: {err}"),
        );
    }
}

//! An Email step's settings: recipients, subject, text and HTML bodies
//! (templates) and the attachments (jq), each checked as you type.

use super::kinds::{code_field, edit_kind};
use super::{Canvas, read};
use crate::domain::expr;
use crate::domain::graph::{EmailConfig, Node, NodeKind};
use leptos::prelude::*;

fn get(
    node: Memo<Option<Node>>,
    f: fn(&EmailConfig) -> String,
) -> impl Fn() -> String + Copy + 'static {
    read(node, move |n| match &n.kind {
        NodeKind::Email(e) => f(e),
        _ => String::new(),
    })
}

fn set(canvas: Canvas, id: &str, f: fn(&mut EmailConfig, String)) -> impl Fn(String) + 'static {
    let id = id.to_string();
    move |v| {
        edit_kind(canvas, &id, |k| {
            if let NodeKind::Email(e) = k {
                f(e, v);
            }
        })
    }
}

fn optional(v: String) -> Option<String> {
    (!v.trim().is_empty()).then_some(v)
}

pub(super) fn email_fields(canvas: Canvas, id: &str, node: Memo<Option<Node>>) -> AnyView {
    view! {
        {code_field("To (template; addresses separated by commas)", 1, get(node, |e| e.to.clone()), expr::check_template,
            set(canvas, id, |e, v| e.to = v))}
        {code_field("Cc (template, optional)", 1, get(node, |e| e.cc.clone()), expr::check_template,
            set(canvas, id, |e, v| e.cc = v))}
        {code_field("Subject (template)", 1, get(node, |e| e.subject.clone()), expr::check_template,
            set(canvas, id, |e, v| e.subject = v))}
        {code_field("Text (template)", 6, get(node, |e| e.text.clone()), expr::check_template,
            set(canvas, id, |e, v| e.text = v))}
        {code_field("HTML (template, optional)", 4, get(node, |e| e.html.clone().unwrap_or_default()), expr::check_template,
            set(canvas, id, |e, v| e.html = optional(v)))}
        {code_field("Attachments (jq, optional)", 2, get(node, |e| e.attachments.clone().unwrap_or_default()), expr::check,
            set(canvas, id, |e, v| e.attachments = optional(v)))}
        <p class="hint muted">"Attachments: a list of " <code>"{filename, content_type, content}"</code>
            " (or " <code>"content_base64"</code> "). Sent through the mail server under Settings → Notifications; the Message-ID comes from the step's idempotency key, so a repeated send can be recognised."</p>
    }
    .into_any()
}

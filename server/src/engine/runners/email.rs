//! Sends an Email step's message: recipients, subject and bodies rendered
//! in the sandbox (the HTML body with its values escaped), attachments
//! from a jq expression, all checked before anything is sent; then one
//! conversation with the instance's mail server. The Message-ID comes from
//! the step's idempotency key, so every attempt of the step sends the same
//! one and a repeated send can be recognised.

use super::{Attempt, Outcome};
use crate::mailer::{self, Mail, MailAttachment};
use crate::sandbox::{Job, Request};
use app::domain::graph::{
    EmailConfig, ErrorClass, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_RECIPIENTS,
};
use app::domain::notify::{SmtpSettings, check_email};
use app::domain::validate::email::split_addresses;
use base64::Engine as _;
use serde_json::{Value, json};

/// The mail server and its password, as the engine found them.
pub type MailServer = Result<Option<(SmtpSettings, Option<String>)>, String>;

fn bad(message: impl Into<String>) -> Outcome {
    Outcome::fail(ErrorClass::Business, message)
}

/// `<key@stepwise>` with the key's separators made safe for a Message-ID.
pub fn message_id(key: &str) -> String {
    let left: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("<{left}@stepwise>")
}

pub async fn run(a: &Attempt<'_>, cfg: &EmailConfig, server: MailServer) -> Outcome {
    let (settings, password) = match server {
        Ok(Some(s)) => s,
        Ok(None) => {
            return bad("no mail server is set: an admin sets one under Settings → Notifications");
        }
        Err(e) => return Outcome::fail(ErrorClass::Transient, e),
    };
    let mail = match prepare(a, cfg).await {
        Ok(m) => m,
        Err(o) => return o,
    };
    let output = json!({
        "message_id": mail.message_id,
        "to": mail.to,
        "cc": mail.cc,
        "subject": mail.subject,
        "attachments": mail.attachments.iter().map(|f| json!({"filename": f.filename, "bytes": f.content.len()})).collect::<Vec<_>>(),
    });
    let message = match mailer::build(&settings.from, &mail) {
        Ok(m) => m,
        Err(e) => return bad(e.message),
    };
    match mailer::send(&settings, password, message).await {
        Ok(()) => Outcome::out(output),
        Err(e) if e.permanent => bad(e.message),
        Err(e) => Outcome::fail(ErrorClass::Transient, e.message),
    }
}

/// The message the step sends, rendered and checked (nothing is sent).
pub async fn prepare(a: &Attempt<'_>, cfg: &EmailConfig) -> Result<Mail, Outcome> {
    let mut jobs = vec![
        Job::template(&cfg.to),
        Job::template(&cfg.cc),
        Job::template(&cfg.subject),
        Job::template(&cfg.text),
    ];
    if let Some(h) = &cfg.html {
        jobs.push(Job::Html {
            src: h.clone(),
            ctx: 0,
        });
    }
    if let Some(x) = &cfg.attachments {
        jobs.push(Job::jq(x));
    }
    let results = a
        .sandbox
        .run(&Request::over(a.context, jobs))
        .await
        .map_err(super::sandbox_failure)?;
    let mut results = results.into_iter();
    let mut next = |what: &str| -> Result<Value, Outcome> {
        match results.next() {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(Outcome::fail(ErrorClass::Format, format!("{what}: {e}"))),
            None => Err(Outcome::fail(
                ErrorClass::Transient,
                "the sandbox answered too few results",
            )),
        }
    };
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let to = addresses("to", &text(next("to")?))?;
    let cc = addresses("cc", &text(next("cc")?))?;
    let subject = text(next("subject")?);
    let body = text(next("text")?);
    let html = match &cfg.html {
        Some(_) => Some(text(next("HTML")?)),
        None => None,
    };
    let attachments = match &cfg.attachments {
        Some(_) => files(next("attachments")?)?,
        None => vec![],
    };
    if to.is_empty() {
        return Err(bad(
            "'to' rendered to no address: the email has nobody to go to",
        ));
    }
    if to.len() + cc.len() > MAX_RECIPIENTS {
        return Err(bad(format!(
            "an email goes to at most {MAX_RECIPIENTS} people (to and cc), not {}",
            to.len() + cc.len()
        )));
    }
    if subject.trim().is_empty() {
        return Err(bad("the subject rendered empty"));
    }
    Ok(Mail {
        to,
        cc,
        subject,
        text: body,
        html,
        attachments,
        message_id: Some(message_id(&app::domain::records::idempotency_key(
            a.run_id, a.step_id, a.item, a.pass,
        ))),
    })
}

fn addresses(what: &str, rendered: &str) -> Result<Vec<String>, Outcome> {
    let list = split_addresses(rendered);
    for a in &list {
        check_email(a).map_err(|e| bad(format!("{what}: {e}")))?;
    }
    Ok(list.into_iter().map(str::to_string).collect())
}

/// The attachments expression's value: null, or a list of
/// `{filename, content_type?, content | content_base64}`.
fn files(v: Value) -> Result<Vec<MailAttachment>, Outcome> {
    let list = match v {
        Value::Null => return Ok(vec![]),
        Value::Array(l) => l,
        other => {
            return Err(bad(format!(
                "attachments must be a list of {{filename, content}}, not {}",
                kind(&other)
            )));
        }
    };
    if list.len() > MAX_ATTACHMENTS {
        return Err(bad(format!(
            "an email carries at most {MAX_ATTACHMENTS} attachments, not {}",
            list.len()
        )));
    }
    let mut out = Vec::with_capacity(list.len());
    let mut total = 0;
    for (i, f) in list.into_iter().enumerate() {
        let n = i + 1;
        let name = f["filename"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_string();
        if name.is_empty()
            || name.len() > 255
            || name
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\')
        {
            return Err(bad(format!(
                "attachment {n}: filename must be a name of 1 to 255 characters without slashes or line breaks"
            )));
        }
        let content_type = f["content_type"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_string();
        let content = match (&f["content"], &f["content_base64"]) {
            (Value::String(s), Value::Null) => s.clone().into_bytes(),
            (Value::Null, Value::String(b)) => base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map_err(|e| {
                    bad(format!(
                        "attachment {name}: content_base64 is not base64 ({e})"
                    ))
                })?,
            _ => {
                return Err(bad(format!(
                    "attachment {name}: give its content as text (content) or as base64 (content_base64), one of the two"
                )));
            }
        };
        total += content.len();
        if total > MAX_ATTACHMENT_BYTES {
            return Err(bad(format!(
                "the attachments come to more than {} MB, the most one email carries",
                MAX_ATTACHMENT_BYTES / (1024 * 1024)
            )));
        }
        out.push(MailAttachment {
            filename: name,
            content_type,
            content,
        });
    }
    Ok(out)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

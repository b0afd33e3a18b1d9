//! Sending email through the instance's mail server (`lettre`): one
//! connection per message, a bounded wait, errors said as the server said
//! them. Used by the notifier's outbox and by Email steps.

use app::domain::notify::{SmtpSecurity, SmtpSettings};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// The longest one conversation with the mail server may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// A file sent with a message.
#[derive(Clone, Debug, PartialEq)]
pub struct MailAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A message to send.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mail {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<MailAttachment>,
    /// `<…@…>`; lettre makes one up when not given.
    pub message_id: Option<String>,
}

/// Why a send failed, and whether trying again may help.
#[derive(Clone, Debug, PartialEq)]
pub struct SendError {
    pub message: String,
    /// A refusal the server will repeat (a 5xx answer, a bad address):
    /// retrying cannot help.
    pub permanent: bool,
}

impl SendError {
    fn permanent(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            permanent: true,
        }
    }
}

fn mailbox(field: &str, s: &str) -> Result<Mailbox, SendError> {
    s.trim()
        .parse::<Mailbox>()
        .map_err(|e| SendError::permanent(format!("{field}: '{s}' is not an address ({e})")))
}

/// The message as it goes on the wire.
pub fn build(from: &str, mail: &Mail) -> Result<Message, SendError> {
    if mail.to.is_empty() {
        return Err(SendError::permanent(
            "a message needs at least one recipient in 'to'",
        ));
    }
    let mut b = Message::builder()
        .from(mailbox("from", from)?)
        .subject(app::domain::notify::messages::one_line(&mail.subject, 998))
        .message_id(mail.message_id.clone());
    for to in &mail.to {
        b = b.to(mailbox("to", to)?);
    }
    for cc in &mail.cc {
        b = b.cc(mailbox("cc", cc)?);
    }
    let text = mail.text.clone();
    let built = match (&mail.html, mail.attachments.is_empty()) {
        (None, true) => b.singlepart(SinglePart::plain(text)),
        (Some(html), true) => b.multipart(MultiPart::alternative_plain_html(text, html.clone())),
        (html, false) => {
            let mut all = match html {
                Some(h) => {
                    MultiPart::mixed().multipart(MultiPart::alternative_plain_html(text, h.clone()))
                }
                None => MultiPart::mixed().singlepart(SinglePart::plain(text)),
            };
            for a in &mail.attachments {
                let kind = ContentType::parse(&a.content_type).map_err(|_| {
                    SendError::permanent(format!(
                        "attachment {}: '{}' is not a content type (e.g. application/pdf)",
                        a.filename, a.content_type
                    ))
                })?;
                all = all
                    .singlepart(Attachment::new(a.filename.clone()).body(a.content.clone(), kind));
            }
            b.multipart(all)
        }
    };
    built.map_err(|e| SendError::permanent(format!("the message could not be built: {e}")))
}

/// Sends `message` through the mail server in `s`.
pub async fn send(
    s: &SmtpSettings,
    password: Option<String>,
    message: Message,
) -> Result<(), SendError> {
    let host = s.host.trim_matches(['[', ']']);
    let builder = match s.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| SendError::permanent(format!("the mail server {host}: {e}")))?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
            .map_err(|e| SendError::permanent(format!("the mail server {host}: {e}")))?,
    };
    let mut builder = builder.port(s.port).timeout(Some(SEND_TIMEOUT));
    if let Some(user) = &s.username {
        builder = builder.credentials(Credentials::new(user.clone(), password.unwrap_or_default()));
    }
    let transport = builder.build();
    let sent = tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await;
    match sent {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(SendError {
            permanent: e.is_permanent(),
            message: format!("the mail server {}:{} said: {e}", s.host, s.port),
        }),
        Err(_) => Err(SendError {
            message: format!(
                "the mail server {}:{} did not finish within {} s",
                s.host,
                s.port,
                SEND_TIMEOUT.as_secs()
            ),
            permanent: false,
        }),
    }
}

//! An Email step's settings: who it goes to, what it says, and what it
//! carries. Addresses, subject and bodies are templates over the run
//! context; attachments are a jq expression that gives a list.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Recipients, separated by commas (a template).
    pub to: String,
    /// Copies, separated by commas (a template; empty: none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cc: String,
    /// A template; made one line when sent.
    pub subject: String,
    /// The plain-text body (a template).
    pub text: String,
    /// An HTML body sent beside the text (a template; values from the run
    /// context are HTML-escaped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// jq over the run context giving a list of
    /// `{filename, content_type?, content | content_base64}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<String>,
}

/// Recipients (to and cc together) one message may have.
pub const MAX_RECIPIENTS: usize = 50;
/// Files one message may carry.
pub const MAX_ATTACHMENTS: usize = 20;
/// The size of all attachments together, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

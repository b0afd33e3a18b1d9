//! A node's one-line description, for cards and lists.

use super::*;

impl Node {
    /// A one-line description for node cards and lists.
    pub fn summary(&self) -> String {
        match &self.kind {
            NodeKind::Start { .. } => "run input".into(),
            NodeKind::Http { request, .. } => format!("{} {}", request.method, request.url),
            NodeKind::Transform { expression } => expression.clone(),
            NodeKind::Code { source } => match source.lines().count() {
                1 => "JavaScript, 1 line".into(),
                n => format!("JavaScript, {n} lines"),
            },
            NodeKind::Branch { conditions } => conditions
                .iter()
                .map(|c| c.expression.as_str())
                .collect::<Vec<_>>()
                .join(" | "),
            NodeKind::Join {} => "wait for all paths".into(),
            NodeKind::Approval(a) => {
                let who: Vec<&str> = a
                    .approvers
                    .roles
                    .iter()
                    .chain(a.approvers.users.iter())
                    .map(String::as_str)
                    .collect();
                format!("needs: {}", who.join(", "))
            }
            NodeKind::Delay { duration_ms } => format!("wait {}", human_duration(*duration_ms)),
            NodeKind::End { output } => output.clone().unwrap_or_else(|| "finish".into()),
            NodeKind::Fail { message } => message.clone(),
            NodeKind::SubWorkflow {
                workflow_id,
                version,
                ..
            } => match version {
                Some(v) => format!("runs {workflow_id} v{v}"),
                None => format!("runs {workflow_id} (published)"),
            },
            NodeKind::ForEach(f) => format!("each of {}", f.items),
            NodeKind::Llm(cfg) => match cfg.mode {
                LlmMode::Classify => format!(
                    "{}: {}",
                    cfg.connection,
                    cfg.labels
                        .iter()
                        .map(|l| l.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" | ")
                ),
                mode => format!("{}: {}", cfg.connection, mode.as_str()),
            },
            NodeKind::Email(e) => format!("to {}: {}", e.to, e.subject),
        }
    }
}

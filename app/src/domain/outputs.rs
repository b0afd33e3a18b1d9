//! What each kind of step outputs: the value later steps read as
//! `.steps.<id>.output`. Shown in the designer's inspector and written in
//! docs/workflow-format.md (a test keeps the two the same).

/// Every kind's output, by kind name, in the order of the palette.
pub const OUTPUTS: &[(&str, &str)] = &[
    (
        "start",
        "the run's input, as given (checked against the input schema)",
    ),
    (
        "http",
        "{status, body}: the response's status code and its body (parsed JSON, else the text)",
    ),
    (
        "email",
        "{message_id, to, cc, subject, attachments: [{filename, bytes}]}: what was sent (a golden run sends nothing: {sent: false, reason})",
    ),
    (
        "transform",
        "the expression's result (a numeric `confidence` field in 0–1 reports the step's confidence)",
    ),
    (
        "code",
        "what main(ctx) returns (or what its promise resolves to); a numeric `confidence` field in 0–1 reports the step's confidence",
    ),
    (
        "branch",
        "{taken}: the label of the condition that held, or \"default\"",
    ),
    (
        "join",
        "{} (a Join routes; read the data from the steps before it)",
    ),
    (
        "approval",
        "approved: the proposal as the approvers left it, with the form answers set on it; rejected (with a rejected edge): {rejected_by, comment}",
    ),
    ("delay", "{waited_ms}"),
    (
        "sub_workflow",
        "the child run's output (a failed or cancelled child fails the step with its error)",
    ),
    (
        "for_each",
        "{total, succeeded, failed, cancelled, failures, results}: `results` holds each item's output in list order (null where an item failed; left out when gathering is off), `failures` the first ten failed items with their errors",
    ),
    (
        "llm",
        "classify: {label, reason, confidence, method, scores, model}; extract: {data, confidence, method, model}; generate: {text} (or {data} for JSON) with confidence, method and model. `method` says how the confidence was measured: label_logprobs, token_logprobs or sample_agreement",
    ),
    (
        "end",
        "the output mapping's result, which is the run's output; without a mapping, every step's output by id",
    ),
    ("fail", "nothing: the run fails with the message"),
];

/// What a step of this kind (its type name) outputs, in a sentence.
pub fn output_of(kind: &str) -> &'static str {
    OUTPUTS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, d)| *d)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/workflow-format.md says what the inspector says (the palette's
    /// test checks that every kind has its sentence).
    #[test]
    fn every_output_sentence_is_in_the_format_doc() {
        let doc = include_str!("../../../docs/workflow-format.md");
        for (kind, said) in OUTPUTS {
            let row = format!("| `{kind}` | {said} |");
            assert!(doc.contains(&row), "docs/workflow-format.md lacks: {row}");
        }
    }
}

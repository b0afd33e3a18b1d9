use super::*;
use serde_json::json;

fn tok(token: &str, p: f64, top: &[(&str, f64)]) -> TokenLogprob {
    TokenLogprob {
        token: token.into(),
        logprob: p.ln(),
        top: top.iter().map(|(t, p)| (t.to_string(), p.ln())).collect(),
    }
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn a_single_token_label_is_its_share_of_the_labels_mass() {
    let l = labels(&["refund", "billing", "other"]);
    let tokens = [
        tok(
            " refund",
            0.62,
            &[
                (" refund", 0.62),
                (" billing", 0.25),
                (" other", 0.08),
                (" Hi", 0.03),
            ],
        ),
        tok("\n", 0.9, &[("\n", 0.9)]),
    ];
    let s = label_scores(&l, 0, &tokens).unwrap();
    assert!(close(s[0], 0.62 / 0.95), "{s:?}");
    assert!(close(s[1], 0.25 / 0.95));
    assert!(close(s[2], 0.08 / 0.95));
}

#[test]
fn labels_whose_first_tokens_collide_are_told_apart_where_they_part() {
    let l = labels(&["billing", "bill_dispute", "refund"]);
    let tokens = [
        tok("bill", 0.9, &[("bill", 0.9), ("ref", 0.08)]),
        tok("ing", 0.7, &[("ing", 0.7), ("_", 0.25), ("ed", 0.03)]),
        tok("\n", 0.95, &[("\n", 0.95)]),
    ];
    let s = label_scores(&l, 0, &tokens).unwrap();
    let (billing, dispute, refund) = (0.9 * 0.7, 0.9 * 0.25, 0.08);
    let total = billing + dispute + refund;
    assert!(close(s[0], billing / total), "{s:?}");
    assert!(close(s[1], dispute / total));
    assert!(close(s[2], refund / total));
}

#[test]
fn a_label_outside_the_top_logprobs_gets_the_most_it_could_have() {
    let l = labels(&["refund", "billing", "other"]);
    // the listed tokens leave 0.05 unlisted; the least listed has 0.05
    let tokens = [tok(
        "refund",
        0.7,
        &[("refund", 0.7), ("billing", 0.2), ("Refund", 0.05)],
    )];
    let s = label_scores(&l, 0, &tokens).unwrap();
    assert!(close(s[0], 0.7 / 0.95), "{s:?}");
    assert!(close(s[2], 0.05 / 0.95), "other is bounded, not zero");
}

#[test]
fn a_longer_label_that_begins_with_the_chosen_one_parts_after_it() {
    let l = labels(&["bill", "billing"]);
    let tokens = [
        tok("bill", 0.8, &[("bill", 0.8), ("refund", 0.1)]),
        tok("\n", 0.6, &[("\n", 0.6), ("ing", 0.3)]),
    ];
    let s = label_scores(&l, 0, &tokens).unwrap();
    assert!(close(s[0], 0.8 * 0.7 / (0.8 * 0.7 + 0.8 * 0.3)), "{s:?}");
}

#[test]
fn leading_spaces_and_quotes_are_shared_by_every_label() {
    let l = labels(&["yes", "no"]);
    let tokens = [
        tok(" \"", 0.5, &[(" \"", 0.5), (" ", 0.5)]),
        tok("Yes", 0.8, &[("Yes", 0.8), ("No", 0.2)]),
    ];
    let s = label_scores(&l, 0, &tokens).unwrap();
    assert!(close(s[0], 0.8), "{s:?}");
}

#[test]
fn tokens_that_do_not_spell_the_chosen_label_give_no_measure() {
    let l = labels(&["refund", "billing"]);
    assert_eq!(label_scores(&l, 0, &[tok("bill", 0.9, &[])]), None);
    assert_eq!(
        label_scores(&l, 0, &[tok("ref", 0.9, &[])]),
        None,
        "cut short"
    );
    assert_eq!(label_scores(&l, 0, &[]), None);
    assert_eq!(label_scores(&l, 5, &[tok("refund", 0.9, &[])]), None);
}

#[test]
fn token_confidence_is_the_geometric_mean() {
    let t = [tok("a", 0.9, &[]), tok("b", 0.4, &[])];
    assert!(close(token_confidence(&t).unwrap(), (0.9_f64 * 0.4).sqrt()));
    assert_eq!(token_confidence(&[]), None);
}

#[test]
fn agreement_counts_equal_json_whatever_its_key_order() {
    let samples = [
        json!({"total": 12.5, "currency": "EUR"}),
        json!({"currency": "EUR", "total": 12.5}),
        json!({"currency": "USD", "total": 12.5}),
    ];
    assert_eq!(agreement(&samples, false), Some((0, 2.0 / 3.0)));
    let tie = [json!("b"), json!("a")];
    assert_eq!(
        agreement(&tie, false),
        Some((0, 0.5)),
        "the earliest wins a tie"
    );
    assert_eq!(agreement(&[], false), None);
}

#[test]
fn agreement_of_text_is_its_word_overlap_with_the_others() {
    let samples = [
        json!("Refund issued today"),
        json!("refund issued today."),
        json!("We will call you"),
    ];
    let (chosen, c) = agreement(&samples, true).unwrap();
    assert_eq!(chosen, 0);
    assert!(close(c, 0.5), "{c}");
    // labels are votes, not prose
    let labels = [json!("billing"), json!("refund"), json!("refund")];
    assert_eq!(agreement(&labels, false), Some((1, 2.0 / 3.0)));
}

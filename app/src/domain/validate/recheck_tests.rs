//! Checking again without compiling everything again: a move keeps the
//! problems, and the server's answer tells the browser which expressions
//! are sound.

use super::*;

use super::tests::linear;

#[test]
fn moving_steps_keeps_the_problems_unless_a_position_leaves_its_range() {
    let mut a = linear(&["t"]);
    a.nodes[1] = Node::new(
        "t",
        "t",
        NodeKind::Transform {
            expression: "{".into(),
        },
    );
    let mut b = a.clone();
    b.nodes[1].position = Position { x: 400.0, y: 80.0 };
    assert!(moved_only(&a, &b));
    assert_eq!(validate(&a), validate(&b), "what moved_only promises");
    // a position out of range is a problem of its own
    let mut far = b.clone();
    far.nodes[1].position.x = f64::NAN;
    assert!(!moved_only(&b, &far) && !moved_only(&far, &b));
    far.nodes[1].position.x = 2.0 * crate::domain::limits::MAX_COORDINATE;
    assert!(!moved_only(&b, &far));
    // anything else that changes is not a move
    let mut renamed = b.clone();
    renamed.nodes[1].name = "u".into();
    assert!(!moved_only(&b, &renamed));
    let mut rewired = b.clone();
    rewired.edges.pop();
    assert!(!moved_only(&b, &rewired));
    let mut reordered = b.clone();
    reordered.nodes.swap(0, 1);
    assert!(!moved_only(&b, &reordered));
}

#[test]
fn the_servers_answer_spares_the_browser_compiling_sound_expressions_again() {
    use crate::domain::expr::is_remembered;
    // expressions no other test uses, so the process-wide memory is fresh
    let node = |id: &str, expression: &str| {
        Node::new(
            id,
            id,
            NodeKind::Transform {
                expression: expression.into(),
            },
        )
    };
    let mut d = linear(&[]);
    d.nodes.insert(1, node("sound", "{seeded_sound: 1}"));
    d.nodes
        .insert(2, node("broken", "{seeded_broken: 1} | bogus_fn"));
    let problems = vec![Problem {
        kind: ProblemKind::InvalidExpression,
        node: Some("broken".into()),
        edge: None,
        message: "unknown name".into(),
    }];
    remember_checked(&d, &problems);
    assert!(is_remembered("{seeded_sound: 1}"));
    assert!(
        !is_remembered("{seeded_broken: 1} | bogus_fn"),
        "a step with a problem is checked again"
    );
    // a problem of the whole workflow may mean nothing was checked
    let mut big = linear(&[]);
    big.nodes.insert(1, node("other", "{seeded_unchecked: 1}"));
    let too_large = vec![Problem {
        kind: ProblemKind::InvalidSetting,
        node: None,
        edge: None,
        message: "too large".into(),
    }];
    remember_checked(&big, &too_large);
    assert!(!is_remembered("{seeded_unchecked: 1}"));
}

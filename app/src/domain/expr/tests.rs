use super::*;
use serde_json::json;

#[test]
fn valid_expressions_compile() {
    for code in [
        ".input.amount > 1000",
        "{total: (.input.items | map(.price) | add)}",
        ".steps.extract.output.vendor // \"unknown\"",
        "if .input.x then 1 else 2 end",
    ] {
        assert_eq!(check(code), Ok(()), "{code}");
    }
}

#[test]
fn syntax_errors_say_where() {
    // regression (issue 13): the message was cut mid-word, "found `end of expre`"
    let err = check(".input.amount >").unwrap_err();
    assert!(
        err.ends_with("but found the end of the expression at column 16"),
        "{err}"
    );
    // what was found is shown to the end of its word, long text shortened
    assert_eq!(
        check("1 + if").unwrap_err(),
        "expected term but found the end of the expression at column 7"
    );
    assert_eq!(
        check(".x | [1,2 3] | length").unwrap_err(),
        "expected ] but found `3` at column 11"
    );
    assert_eq!(
        check("{a: 1} something_long_here_and_longer").unwrap_err(),
        "expected the end of the expression but found `something_long_here_and_…` at column 8"
    );
    let err = check("{a: }").unwrap_err();
    assert!(err.contains("expected"), "{err}");
    assert_eq!(check("   ").unwrap_err(), "the expression is empty");
}

#[test]
fn unknown_functions_are_named() {
    let err = check("nosuchfn(1)").unwrap_err();
    assert!(err.contains("nosuchfn"), "{err}");
}

#[test]
fn eval_reads_the_context() {
    let ctx = json!({"input": {"amount": 1500, "items": [{"price": 2}, {"price": 3}]}});
    assert_eq!(eval(".input.amount > 1000", &ctx), Ok(json!(true)));
    assert_eq!(eval(".input.items | map(.price) | add", &ctx), Ok(json!(5)));
    assert!(eval("error(\"boom\")", &ctx).unwrap_err().contains("boom"));
    assert!(eval("empty", &ctx).unwrap_err().contains("no value"));
}

#[test]
fn truthiness_follows_jq() {
    assert!(truthy(&json!(0)));
    assert!(truthy(&json!("")));
    assert!(!truthy(&json!(null)));
    assert!(!truthy(&json!(false)));
}

#[test]
fn templates_check_and_render() {
    assert_eq!(check_template("/ledger/{{ input.id }}"), Ok(()));
    let err = check_template("/ledger/{{ input.id ").unwrap_err();
    assert!(err.contains("line 1"), "{err}");
    let ctx = json!({"input": {"id": 7}});
    assert_eq!(
        render_template("/ledger/{{ input.id }}", &ctx),
        Ok("/ledger/7".into())
    );
    assert!(render_template("{{ input.missing.deeper }}", &ctx).is_err());
}

/// A step that did not run (its branch was not taken) is absent from the
/// context: `or` picks the one that ran, while printing or reading into
/// an absent step is still an error rather than an empty string.
#[test]
fn templates_pick_the_step_that_ran_with_or_and_still_refuse_absent_values() {
    let ctx = json!({"steps": {"extract": {"output": {"amount": 5300}}}});
    let pick = "{{ (steps.approve or steps.extract).output.amount }}";
    assert_eq!(render_template(pick, &ctx), Ok("5300".into()));
    let both = json!({"steps": {
        "extract": {"output": {"amount": 5300}},
        "approve": {"output": {"amount": 5200}}
    }});
    assert_eq!(render_template(pick, &both), Ok("5200".into()));
    let err = render_template("{{ steps.approve }}", &ctx).unwrap_err();
    assert!(err.contains("undefined"), "{err}");
    assert!(render_template("{{ steps.approve.output }}", &ctx).is_err());
    assert_eq!(
        render_template(
            "{% if steps.approve %}edited{% else %}as extracted{% endif %}",
            &ctx
        ),
        Ok("as extracted".into())
    );
}

#[test]
fn functions_that_reach_outside_are_unknown() {
    for code in [
        "env",
        "env | {key: .STEPWISE_SECRET_KEY}",
        "$ENV",
        "halt",
        "halt_error",
        "halt_error(1)",
        "input",
        "inputs",
        "debug",
        "debug(\"x\")",
        "stderr",
        "now",
        "localtime",
        "input_filename",
    ] {
        let err = check(code).unwrap_err();
        assert!(err.contains("unknown name"), "{code}: {err}");
        assert!(eval(code, &json!({})).is_err(), "{code}");
    }
    // a definition of one's own under such a name is fine
    assert_eq!(eval("def env: 1; env", &json!({})), Ok(json!(1)));
}

#[test]
fn available_functions_are_documented() {
    let doc = include_str!("../../../../docs/workflow-format.md");
    let section = doc
        .split("<!-- jq-functions -->")
        .nth(1)
        .expect("docs/workflow-format.md has a <!-- jq-functions --> section");
    let listed: Vec<&str> = section.split('`').skip(1).step_by(2).collect();
    let available = available_functions();
    let missing: Vec<&String> = available
        .iter()
        .filter(|f| !listed.contains(&f.as_str()))
        .collect();
    let extra: Vec<&&str> = listed
        .iter()
        .filter(|f| !available.iter().any(|a| a == *f))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/workflow-format.md lists other jq functions than are available: not listed {missing:?}, listed but not available {extra:?}"
    );
    for denied in DENIED {
        assert!(
            !available
                .iter()
                .any(|a| a.starts_with(&format!("{denied}/")))
        );
    }
}

/// Runs `f` on a thread with a small stack, as a stand-in for the
/// browser's and the runtime's worker threads: an expression within the
/// bounds must never need more.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow")
}

#[test]
fn the_deepest_accepted_expressions_compile_and_run_on_a_small_stack() {
    let n = scan::MAX_DEPTH - 2;
    let cases = vec![
        vec!["1"; n].join("+"),
        vec!["1"; n].join("|"),
        vec!["1"; n].join("//"),
        vec!["1"; n / 2].join("|-"),
        format!("{}1{}", "(".repeat(n - 2), ")".repeat(n - 2)),
        format!("{}1{}", "[".repeat(n - 2), "]".repeat(n - 2)),
        format!("{}1{}", "{a:".repeat(n / 2 - 1), "}".repeat(n / 2 - 1)),
        format!(
            "{}1{}",
            "if true then ".repeat(n / 4 - 1),
            " else 0 end".repeat(n / 4 - 1)
        ),
        format!("{}1", "try ".repeat(n - 2)),
        format!("{}1", "- ".repeat(n - 2)),
        format!(
            "\"{}x{}\"",
            "\\(\"".repeat(n / 2 - 1),
            "\")".repeat(n / 2 - 1)
        ),
    ];
    for code in cases {
        assert!(
            scan::jq_depth(&code) <= scan::MAX_DEPTH,
            "{code}: {}",
            scan::jq_depth(&code)
        );
        let c = code.clone();
        let checked = on_small_stack(move || check(&c));
        assert_eq!(checked, Ok(()), "{code}");
        let c = code.clone();
        let evaluated = on_small_stack(move || eval(&c, &json!({})).map(|_| ()));
        assert!(evaluated.is_ok(), "{code}: {evaluated:?}");
    }
}

#[test]
fn deeper_expressions_are_refused_before_parsing() {
    for code in [
        vec!["1"; 5000].join("+"),
        format!("{}1{}", "(".repeat(1000), ")".repeat(1000)),
        "[".repeat(60_000),
        "if true then ".repeat(2000),
        "reduce . as $x (".repeat(1000),
    ] {
        let err = on_small_stack(move || check(&code)).unwrap_err();
        assert!(err.contains("nests too deeply"), "{err}");
    }
}

#[test]
fn the_deepest_accepted_templates_compile_and_render_on_a_small_stack() {
    let n = scan::MAX_TEMPLATE_DEPTH - 2;
    for src in [
        format!("{{{{ {} }}}}", vec!["1"; n].join("+")),
        format!("{{{{ {}1{} }}}}", "(".repeat(n - 2), ")".repeat(n - 2)),
        "{% if true %}".repeat(140) + &"{% endif %}".repeat(140),
    ] {
        // within the bounds: accepted, or refused by minijinja's own
        // recursion limit, never a stack overflow
        let s = src.clone();
        if let Err(e) = on_small_stack(move || check_template(&s)) {
            assert!(e.contains("recursion limit"), "{src}: {e}");
            continue;
        }
        let s = src.clone();
        assert!(on_small_stack(move || render_template(&s, &json!({}))).is_ok());
    }
    let err = check_template(&format!("{{{{ {} }}}}", vec!["1"; 5000].join("+"))).unwrap_err();
    assert!(err.contains("nests too deeply"), "{err}");
}

#[test]
fn template_loops_run_out_of_fuel() {
    let err = render_template(
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        &json!({}),
    )
    .unwrap_err();
    assert!(err.contains("fuel"), "{err}");
}

mod fuzz {
    //! Generated and mutated text for the checkers: whatever comes in, they
    //! answer (Ok or a message) on a small stack, without a panic or a
    //! stack overflow (which would abort the test binary).
    use super::*;
    use proptest::prelude::*;

    const JQ_TOKENS: &[&str] = &[
        ".",
        "..",
        ".a",
        ".[0]",
        "|",
        ",",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ":",
        ";",
        "+",
        "-",
        "*",
        "/",
        "%",
        "==",
        "!=",
        "<",
        ">=",
        "//",
        "?",
        "?//",
        "=",
        "|=",
        "+=",
        "and",
        "or",
        "not",
        "if",
        "then",
        "elif",
        "else",
        "end",
        "reduce",
        "foreach",
        "as",
        "$x",
        "$__loc__",
        "try",
        "catch",
        "def",
        "f",
        "f(.)",
        "label",
        "$out",
        "break",
        "\"",
        "\"s\"",
        "\"\\(",
        "\\(",
        "1",
        "1e308",
        "-0",
        "null",
        "true",
        "map",
        "range",
        "error",
        "env",
        "halt",
        "input",
        " ",
        "\n",
        "#",
        "@base64",
        "@json",
        "$ENV",
        "limit(3; .[])",
        "getpath([\"a\"])",
        "[.[]]",
    ];

    const TEMPLATE_TOKENS: &[&str] = &[
        "{{",
        "}}",
        "{%",
        "%}",
        "{#",
        "#}",
        "if",
        "elif",
        "else",
        "endif",
        "for",
        "in",
        "endfor",
        "set",
        "x",
        "input",
        ".",
        "id",
        "(",
        ")",
        "[",
        "]",
        "+",
        "~",
        "|",
        "upper",
        "tojson",
        "\"",
        "'s'",
        "1",
        "range(3)",
        "macro",
        "endmacro",
        "call",
        "loop",
        " ",
        "{",
        "}",
        "raw",
        "endraw",
        "-",
        "*",
        "**",
        "secrets.K",
        "filter",
        "endfilter",
        "not",
    ];

    fn text(tokens: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(tokens), 0..max).prop_map(|t| t.concat())
    }

    /// A valid expression with some of its characters repeated, removed or
    /// swapped for brackets.
    fn mutated() -> impl Strategy<Value = String> {
        const SEEDS: &[&str] = &[
            "{total: (.input.items | map(.price) | add)}",
            "if .input.x then [.a, .b] else {c: 1} end",
            "reduce .input.items[] as $i (0; . + $i.n)",
            "\"total \\(.input.amount)\" | ascii_upcase",
            "def f(x): x + 1; [limit(3; .[] | f(.))]",
        ];
        (
            proptest::sample::select(SEEDS),
            proptest::collection::vec((any::<usize>(), 0u8..4, 1usize..400), 1..6),
        )
            .prop_map(|(seed, edits)| {
                let mut s: Vec<char> = seed.chars().collect();
                for (at, op, n) in edits {
                    let at = at % (s.len() + 1);
                    let insert: Vec<char> = match op {
                        0 => std::iter::repeat_n(s.get(at).copied().unwrap_or('('), n).collect(),
                        1 => {
                            if at < s.len() {
                                s.remove(at);
                            }
                            continue;
                        }
                        2 => std::iter::repeat_n('(', n).collect(),
                        _ => "[{".chars().cycle().take(n).collect(),
                    };
                    s.splice(at..at, insert);
                }
                s.into_iter().collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn the_expression_checker_answers_anything(code in text(JQ_TOKENS, 3000)) {
            on_small_stack(move || { let _ = check(&code); });
        }

        #[test]
        fn the_expression_checker_answers_mutations(code in mutated()) {
            on_small_stack(move || { let _ = check(&code); });
        }

        #[test]
        fn the_template_checker_answers_anything(src in text(TEMPLATE_TOKENS, 3000)) {
            on_small_stack(move || { let _ = check_template(&src); });
        }
    }
}

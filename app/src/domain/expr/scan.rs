//! Bounds checked before any parser sees user text. jq's parser, compiler
//! and evaluator recurse once per level of the syntax tree, so a long chain
//! of operators or deeply nested brackets would overflow the stack (which
//! aborts the whole process, in the server and in the browser alike). This
//! scan reads the text once, without recursion, and refuses what could
//! nest deeper than [`MAX_DEPTH`] levels.

/// Longest jq expression accepted, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 64 * 1024;
/// Longest template accepted, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// Deepest syntax tree an expression may need (an upper bound counted over
/// brackets, operators and keywords; see [`jq_depth`]). Measured: 100
/// levels of any shape parse, compile and run on a 1 MiB stack in a debug
/// build (the browser's wasm stack is 1 MiB; the server's threads have 16).
pub const MAX_DEPTH: usize = 100;
/// Deepest nesting of operators and brackets inside a template tag.
pub const MAX_TEMPLATE_DEPTH: usize = 100;

#[derive(Clone, Copy, PartialEq)]
enum Frame {
    Paren,
    Brace,
    /// `\( … )` inside a string literal.
    Interpolation,
}

/// An upper bound on the depth of the syntax tree of `code`: every bracket
/// opens a level, and every operator character or keyword may add one
/// within its level (chains like `1+1+…` become trees as deep as they are
/// long). Inside an object, `,` and `:` start a new entry, which does not
/// nest. Comments and strings are skipped, except string interpolations.
pub fn jq_depth(code: &str) -> usize {
    // (kind, what this frame adds to the depth so far)
    let mut frames: Vec<(Frame, usize)> = vec![(Frame::Paren, 1)];
    let mut depth = 1usize;
    let mut deepest = 1usize;
    let mut in_string = false;
    let bytes = code.as_bytes();
    let mut i = 0;
    let add = |frames: &mut Vec<(Frame, usize)>, depth: &mut usize, n: usize| {
        if let Some(top) = frames.last_mut() {
            top.1 += n;
        }
        *depth += n;
    };
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' if bytes.get(i + 1) == Some(&b'(') => {
                    frames.push((Frame::Interpolation, 1));
                    depth += 1;
                    in_string = false;
                    i += 1;
                }
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'(' | b'[' => {
                    frames.push((Frame::Paren, 1));
                    depth += 1;
                }
                b'{' => {
                    frames.push((Frame::Brace, 1));
                    depth += 1;
                }
                b')' | b']' | b'}' if frames.len() > 1 => {
                    let (kind, added) = frames.pop().expect("more than one frame");
                    depth -= added;
                    if kind == Frame::Interpolation {
                        in_string = true;
                    }
                }
                b',' | b':' if frames.last().is_some_and(|f| f.0 == Frame::Brace) => {
                    let top = frames.last_mut().expect("checked above");
                    depth -= top.1 - 1;
                    top.1 = 1;
                }
                b'|' | b',' | b'+' | b'-' | b'*' | b'/' | b'%' | b'=' | b'<' | b'>' | b'!'
                | b'?' | b';' | b':' => {
                    // a two- or more-character operator is one operator
                    if let Some(op) = OPERATORS.iter().find(|op| bytes[i..].starts_with(op)) {
                        i += op.len() - 1;
                    }
                    add(&mut frames, &mut depth, 1)
                }
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                    let start = i;
                    while i + 1 < bytes.len()
                        && (bytes[i + 1].is_ascii_alphanumeric() || bytes[i + 1] == b'_')
                    {
                        i += 1;
                    }
                    let after_dot = start > 0 && matches!(bytes[start - 1], b'.' | b'$');
                    let word = &code[start..=i];
                    if !after_dot && KEYWORDS.contains(&word) {
                        add(&mut frames, &mut depth, 1);
                    }
                }
                _ => {}
            }
        }
        deepest = deepest.max(depth);
        i += 1;
    }
    deepest
}

const OPERATORS: &[&[u8]] = &[
    b"?//=", b"//=", b"?//", b"==", b"!=", b"<=", b">=", b"//", b"|=", b"+=", b"-=", b"*=", b"/=",
    b"%=",
];

const KEYWORDS: &[&str] = &[
    "if", "then", "elif", "else", "end", "reduce", "foreach", "try", "catch", "def", "as", "label",
    "and", "or", "not",
];

/// Refuses jq text that is too long or could nest too deeply to parse
/// safely, saying what to do instead.
pub fn check_jq_bounds(code: &str) -> Result<(), String> {
    if code.len() > MAX_EXPRESSION_BYTES {
        return Err(format!(
            "the expression is {} bytes long; the limit is {MAX_EXPRESSION_BYTES} bytes",
            code.len()
        ));
    }
    let depth = jq_depth(code);
    if depth > MAX_DEPTH {
        return Err(format!(
            "the expression nests too deeply ({depth} levels of brackets, operators and keywords; the limit is {MAX_DEPTH}): split it into smaller steps, or use map, reduce or functions instead of long chains"
        ));
    }
    Ok(())
}

/// The same for templates: the length, and inside each `{{ … }}` or
/// `{% … %}` tag the same depth bound as for jq (the template engine's
/// expression parser builds chains of operators into deep trees too).
pub fn check_template_bounds(src: &str) -> Result<(), String> {
    if src.len() > MAX_TEMPLATE_BYTES {
        return Err(format!(
            "the template is {} bytes long; the limit is {MAX_TEMPLATE_BYTES} bytes",
            src.len()
        ));
    }
    let mut rest = src;
    while let Some(open) = rest.find(['{']) {
        let after = &rest[open + 1..];
        let close = match after.as_bytes().first() {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let body = &after[1..];
        let end = body.find(close).unwrap_or(body.len());
        let depth = jq_depth(&body[..end]);
        if depth > MAX_TEMPLATE_DEPTH {
            return Err(format!(
                "a template tag nests too deeply ({depth} levels of brackets and operators; the limit is {MAX_TEMPLATE_DEPTH}): split it up"
            ));
        }
        rest = &body[end..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_text_is_shallow() {
        assert!(jq_depth(".input.amount > 1000") <= 4);
        // 40 comparisons joined by `and`: two levels each
        let ands = (0..40)
            .map(|i| format!(".k{i} == {i}"))
            .collect::<Vec<_>>()
            .join(" and ");
        assert!(jq_depth(&ands) <= 82, "{}", jq_depth(&ands));
        // an object with many entries does not nest
        let wide = format!(
            "{{{}}}",
            (0..500)
                .map(|i| format!("k{i}: (.x // {i})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(jq_depth(&wide) < 10, "{}", jq_depth(&wide));
        // strings and comments do not count
        assert!(jq_depth("\"((((((((((((((\" # ((((((((((\n") <= 2);
    }

    #[test]
    fn chains_and_nesting_count() {
        let chain = vec!["1"; 1000].join("+");
        assert!(jq_depth(&chain) >= 999);
        let parens = format!("{}1{}", "(".repeat(300), ")".repeat(300));
        assert!(jq_depth(&parens) >= 300);
        let interp = format!("\"{}x{}\"", "\\(\"".repeat(300), "\")".repeat(300));
        assert!(jq_depth(&interp) >= 300);
        let ifs = "if true then ".repeat(300);
        assert!(jq_depth(&ifs) >= 600);
        let unclosed = "[".repeat(100_000);
        assert!(jq_depth(&unclosed) >= 100_000);
    }

    #[test]
    fn bounds_name_the_limit() {
        let err = check_jq_bounds(&vec!["1"; 1000].join("+")).unwrap_err();
        assert!(err.contains("limit is 100"), "{err}");
        let err = check_jq_bounds(&"1".repeat(MAX_EXPRESSION_BYTES + 1)).unwrap_err();
        assert!(err.contains("bytes"), "{err}");
        let err =
            check_template_bounds(&format!("{{{{ {} }}}}", vec!["1"; 500].join("+"))).unwrap_err();
        assert!(err.contains("template tag nests too deeply"), "{err}");
        assert_eq!(
            check_template_bounds("/ledger/{{ input.id }} {% if x %}y{% endif %}"),
            Ok(())
        );
    }
}

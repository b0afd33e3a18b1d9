//! The statements of a [`super::Batch`] as one SQLite text: their
//! placeholders renumbered so that each statement's arguments stay its
//! own.

use crate::store::conn::{Arg, Query};
use crate::store::remembered::Remembered;
use std::sync::{Arc, LazyLock};

/// The check sent after a guarded statement: it fails (malformed JSON)
/// unless that statement changed exactly `rows` rows. `changes()` makes
/// it depend on the statement before, so SQLite cannot evaluate it ahead.
pub(super) fn guard(rows: u64) -> String {
    format!("SELECT json(CASE WHEN changes() = {rows} THEN '0' ELSE 'guard' END)")
}

/// How a statement numbers its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Style {
    /// None at all.
    None,
    /// `?`: bound in the order they appear.
    InOrder,
    /// `$N` or `?N`: the N-th argument.
    Numbered,
}

/// How a sequence of statements joins into one text: the text, and for
/// each statement whether its arguments go after the in-order ones.
struct Shape {
    text: Arc<str>,
    numbered: Vec<bool>,
}

/// The shapes of the batches sent lately, by their statements' texts and
/// argument counts: a batch of the same statements (nearly every one on
/// a busy server is one of a few) is not scanned and renumbered again.
static SHAPES: LazyLock<Remembered<String, Arc<Shape>>> = LazyLock::new(|| Remembered::new(32));

/// The statements as one SQLite text and its arguments. SQLite binds a
/// `$N` to the N-th argument of the whole text and a `?` to the next in
/// order across its statements (sqlx counts them), so the arguments of
/// the `?` statements come first, in order, and each `$N` statement's
/// numbers are moved past them and past the statements before it.
pub(super) fn joined(parts: Vec<Query<'_>>) -> Result<(Arc<str>, Vec<Arg<'_>>), sqlx::Error> {
    let mut key = String::with_capacity(parts.iter().map(|q| q.sql.len() + 8).sum());
    for q in &parts {
        key.push_str(&q.sql);
        key.push('\0');
        key.push_str(&q.args.len().to_string());
        key.push('\0');
    }
    let shape = match SHAPES.get(&key) {
        Some(shape) => shape,
        None => {
            let shape = Arc::new(shape_of(&parts)?);
            SHAPES.put(key, shape.clone());
            shape
        }
    };
    let (mut first, mut later) = (Vec::new(), Vec::new());
    for (q, numbered) in parts.into_iter().zip(&shape.numbered) {
        match numbered {
            true => later.extend(q.args),
            false => first.extend(q.args),
        }
    }
    first.extend(later);
    Ok((shape.text.clone(), first))
}

/// The text `parts` join into, and which of them are numbered.
fn shape_of(parts: &[Query<'_>]) -> Result<Shape, sqlx::Error> {
    let styles: Vec<Style> = parts
        .iter()
        .map(|q| style(&q.sql))
        .collect::<Result<_, _>>()?;
    let in_order: usize = parts
        .iter()
        .zip(&styles)
        .filter(|(_, s)| **s == Style::InOrder)
        .map(|(q, _)| q.args.len())
        .sum();
    let mut sql = String::new();
    let mut later = 0;
    for (q, s) in parts.iter().zip(&styles) {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        let text = q.sql.trim_end().trim_end_matches(';');
        match s {
            Style::Numbered => {
                sql.push_str(&renumbered(text, in_order + later));
                later += q.args.len();
            }
            Style::InOrder | Style::None => sql.push_str(text),
        }
    }
    Ok(Shape {
        text: sql.into(),
        numbered: styles.iter().map(|s| *s == Style::Numbered).collect(),
    })
}

/// Calls `f` with each placeholder outside quotes and `--` comments: its
/// byte range and its number (None for a bare `?`).
fn placeholders(sql: &str, mut f: impl FnMut(std::ops::Range<usize>, Option<usize>)) {
    let b = sql.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'-' && b.get(i + 1) == Some(&b'-') => {
                // a comment, to the end of its line
                i += b[i..].iter().take_while(|&&d| d != b'\n').count();
                continue;
            }
            None if c == b'$' || c == b'?' => {
                let digits = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
                let n = sql[i + 1..i + 1 + digits].parse().ok();
                if n.is_some() || c == b'?' {
                    f(i..i + 1 + digits, n);
                }
                i += digits;
            }
            None => {}
        }
        i += 1;
    }
}

fn style(sql: &str) -> Result<Style, sqlx::Error> {
    let (mut bare, mut numbered) = (false, false);
    placeholders(sql, |_, n| match n {
        Some(_) => numbered = true,
        None => bare = true,
    });
    match (bare, numbered) {
        (true, true) => Err(sqlx::Error::Protocol(
            "a batched statement mixes `?` and `$N` placeholders".into(),
        )),
        (true, false) => Ok(Style::InOrder),
        (false, true) => Ok(Style::Numbered),
        (false, false) => Ok(Style::None),
    }
}

/// `sql` with each `$N`/`?N` outside quotes made `$(N + by)`.
fn renumbered(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut last = 0;
    placeholders(sql, |at, n| {
        if let Some(n) = n {
            out.push_str(&sql[last..at.start]);
            out.push('$');
            out.push_str(&(n + by).to_string());
            last = at.end;
        }
    });
    out.push_str(&sql[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conn::query;

    #[test]
    fn numbered_placeholders_move_past_the_arguments_before_them() {
        assert_eq!(
            renumbered("SELECT $1, '$1', \"$2\", ?3 WHERE x = $10", 4),
            "SELECT $5, '$1', \"$2\", $7 WHERE x = $14"
        );
        assert_eq!(
            renumbered("SELECT $1 -- the run's $1\n, $2", 1),
            "SELECT $2 -- the run's $1\n, $3"
        );
        assert_eq!(style("SELECT '?' , $1").unwrap(), Style::Numbered);
        assert_eq!(style("SELECT ?, ?").unwrap(), Style::InOrder);
        assert_eq!(style("SELECT json_extract(x, '$.a')").unwrap(), Style::None);
        assert!(style("SELECT ?, $1").is_err());
    }

    #[test]
    fn in_order_arguments_come_first_and_numbered_ones_follow() {
        let parts = vec![
            query("SELECT $1, $2").bind(1i64).bind(2i64),
            query("SELECT ?, ?").bind(3i64).bind(4i64),
            query("SELECT $2, $1;").bind(5i64).bind(6i64),
        ];
        let (sql, args) = joined(parts).unwrap();
        assert_eq!(&*sql, "SELECT $3, $4;\nSELECT ?, ?;\nSELECT $6, $5");
        let ints: Vec<i64> = args
            .into_iter()
            .map(|a| match a {
                Arg::I64(Some(v)) => v,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ints, vec![3, 4, 1, 2, 5, 6]);
    }

    #[test]
    fn a_batch_joined_again_takes_its_own_arguments_in_the_same_text() {
        let parts = |a: i64, b: i64| {
            vec![
                query("SELECT $1 AS again_a").bind(a),
                query("SELECT ? AS again_b").bind(b),
            ]
        };
        let ints = |args: Vec<Arg<'_>>| -> Vec<i64> {
            args.into_iter()
                .map(|a| match a {
                    Arg::I64(Some(v)) => v,
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        let (first, args) = joined(parts(1, 2)).unwrap();
        assert_eq!(ints(args), vec![2, 1]);
        let (again, args) = joined(parts(3, 4)).unwrap();
        assert_eq!(first, again);
        assert_eq!(&*again, "SELECT $2 AS again_a;\nSELECT ? AS again_b");
        assert_eq!(ints(args), vec![4, 3]);
        // the same text with another argument count is another batch
        let more = vec![
            query("SELECT $1 AS again_a").bind(5i64),
            query("SELECT ? AS again_b").bind(6i64).bind(7i64),
        ];
        let (text, args) = joined(more).unwrap();
        assert_eq!(&*text, "SELECT $3 AS again_a;\nSELECT ? AS again_b");
        assert_eq!(ints(args), vec![6, 7, 5]);
    }
}

//! A `WHERE` clause built from only the conditions a search was given
//! (the runs list, the approval inbox). Written as `$1 IS NULL OR col =
//! $1` for every field, one statement served every search, but it kept
//! SQLite's planner from using any index: counting the runs list over
//! 100,000 runs took 156-202 ms instead of 12 (issue 20).

use super::{Arg, Bind};

/// Conditions joined with `AND`, their arguments numbered `$1`, `$2`, ...
/// in the order they were added.
pub struct Where<'a> {
    sql: String,
    args: Vec<Arg<'a>>,
}

impl<'a> Where<'a> {
    /// Starts with `first`, a condition of literal SQL (no arguments).
    pub fn new(first: &str) -> Where<'a> {
        Where {
            sql: first.to_string(),
            args: Vec::new(),
        }
    }

    /// Adds `condition`, whose `?1` (as often as it appears) is `arg`.
    pub fn and(&mut self, condition: &str, arg: impl Bind<'a>) -> &mut Self {
        self.and_with(condition, vec![arg.arg()])
    }

    /// Adds `condition`, whose `?1`, `?2`, ... (at most 9) are `args`.
    pub fn and_with(&mut self, condition: &str, args: Vec<Arg<'a>>) -> &mut Self {
        debug_assert!(args.len() <= 9, "?10 would read as ?1 and a 0");
        let mut text = condition.to_string();
        for k in 1..=args.len() {
            text = text.replace(&format!("?{k}"), &format!("${}", self.args.len() + k));
        }
        self.args.extend(args);
        self.sql.push_str(" AND ");
        self.sql.push_str(&text);
        self
    }

    /// The clause (without `WHERE`).
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The number the next argument after these takes: `$` it.
    pub fn next(&self) -> usize {
        self.args.len() + 1
    }

    /// The arguments, in order, to bind.
    pub fn args(&self) -> impl Iterator<Item = Arg<'a>> + '_ {
        self.args.iter().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_number_their_arguments_in_the_order_they_were_added() {
        let mut w = Where::new("r.item_index IS NULL");
        w.and("r.status = ?1", "running");
        w.and_with(
            "(a = ?1 OR b = ?2 OR c = ?1)",
            vec![Bind::arg(7i64), Bind::arg(Some("x"))],
        );
        assert_eq!(
            w.sql(),
            "r.item_index IS NULL AND r.status = $1 AND (a = $2 OR b = $3 OR c = $2)"
        );
        assert_eq!(w.next(), 4);
        assert_eq!(Where::new("true").next(), 1);
    }
}

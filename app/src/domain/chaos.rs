//! Chaos runs: faults injected into a run's steps, per step or at random,
//! decided by a seed so the same seed gives the same faults.
//!
//! A fault is decided from (seed, step, where in the run, attempt) alone,
//! never from the clock or a random source: replaying a run with the same
//! plan injects the same faults at the same attempts.

use serde::{Deserialize, Serialize};

/// At most this many rules in a plan.
pub const MAX_RULES: usize = 20;
/// At most this much injected latency per attempt.
pub const MAX_LATENCY_MS: u32 = 60_000;

/// What to inject into a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ChaosPlan {
    /// The same seed gives the same faults.
    #[serde(default)]
    pub seed: u64,
    /// The first rule naming a step applies to it; else the first rule
    /// that names none.
    #[serde(default)]
    pub faults: Vec<FaultRule>,
}

/// The faults for one step (or every step that no other rule names), each
/// with its probability per attempt in percent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FaultRule {
    /// The step's id; none for every step no other rule names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// A transient failure (retried by the step's transient policy).
    #[serde(default)]
    pub transient_pct: u32,
    /// A business error (not retried by default; takes the error edge).
    #[serde(default)]
    pub business_pct: u32,
    /// The attempt is lost as if its process died: its lease expires and
    /// recovery runs it again.
    #[serde(default)]
    pub death_pct: u32,
    /// The step succeeds but reports `low_confidence`.
    #[serde(default)]
    pub low_confidence_pct: u32,
    /// The confidence reported by a low-confidence fault (0.3 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_confidence: Option<f64>,
    /// Each attempt first waits up to this long (how long is decided by the seed).
    #[serde(default)]
    pub latency_ms: u32,
}

/// Whether a step of `kind` takes faults: the steps that do work (call
/// out, compute, route), not the ones that shape the run or wait.
pub fn injectable(kind: &crate::domain::graph::NodeKind) -> bool {
    use crate::domain::graph::NodeKind;
    matches!(
        kind,
        NodeKind::Http { .. }
            | NodeKind::Transform { .. }
            | NodeKind::Code { .. }
            | NodeKind::Branch { .. }
            | NodeKind::Llm(_)
            | NodeKind::Email(_)
    )
}

/// What happens to one attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    Transient,
    Business,
    Death,
    LowConfidence(f64),
}

impl Fault {
    /// How the step log names it.
    pub fn describe(self, seed: u64) -> String {
        match self {
            Fault::Transient => format!("chaos: injected transient failure (seed {seed})"),
            Fault::Business => format!("chaos: injected business error (seed {seed})"),
            Fault::Death => format!("chaos: injected process death (seed {seed})"),
            Fault::LowConfidence(c) => {
                format!("chaos: injected low confidence {c} (seed {seed})")
            }
        }
    }
}

/// What is injected into one attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Injected {
    pub latency_ms: u32,
    pub fault: Option<Fault>,
}

impl ChaosPlan {
    /// The rule for `step`: the first naming it, else the first naming none.
    pub fn rule_for(&self, step: &str) -> Option<&FaultRule> {
        self.faults
            .iter()
            .find(|r| r.step.as_deref() == Some(step))
            .or_else(|| self.faults.iter().find(|r| r.step.is_none()))
    }

    /// What to inject into attempt `attempt` of `step` at `place` (an item
    /// path and loop pass, "" for a plain step). Death comes first, then a
    /// transient failure, a business error, and low confidence.
    pub fn inject(&self, step: &str, place: &str, attempt: i64) -> Injected {
        let Some(rule) = self.rule_for(step) else {
            return Injected::default();
        };
        let roll = |salt: &str| draw(self.seed, step, place, attempt, salt);
        let hit = |pct: u32, salt: &str| pct > 0 && roll(salt) % 100 < u64::from(pct.min(100));
        let latency_ms = match rule.latency_ms.min(MAX_LATENCY_MS) {
            0 => 0,
            max => (roll("latency") % (u64::from(max) + 1)) as u32,
        };
        let fault = if hit(rule.death_pct, "death") {
            Some(Fault::Death)
        } else if hit(rule.transient_pct, "transient") {
            Some(Fault::Transient)
        } else if hit(rule.business_pct, "business") {
            Some(Fault::Business)
        } else if hit(rule.low_confidence_pct, "confidence") {
            Some(Fault::LowConfidence(
                rule.low_confidence.unwrap_or(0.3).clamp(0.0, 1.0),
            ))
        } else {
            None
        };
        Injected { latency_ms, fault }
    }

    /// What is wrong with the plan for `steps` (the workflow's step ids),
    /// each saying what to fix; empty when it can run.
    pub fn problems(&self, steps: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        if self.faults.is_empty() {
            out.push("a chaos run needs at least one fault rule".to_string());
        }
        if self.faults.len() > MAX_RULES {
            out.push(format!(
                "at most {MAX_RULES} fault rules, not {}",
                self.faults.len()
            ));
        }
        for (i, r) in self.faults.iter().enumerate() {
            let which = match &r.step {
                Some(s) => format!("the rule for step '{s}'"),
                None => format!("rule {}", i + 1),
            };
            if let Some(s) = &r.step
                && !steps(s)
            {
                out.push(format!("{which}: the workflow has no step '{s}'"));
            }
            for (name, pct) in [
                ("transient_pct", r.transient_pct),
                ("business_pct", r.business_pct),
                ("death_pct", r.death_pct),
                ("low_confidence_pct", r.low_confidence_pct),
            ] {
                if pct > 100 {
                    out.push(format!(
                        "{which}: {name} is a percentage (0 to 100), not {pct}"
                    ));
                }
            }
            if let Some(c) = r.low_confidence
                && !(0.0..=1.0).contains(&c)
            {
                out.push(format!(
                    "{which}: low_confidence must be between 0 and 1, not {c}"
                ));
            }
            if r.latency_ms > MAX_LATENCY_MS {
                out.push(format!(
                    "{which}: latency_ms is at most {MAX_LATENCY_MS}, not {}",
                    r.latency_ms
                ));
            }
        }
        out
    }

    /// A one-line account for pages and the audit trail.
    pub fn summary(&self) -> String {
        let rules: Vec<String> = self
            .faults
            .iter()
            .map(|r| {
                let mut parts = Vec::new();
                for (name, pct) in [
                    ("transient", r.transient_pct),
                    ("business", r.business_pct),
                    ("death", r.death_pct),
                    ("low confidence", r.low_confidence_pct),
                ] {
                    if pct > 0 {
                        parts.push(format!("{pct} % {name}"));
                    }
                }
                if r.latency_ms > 0 {
                    parts.push(format!("up to {} ms latency", r.latency_ms));
                }
                let on = r.step.as_deref().unwrap_or("every step");
                format!("{on}: {}", parts.join(", "))
            })
            .collect();
        format!("seed {}; {}", self.seed, rules.join("; "))
    }
}

/// A number in 0..2^64 decided by its arguments alone: FNV-1a over them,
/// then the SplitMix64 finaliser to spread the bits.
fn draw(seed: u64, step: &str, place: &str, attempt: i64, salt: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(&seed.to_le_bytes());
    eat(step.as_bytes());
    eat(place.as_bytes());
    eat(&attempt.to_le_bytes());
    eat(salt.as_bytes());
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(seed: u64, rule: FaultRule) -> ChaosPlan {
        ChaosPlan {
            seed,
            faults: vec![rule],
        }
    }

    fn transient(pct: u32) -> FaultRule {
        FaultRule {
            transient_pct: pct,
            ..Default::default()
        }
    }

    #[test]
    fn the_same_seed_injects_the_same_faults_and_another_seed_others() {
        let faults = |seed| {
            let p = plan(seed, transient(30));
            (0..200)
                .map(|i| p.inject(&format!("s{}", i % 10), "", i / 10).fault)
                .collect::<Vec<_>>()
        };
        assert_eq!(faults(7), faults(7));
        assert_ne!(faults(7), faults(8));
    }

    #[test]
    fn a_probability_is_kept_over_many_attempts() {
        let p = plan(42, transient(30));
        let hits = (0..10_000)
            .filter(|i| {
                p.inject(&format!("step{}", i % 50), "", i / 50)
                    .fault
                    .is_some()
            })
            .count();
        assert!((2_700..3_300).contains(&hits), "{hits} of 10000");
        let none = plan(42, transient(0));
        assert!((0..1000).all(|i| none.inject("a", "", i).fault.is_none()));
        let all = plan(42, transient(100));
        assert!((0..1000).all(|i| all.inject("a", "", i).fault == Some(Fault::Transient)));
    }

    #[test]
    fn a_rule_naming_a_step_wins_over_the_rule_for_every_step() {
        let p = ChaosPlan {
            seed: 1,
            faults: vec![
                transient(100),
                FaultRule {
                    step: Some("pay".into()),
                    business_pct: 100,
                    ..Default::default()
                },
            ],
        };
        assert_eq!(p.inject("pay", "", 1).fault, Some(Fault::Business));
        assert_eq!(p.inject("other", "", 1).fault, Some(Fault::Transient));
        let only = plan(
            1,
            FaultRule {
                step: Some("pay".into()),
                death_pct: 100,
                ..Default::default()
            },
        );
        assert_eq!(only.inject("other", "", 1), Injected::default());
        assert_eq!(only.inject("pay", "", 1).fault, Some(Fault::Death));
    }

    #[test]
    fn latency_stays_within_its_bound_and_low_confidence_is_clamped() {
        let p = plan(
            3,
            FaultRule {
                latency_ms: 250,
                low_confidence_pct: 100,
                low_confidence: Some(7.0),
                ..Default::default()
            },
        );
        for i in 0..500 {
            let got = p.inject("a", &i.to_string(), 1);
            assert!(got.latency_ms <= 250);
            assert_eq!(got.fault, Some(Fault::LowConfidence(1.0)));
        }
        let huge = plan(
            3,
            FaultRule {
                latency_ms: u32::MAX,
                ..Default::default()
            },
        );
        assert!((0..100).all(|i| huge.inject("a", "", i).latency_ms <= MAX_LATENCY_MS));
    }

    #[test]
    fn a_careless_plan_is_refused_with_what_to_fix() {
        let bad = ChaosPlan {
            seed: 0,
            faults: vec![FaultRule {
                step: Some("nope".into()),
                transient_pct: 130,
                low_confidence: Some(-1.0),
                latency_ms: 120_000,
                ..Default::default()
            }],
        };
        let p = bad.problems(|s| s == "a");
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].contains("no step 'nope'"));
        assert!(p[1].contains("transient_pct is a percentage"));
        assert!(
            p.iter()
                .any(|m| m.contains("low_confidence must be between 0 and 1"))
        );
        assert!(p.iter().any(|m| m.contains("latency_ms is at most 60000")));
        assert_eq!(
            ChaosPlan::default().problems(|_| true),
            vec!["a chaos run needs at least one fault rule".to_string()]
        );
        let many = ChaosPlan {
            seed: 0,
            faults: vec![transient(1); MAX_RULES + 1],
        };
        assert!(many.problems(|_| true)[0].contains("at most 20 fault rules"));
    }

    #[test]
    fn the_summary_names_each_rule() {
        let p = ChaosPlan {
            seed: 9,
            faults: vec![FaultRule {
                transient_pct: 30,
                latency_ms: 100,
                ..Default::default()
            }],
        };
        assert_eq!(
            p.summary(),
            "seed 9; every step: 30 % transient, up to 100 ms latency"
        );
    }
}

//! The domain shared by browser and server: pure, wasm-safe, no IO.

pub mod approvals;
pub mod audit;
pub mod auth;
pub mod chaos;
pub mod diff;
pub mod example;
pub mod example_triage;
pub mod expr;
pub mod golden;
pub mod graph;
pub mod ids;
pub mod iteration;
pub mod limits;
pub mod lineage;
pub mod llm;
pub mod machine;
pub mod monitoring;
pub mod notify;
pub mod operations;
pub mod outbound;
pub mod outputs;
pub mod paging;
pub mod records;
pub mod redact;
pub mod resolved;
pub mod run;
pub mod step_test;
pub mod transitions;
pub mod triggers;
pub mod validate;

pub use graph::*;
pub use validate::{Problem, ProblemKind, validate};

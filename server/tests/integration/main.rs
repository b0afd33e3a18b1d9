//! Every integration test of the server, as one test binary.
//!
//! One binary instead of one per file: each would link the whole server
//! (about 200 MB of debug build apiece) and take its own link step, which
//! costs CI both disk and minutes for nothing.

mod common;

mod ahead_start;
pub(crate) mod approvals;
mod backup;
mod binary;
mod chaos;
mod code_steps;
mod crash;
mod decisions;
mod email_steps;
mod engine;
mod engine_memory;
mod example;
mod exports;
pub(crate) mod foreach;
mod fresh_start;
mod golden;
mod golden_rest;
mod golden_triage;
mod golden_waits;
mod group_start;
mod hostile;
mod idempotency;
mod kept_views;
mod llm;
mod loops;
mod metrics;
mod monitoring;
mod notifications;
mod postgres;
mod promises;
pub(crate) mod rest_api;
mod retention;
mod run_numbers;
mod sandbox;
mod schedules;
mod secrets;
mod shutdown;
mod sim;
mod step_log;
mod subworkflows;
mod sync_start;
mod test_runs;
mod waits;
mod webhooks;

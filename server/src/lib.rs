//! The Stepwise server process: configuration, telemetry, the HTTP router
//! (UI, server functions, REST API v1, health) and start-up.

pub mod assets;
pub mod auth;
pub mod backup;
pub mod bus;
pub mod cli;
pub mod config;
pub mod demo_model;
pub mod engine;
pub mod hooks;
pub mod mailer;
pub mod metrics;
pub mod openapi;
pub mod outbound;
pub mod rest;
pub mod rest_approvals;
pub mod rest_audit;
pub mod rest_golden;
pub mod rest_lifecycle;
pub mod rest_metrics;
pub mod rest_models;
pub mod rest_monitoring;
pub mod rest_runs;
pub mod rest_triggers;
pub mod routes;
pub mod sandbox;
pub mod sessions;
pub mod streaming;
pub mod telemetry;

pub use routes::{AppState, router};

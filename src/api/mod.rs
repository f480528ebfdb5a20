//! The SQL-facing wing: the `#[pg_extern]` entry points callers and operators use. Each file
//! turns SQL arguments into a call of the route, the settings or the stats, and its answer back
//! into rows; what a function decides lives elsewhere (docs/src/development/architecture.md).
pub mod admin;
mod admin_before_update;
pub mod explain;
#[cfg(any(test, feature = "pg_test"))]
mod health_tests;
pub mod metrics;
pub mod outcome;
pub mod route_decision;
pub mod route_messages;

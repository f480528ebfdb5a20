//! One webhook's path, in the order the data takes it (src/route/one_message.rs drives it):
//! the payload read (`whatsapp`), the sender's history read from the log (`history`, its rows
//! `row`), the routing policy (`policy`: pure, no database; the domain it detects is
//! src/core/detect.rs's, whose tests over the seeded rules are `detect_tests`), and the log's
//! write (`log`) with the session counts it carries (`session`), under the log's write rules
//! (`log_policy`).
#[cfg(any(test, feature = "pg_test"))]
mod detect_tests;
pub mod history;
pub mod log;
pub mod log_policy;
pub mod one_message;
pub mod policy;
pub mod row;
pub mod session;
pub mod whatsapp;

//! One webhook's path, in the order the data takes it: the payload read (`whatsapp`), the
//! detection of its domain (`detect`), the sender's history in the log (`conversation`), the
//! routing policy (`decision`), and the log's write with its session counts (`session`) under
//! the log's write rules (`log_policy`).
pub mod conversation;
pub mod decision;
pub mod detect;
pub mod log_policy;
pub mod row;
pub mod session;
pub mod whatsapp;

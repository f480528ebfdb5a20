//! One webhook's path, in the order the data takes it (src/route/one_message.rs drives it):
//! the payload read (`whatsapp`), the domain detected (`detect`), the sender's history read from
//! the log (`history`, its rows `row`), the routing policy (`policy`: pure, no database),
//! and the log's write (`log`) with the session counts it carries (`session`), under the log's
//! write rules (`log_policy`).
pub mod detect;
pub mod history;
pub mod log;
pub mod log_policy;
pub mod one_message;
pub mod policy;
pub mod row;
pub mod session;
pub mod whatsapp;

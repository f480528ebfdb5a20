//! A hot standby: whether this server is one, and the refusal of a write asked of it.
use crate::pg::error::Refusal;
use pgrx::prelude::*;

/// Whether this server is a hot standby (in recovery).
pub fn in_recovery() -> bool {
    // SAFETY: a read of shared state any backend may make.
    unsafe { pg_sys::RecoveryInProgress() }
}

/// A write asked of a hot standby: refused with SQLSTATE 25006 (read_only_sql_transaction),
/// before anything is attempted, with where to do it instead.
pub fn refuse_during_recovery(message: &str, hint: &str) {
    if in_recovery() {
        Refusal::new(PgSqlErrorCode::ERRCODE_READ_ONLY_SQL_TRANSACTION, message)
            .detail("This server is a hot standby: it is in recovery and writes nothing.")
            .hint(hint)
            .raise()
    }
}

//! The current transaction's time (`now()`) as the log's day partitions and retention count it:
//! Unix seconds, UTC days.
use pgrx::prelude::*;

/// Seconds in a UTC day: the log's partitions are days.
pub const DAY_SECONDS: i64 = 86_400;

/// The current transaction's start (`now()`), in Unix seconds.
pub fn transaction_unix() -> i64 {
    // Postgres timestamps count microseconds from 2000-01-01 00:00 UTC.
    const POSTGRES_EPOCH_UNIX: i64 = 946_684_800;
    // SAFETY: reads the start time of the transaction in progress.
    let start = unsafe { pg_sys::GetCurrentTransactionStartTimestamp() };
    start.div_euclid(1_000_000) + POSTGRES_EPOCH_UNIX
}

/// The start of the current transaction's UTC day, in Unix seconds: the day `now()` is in.
pub fn transaction_utc_day() -> i64 {
    transaction_unix().div_euclid(DAY_SECONDS) * DAY_SECONDS
}

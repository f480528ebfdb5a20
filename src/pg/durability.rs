//! How durable the writes are.
//!
//! A decision's log row must not wait for a WAL flush: at default settings every decision would
//! wait for the disk (bench/run: 2.8k/s logged against 13.5k/s unlogged, on a quiet disk). So the
//! transaction that writes a log row (route_decision, record_routing_outcome) commits with
//! `synchronous_commit = off`, set LOCAL, unless `webhook_routing.log_synchronous_commit` is on.
//! The rows are still written to WAL and are crash-safe once the WAL writer flushes them, within
//! 3 × wal_writer_delay (600 ms by default): a crash loses at most the log rows committed in
//! that window, and never leaves a half-written row. Changes to the config history always commit
//! synchronously: the admin functions set `synchronous_commit = on` LOCAL when it is off, and
//! a later log write in the same transaction leaves it on.
//!
//! The setting is LOCAL to the caller's transaction: if a webhook function writes its own data
//! in the same transaction as route_decision, that data commits asynchronously too. Call
//! route_decision in its own transaction, or turn `webhook_routing.log_synchronous_commit` on.
use crate::pg::gucs::LOG_SYNCHRONOUS_COMMIT;
use pgrx::pg_sys;
use std::cell::Cell;

thread_local! {
    /// The local transaction in which a config change forced synchronous commit.
    static DURABLE_XACT: Cell<Option<pg_sys::LocalTransactionId>> = const { Cell::new(None) };
    /// The local transaction already relaxed, so that each transaction pays for it once.
    static RELAXED_XACT: Cell<Option<pg_sys::LocalTransactionId>> = const { Cell::new(None) };
}

#[cfg(not(any(feature = "pg17", feature = "pg18")))]
fn current_lxid() -> pg_sys::LocalTransactionId {
    // SAFETY: MyProc is set for every backend that runs SQL.
    unsafe { (*pg_sys::MyProc).lxid }
}

/// 17 moved the local transaction id into PGPROC's virtual transaction id.
#[cfg(any(feature = "pg17", feature = "pg18"))]
fn current_lxid() -> pg_sys::LocalTransactionId {
    // SAFETY: MyProc is set for every backend that runs SQL.
    unsafe { (*pg_sys::MyProc).vxid.lxid }
}

fn set_local(value: &core::ffi::CStr) {
    // SAFETY: a USERSET setting changed for the current transaction only, as SET LOCAL does;
    // elevel ERROR, but a valid value for a built-in setting cannot be refused.
    unsafe {
        pg_sys::set_config_option(
            c"synchronous_commit".as_ptr(),
            value.as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_LOCAL,
            true,
            pg_sys::PGERROR as i32,
            false,
        );
    }
}

/// Before writing a log row: let this transaction commit without waiting for the WAL flush.
pub fn relax_for_log_write() {
    if LOG_SYNCHRONOUS_COMMIT.get() {
        return;
    }
    let lxid = current_lxid();
    if DURABLE_XACT.with(|d| d.get()) == Some(lxid) || RELAXED_XACT.with(|r| r.get()) == Some(lxid)
    {
        return;
    }
    RELAXED_XACT.with(|r| r.set(Some(lxid)));
    // SAFETY: reading a GUC variable of this backend.
    if unsafe { pg_sys::synchronous_commit } as u32
        != pg_sys::SyncCommitLevel::SYNCHRONOUS_COMMIT_OFF
    {
        set_local(c"off");
    }
}

/// A change to the config history (the config table's cache trigger, src/pg/config_cache.rs):
/// this transaction commits synchronously, and a log write later in it leaves it so.
pub fn insist_for_config_change() {
    DURABLE_XACT.with(|d| d.set(Some(current_lxid())));
    // SAFETY: reading a GUC variable of this backend.
    if unsafe { pg_sys::synchronous_commit } as u32
        == pg_sys::SyncCommitLevel::SYNCHRONOUS_COMMIT_OFF
    {
        set_local(c"on");
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn setting() -> String {
        Spi::get_one::<String>("SELECT current_setting('synchronous_commit')")
            .unwrap()
            .unwrap()
    }

    #[pg_test]
    fn log_writes_relax_and_config_changes_insist() {
        assert_eq!(setting(), "on");
        Spi::run("SELECT route_decision('{}'::jsonb, log => false)").unwrap();
        assert_eq!(
            setting(),
            "on",
            "a dry run writes nothing and changes nothing"
        );
        Spi::run("SELECT route_decision('{}'::jsonb)").unwrap();
        assert_eq!(setting(), "off", "a logged decision commits asynchronously");
        Spi::run("SELECT set_routing_enabled(true, 'durable')").unwrap();
        assert_eq!(setting(), "on", "a config change commits synchronously");
        Spi::run("SELECT route_decision('{}'::jsonb)").unwrap();
        assert_eq!(
            setting(),
            "on",
            "and a later decision in the same transaction keeps it so"
        );
    }

    #[pg_test]
    fn operators_can_keep_log_writes_synchronous() {
        Spi::run("SET LOCAL webhook_routing.log_synchronous_commit = on").unwrap();
        Spi::run("SELECT route_decision('{}'::jsonb)").unwrap();
        assert_eq!(setting(), "on");
    }
}

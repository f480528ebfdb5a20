//! Reads of the extension's settings (the config history, the rules, the plans) under the newest
//! committed snapshot, read-only.
//!
//! Why not plain SPI:
//! - A read under the caller's snapshot can be older than the change that invalidated the
//!   cache: a REPEATABLE READ or SERIALIZABLE transaction keeps the snapshot it took first, and
//!   even at READ COMMITTED a statement's snapshot predates a change that commits while the
//!   statement runs. A cache reloaded from such a snapshot would be marked valid with the old
//!   config, and a backend would ignore a kill switch until the next change (behind a pooler,
//!   for every client of that backend). A snapshot taken after the invalidation was accepted
//!   sees the change: a transaction is visible in the proc array before its invalidation
//!   messages are sent (CommitTransaction), and replayed in that order on a standby.
//! - pgrx's `Spi::get_*` and `update` ask for a transaction id before they run. On a hot
//!   standby that fails (`cannot assign TransactionIds during recovery`), and on a primary it
//!   gives every cache load a transaction id. These reads run read-only and never need one.
use crate::pg::error::spi_failed;
use pgrx::prelude::*;
use pgrx::FromDatum;
use std::ffi::CString;

/// Which snapshot a read uses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Snapshot {
    /// The newest committed state (and this transaction's own earlier changes).
    Latest,
    /// What the caller's transaction sees: its snapshot under REPEATABLE READ or SERIALIZABLE.
    Transaction,
}

/// One row of a result, valid while the read runs.
pub struct Row {
    tuple: pg_sys::HeapTuple,
    desc: pg_sys::TupleDesc,
}

impl Row {
    /// Column `ordinal` (from 1) as `T`; None for NULL.
    ///
    /// # Safety
    /// `T` must be a Rust type for the column's SQL type.
    pub unsafe fn get<T: FromDatum>(&self, ordinal: i32) -> Option<T> {
        unsafe {
            let mut isnull = false;
            let datum = pg_sys::SPI_getbinval(self.tuple, self.desc, ordinal, &mut isnull);
            let typoid = pg_sys::SPI_gettypeid(self.desc, ordinal);
            T::from_polymorphic_datum(datum, isnull, typoid)
        }
    }

    /// The raw datum of column `ordinal`, for readers that borrow from it (jsonb).
    pub fn datum(&self, ordinal: i32) -> Option<pg_sys::Datum> {
        let mut isnull = false;
        // SAFETY: the tuple and its descriptor come from the read in progress.
        let datum = unsafe { pg_sys::SPI_getbinval(self.tuple, self.desc, ordinal, &mut isnull) };
        (!isnull).then_some(datum)
    }
}

/// Run the SELECT `sql` (no parameters; every function and operator in it schema-qualified)
/// read-only under `snapshot`, calling `each` on every row.
pub fn select<T>(sql: &str, snapshot: Snapshot, mut each: impl FnMut(&Row) -> T) -> Vec<T> {
    let Ok(text) = CString::new(sql) else {
        spi_failed("read its settings", "the query has a NUL byte")
    };
    crate::pg::run_as::without_jit(|| {
        Spi::connect(|_client| {
            // SAFETY: SPI is connected for the closure; the plan, the snapshot and the tuple table
            // are used before SPI_finish frees them, and rows are converted while they live.
            unsafe {
                let plan = pg_sys::SPI_prepare(text.as_ptr(), 0, std::ptr::null_mut());
                if plan.is_null() {
                    spi_failed("read its settings", format!("SPI_prepare failed on {sql}"));
                }
                let snap = match snapshot {
                    Snapshot::Latest => pg_sys::GetLatestSnapshot(),
                    Snapshot::Transaction => {
                        // A copy, advanced to the current command: the transaction's own earlier
                        // changes are seen, as every statement of it sees them.
                        pg_sys::PushCopiedSnapshot(pg_sys::GetTransactionSnapshot());
                        pg_sys::UpdateActiveSnapshotCommandId();
                        pg_sys::GetActiveSnapshot()
                    }
                };
                let rc = pg_sys::SPI_execute_snapshot(
                    plan,
                    std::ptr::null_mut(),
                    std::ptr::null(),
                    snap,
                    std::ptr::null_mut(),
                    true,
                    false,
                    0,
                );
                if rc != pg_sys::SPI_OK_SELECT as i32 {
                    spi_failed("read its settings", format!("SPI error {rc} on {sql}"));
                }
                let table = pg_sys::SPI_tuptable;
                let n = pg_sys::SPI_processed as usize;
                let mut out = Vec::with_capacity(n);
                if !table.is_null() {
                    for i in 0..n {
                        let row = Row {
                            tuple: *(*table).vals.add(i),
                            desc: (*table).tupdesc,
                        };
                        out.push(each(&row));
                    }
                }
                pg_sys::SPI_freeplan(plan);
                if snapshot == Snapshot::Transaction {
                    pg_sys::PopActiveSnapshot();
                }
                out
            }
        })
    })
}

/// Whether this transaction reads through one snapshot (REPEATABLE READ, SERIALIZABLE).
pub fn transaction_snapshot_in_use() -> bool {
    // SAFETY: reads the isolation level of the transaction in progress.
    unsafe { pg_sys::XactIsoLevel >= pg_sys::XACT_REPEATABLE_READ as i32 }
}

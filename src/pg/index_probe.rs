//! A sender's history read straight from the log's indexes: the few index probes of
//! `src/route/history.rs`, without the executor.
//!
//! Why: the two probes cost a handful of index descents, yet running them as one kept SPI
//! statement cost more than the rest of a decision together. Per call the kept plan was
//! revalidated (its relations locked), an executor started and shut down with an Append over
//! the day partitions, and each probe's expressions were compiled: bench/instructions measured
//! `route_decision(…, log => false)` at 386,682 instructions against a bare round trip of
//! 147,062, 174,000 of the difference in the statement, most of that its executor's start-up
//! (callgrind); the probes here cost 35,000 (README, Benchmark). Here a call locks the log,
//! reads its partition bounds from the relcache, and for each partition its window reaches
//! opens the partition and its index and walks a btree scan with the index access method
//! (`index_beginscan`, `index_getnext_slot`), as an index scan node would.
//!
//! Two alternatives were weighed. A generic plan with run-time pruning: PostgreSQL 15 locks
//! every partition a generic plan names before it prunes, and still starts an executor, so its
//! cost grows with the retention (33 partitions at 30 days) on top of what this module removes.
//! A per-sender state table updated in place: one more row to update per logged decision (a
//! heap update and its WAL, the logged path's cost grows), one more table to dump, restore and
//! replicate, and a second truth beside the log for crash and standby; the log already holds
//! the state, and its two partial indexes find it in one descent each.
//!
//! What it keeps of the statement it replaces:
//! - Visibility: the caller's MVCC snapshot (the active one), or, once this transaction has
//!   written, a new statement snapshot after a command counter increment, as SPI gives a
//!   statement of a read-write transaction: a decision sees the rows of the decisions made
//!   before it in the same transaction. On a hot standby nothing is written, and the active
//!   snapshot sees what was replayed.
//! - Locks: ACCESS SHARE on the log, on each partition read and on each index read, held to the
//!   end of the transaction, in the executor's order (the log first). Partitions are chosen
//!   from the partition bounds in the relcache, as the planner prunes them: only those whose
//!   range meets a probe's window, and the default partition only when the window meets a range
//!   no partition covers (a day not made yet, or squatted: its rows wait in the default
//!   partition). Making or dropping a day then waits for, or is waited for by, a decision
//!   exactly as before (tests/pg_regress/sql/21_partition_locks.sql).
//! - Privileges: the statement ran as the owner of the extension's tables, which must be
//!   allowed to read the log; that check is made here too. When row-level security applies to
//!   that owner on the log, the statement runs instead, with its policies.
//! - What it reads: columns by name, resolved once per partition (a restored or hand-made
//!   partition may number them differently), from the heap tuple the index points to.
//!
//! The indexes are the ones each partition is made with (sql/bootstrap.sql,
//! `webhook_routing_make_day`): `<partition>_sender_idx (sender_key, created_at, id)` and
//! `<partition>_message_idx (sender_key, message_id, created_at, id)`, found by name and
//! checked by their key columns. A partition without them (attached by hand), a partitioned
//! partition, or an index dropped under a call makes `read` answer None: the caller then runs
//! the statement, which reads any layout.
//!
//! Cache: per backend, each partition's index oids and column numbers, found once with a few
//! catalogue reads. A relcache invalidation of a partition or of one of its indexes (a drop, a
//! new index, an ALTER, a restore into the database, which makes new oids) drops the cache,
//! and the next call finds them again; so does an invalidation of everything (a sinval queue
//! overflow). The partition bounds are the relcache's own, rebuilt by Postgres when a
//! partition is attached or detached. Memory: a few dozen bytes per partition.
use super::call_memory::CallMemory;
use pgrx::pg_sys;
use pgrx::FromDatum;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::CStr;
use std::rc::Rc;

/// What a probe looks for, in Postgres timestamps (microseconds since 2000-01-01 UTC).
pub struct Probes<'a> {
    pub sender_key: i64,
    /// The message's key in the log, if it has one: the retry probe.
    pub message_id: Option<&'a str>,
    /// The oldest a re-delivery's first decision may be.
    pub retry_from: i64,
    /// The oldest the sender's newest decision may be to continue its conversation.
    pub latest_from: i64,
    /// Rows dated from here on are not looked at.
    pub until: i64,
}

/// The log and the role whose rights read it.
pub struct Log {
    pub relid: pg_sys::Oid,
    pub owner: pg_sys::Oid,
}

/// One partition's indexes and column numbers.
struct Partition {
    relid: pg_sys::Oid,
    sender_idx: pg_sys::Oid,
    message_idx: pg_sys::Oid,
    /// Column numbers by name, filled as columns are read.
    columns: RefCell<Vec<(&'static CStr, pg_sys::AttrNumber)>>,
}

impl Partition {
    fn mentions(&self, relid: pg_sys::Oid) -> bool {
        self.relid == relid || self.sender_idx == relid || self.message_idx == relid
    }

    /// The column's number in this partition, looked up once.
    fn attnum(&self, column: &'static CStr) -> pg_sys::AttrNumber {
        if let Some(&(_, n)) = self.columns.borrow().iter().find(|(c, _)| *c == column) {
            return n;
        }
        // SAFETY: a syscache lookup by relation oid and a NUL-terminated name.
        let n = unsafe { pg_sys::get_attnum(self.relid, column.as_ptr()) };
        self.columns.borrow_mut().push((column, n));
        n
    }
}

thread_local! {
    static PARTITIONS: RefCell<HashMap<pg_sys::Oid, Rc<Partition>>> = RefCell::new(HashMap::new());
    /// Set by the relcache callback when it could not clear the map itself (in use).
    static STALE: Cell<bool> = const { Cell::new(false) };
    static REGISTERED: Cell<bool> = const { Cell::new(false) };
    /// Reset after every call: what the index scans and the probe's datums allocate.
    static CONTEXT: Cell<pg_sys::MemoryContext> = const { Cell::new(std::ptr::null_mut()) };
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_relcache_invalidation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    let cleared = PARTITIONS.with(|p| match p.try_borrow_mut() {
        Ok(mut map) => {
            if relid == pg_sys::InvalidOid || map.values().any(|part| part.mentions(relid)) {
                map.clear();
            }
            true
        }
        Err(_) => false,
    });
    if !cleared {
        STALE.with(|s| s.set(true));
    }
}

fn register_callback() {
    super::relcache::register_once(&REGISTERED, Some(on_relcache_invalidation));
}

fn cached(relid: pg_sys::Oid) -> Option<Rc<Partition>> {
    PARTITIONS.with(|p| {
        let mut map = p.borrow_mut();
        if STALE.with(|s| s.replace(false)) {
            map.clear();
        }
        map.get(&relid).cloned()
    })
}

/// A row a probe found: its columns, read by name.
pub struct Row<'a> {
    slot: *mut pg_sys::TupleTableSlot,
    partition: &'a Partition,
}

impl Row<'_> {
    /// The column `column`, None if NULL (or if the partition has no such column).
    pub fn get<T: FromDatum>(&self, column: &'static CStr) -> Option<T> {
        let n = self.partition.attnum(column);
        if n <= 0 {
            return None;
        }
        // SAFETY: the slot holds a heap tuple of this partition; its first n attributes are
        // deformed before they are read, and the datum is converted while the slot pins it.
        unsafe {
            if (*self.slot).tts_nvalid < n {
                pg_sys::slot_getsomeattrs_int(self.slot, i32::from(n));
            }
            let i = (n - 1) as usize;
            let isnull = *(*self.slot).tts_isnull.add(i);
            T::from_datum(*(*self.slot).tts_values.add(i), isnull)
        }
    }

    /// (created_at, id): the log's order.
    fn position(&self) -> (i64, i64) {
        (
            self.get::<i64>(c"created_at").unwrap_or(i64::MIN),
            self.get::<i64>(c"id").unwrap_or(i64::MIN),
        )
    }
}

/// Restores the active snapshot and then the memory context when the probe ends, on error too.
struct Scope {
    pushed_snapshot: bool,
    // Dropped after `Scope::drop` has popped the snapshot: the context goes back last.
    _memory: CallMemory,
}

impl Drop for Scope {
    fn drop(&mut self) {
        // SAFETY: undoes the snapshot `Scope::enter` pushed, if it pushed one.
        unsafe {
            if self.pushed_snapshot && pg_sys::ActiveSnapshotSet() {
                pg_sys::PopActiveSnapshot();
            }
        }
    }
}

impl Scope {
    /// Switch to the probe's memory context and choose its snapshot.
    unsafe fn enter() -> (Scope, pg_sys::Snapshot) {
        let mut scope = Scope {
            pushed_snapshot: false,
            _memory: CallMemory::enter(&CONTEXT, c"webhook_routing history probe"),
        };
        // As SPI runs a statement: read-only (no transaction id yet) on the active snapshot;
        // once the transaction has written, on a new snapshot that sees its earlier commands.
        let writing = pg_sys::GetCurrentTransactionIdIfAny() != pg_sys::InvalidTransactionId;
        if writing || !pg_sys::ActiveSnapshotSet() {
            if writing {
                pg_sys::CommandCounterIncrement();
            }
            pg_sys::PushActiveSnapshot(pg_sys::GetTransactionSnapshot());
            scope.pushed_snapshot = true;
        }
        (scope, pg_sys::GetActiveSnapshot())
    }
}

/// A partition a window reaches, with the bounds of its range.
#[derive(Clone, Copy)]
pub(crate) struct Reach {
    pub(crate) relid: pg_sys::Oid,
    pub(crate) lower: i64,
}

/// The partitions whose ranges meet [from, until), oldest first, and whether the window meets
/// a range no partition covers (then the default partition may hold its rows).
///
/// SAFETY: `desc` is the log's partition descriptor, read under a lock on the log.
pub(crate) unsafe fn reached(
    desc: pg_sys::PartitionDesc,
    from: i64,
    until: i64,
) -> Option<(Vec<Reach>, bool)> {
    let bounds = (*desc).boundinfo;
    if bounds.is_null() {
        return Some((Vec::new(), true));
    }
    // A char in 15, an enum of the same letters from 16 on.
    if (*bounds).strategy as u8 != b'r' {
        return None;
    }
    let n = (*bounds).ndatums as usize;
    // Bound i ends range i and starts range i + 1 (range n has no end); `indexes[i]` is the
    // partition of range i, or -1 for a gap.
    let bound = |i: usize| -> i64 {
        let kind = *(*(*bounds).kind.add(i));
        match kind {
            pg_sys::PartitionRangeDatumKind::PARTITION_RANGE_DATUM_MINVALUE => i64::MIN,
            pg_sys::PartitionRangeDatumKind::PARTITION_RANGE_DATUM_MAXVALUE => i64::MAX,
            _ => (*(*(*bounds).datums.add(i))).value() as i64,
        }
    };
    let mut first = 0;
    while first < n && bound(first) <= from {
        first += 1;
    }
    let mut reach = Vec::new();
    let mut gap = false;
    for i in first..=n {
        let lower = if i == 0 { i64::MIN } else { bound(i - 1) };
        if lower >= until {
            break;
        }
        let index = *(*bounds).indexes.add(i);
        if index < 0 {
            gap = true;
            continue;
        }
        if !*(*desc).is_leaf.add(index as usize) {
            return None;
        }
        reach.push(Reach {
            relid: *(*desc).oids.add(index as usize),
            lower,
        });
    }
    Some((reach, gap))
}

/// The sender's history by direct index probes: (the first decision of the message id within
/// the retry window, the sender's newest decision within the conversation window), each read
/// by `read`. None when the log's layout is not the one these probes know (see the module's
/// doc): the caller then runs the statement.
pub fn read<T>(
    log: &Log,
    probes: &Probes,
    read: impl Fn(&Row) -> T,
) -> Option<(Option<T>, Option<T>)> {
    register_callback();
    // SAFETY: the calls an index scan node makes, in its order, under the locks it takes; every
    // relation opened is closed (its lock kept to the end of the transaction) and every scan
    // ended before `scope` resets the memory they used, and on error the transaction's abort
    // releases pins, references and locks.
    unsafe {
        let log_rel = pg_sys::table_open(log.relid, pg_sys::AccessShareLock as i32);
        let (_scope, snapshot) = Scope::enter();
        let result = probe(log_rel, log, probes, snapshot, &read);
        pg_sys::table_close(log_rel, pg_sys::NoLock as i32);
        result
    }
}

/// `read`'s body. Long (about 130 lines) on purpose: one unsafe sequence of the calls an index
/// scan node makes, partition by partition, whose invariants (what is open, pinned and locked
/// at each point) hold across it; cut into functions, each would need them restated.
unsafe fn probe<T>(
    log_rel: pg_sys::Relation,
    log: &Log,
    probes: &Probes,
    snapshot: pg_sys::Snapshot,
    read: &impl Fn(&Row) -> T,
) -> Option<(Option<T>, Option<T>)> {
    if pg_sys::pg_class_aclcheck(log.relid, log.owner, pg_sys::ACL_SELECT as pg_sys::AclMode)
        != pg_sys::AclResult::ACLCHECK_OK
    {
        pg_sys::aclcheck_error(
            pg_sys::AclResult::ACLCHECK_NO_PRIV,
            pg_sys::ObjectType::OBJECT_TABLE,
            pg_sys::get_rel_name(log.relid),
        );
    }
    if (*(*log_rel).rd_rel).relrowsecurity
        && pg_sys::check_enable_rls(log.relid, log.owner, false)
            == pg_sys::CheckEnableRlsResult::RLS_ENABLED as i32
    {
        return None;
    }
    let desc = pg_sys::RelationGetPartitionDesc(log_rel, true);
    let default =
        (!(*desc).boundinfo.is_null() && (*(*desc).boundinfo).default_index >= 0).then(|| {
            *(*desc)
                .oids
                .add((*(*desc).boundinfo).default_index as usize)
        });
    // Copied out before any other lock is taken: taking one may rebuild the descriptor.
    let retry = match probes.message_id {
        Some(_) => Some(reached(desc, probes.retry_from, probes.until)?),
        None => None,
    };
    let (latest_parts, latest_gap) = reached(desc, probes.latest_from, probes.until)?;

    let mut retry_of: Option<((i64, i64), T)> = None;
    if let (Some(message_id), Some((parts, gap))) = (probes.message_id, retry) {
        let message =
            pg_sys::cstring_to_text_with_len(message_id.as_ptr().cast(), message_id.len() as i32);
        let keys = [
            Key::eq(1, pg_sys::F_INT8EQ, pg_sys::Datum::from(probes.sender_key)),
            Key::eq(2, pg_sys::F_TEXTEQ, pg_sys::Datum::from(message)),
            Key::new(
                3,
                pg_sys::BTGreaterEqualStrategyNumber,
                pg_sys::F_TIMESTAMPTZ_GE,
                probes.retry_from,
            ),
            Key::new(
                3,
                pg_sys::BTLessStrategyNumber,
                pg_sys::F_TIMESTAMPTZ_LT,
                probes.until,
            ),
        ];
        // Oldest day first: a row found in a day is older than any later day's; only the
        // default partition may hold an older one.
        let oldest = |part: pg_sys::Oid| {
            scan(
                part,
                Index::Message,
                &keys,
                snapshot,
                Direction::Oldest,
                |row| Step::Take((row.position(), read(row))),
            )
        };
        for reach in &parts {
            if let Some(found) = oldest(reach.relid)? {
                retry_of = Some(found);
                break;
            }
        }
        if let Some(d) = default.filter(|_| gap) {
            if let Some((position, row)) = oldest(d)? {
                if retry_of.as_ref().is_none_or(|(p, _)| position < *p) {
                    retry_of = Some((position, row));
                }
            }
        }
    }

    let mut latest: Option<((i64, i64), T)> = None;
    // The sender's key only: a btree reads every entry of a leaf page that passes the keys
    // before it returns the first, testing each against each key, and the entries of a sender
    // who writes often fill a page. The window is tested on the rows the scan returns, newest
    // first, which ends it at the first row older than the window.
    let keys = [Key::eq(
        1,
        pg_sys::F_INT8EQ,
        pg_sys::Datum::from(probes.sender_key),
    )];
    // The default partition first (when the window meets a gap), then the days, newest first,
    // until a day holds a row newer than everything older days and the default partition hold.
    let newest = |part: pg_sys::Oid| {
        scan(
            part,
            Index::Sender,
            &keys,
            snapshot,
            Direction::Newest,
            |row| {
                let position = row.position();
                if position.0 < probes.latest_from {
                    Step::Stop
                } else if position.0 >= probes.until
                    // The index holds no error rows; checked here too, so that the answer
                    // never depends on its predicate.
                    || row.get::<&str>(c"routed_to") == Some("error")
                {
                    Step::Skip
                } else {
                    Step::Take((position, read(row)))
                }
            },
        )
    };
    if let Some(d) = default.filter(|_| latest_gap) {
        latest = newest(d)?;
    }
    for reach in latest_parts.iter().rev() {
        if latest
            .as_ref()
            .is_some_and(|((created_at, _), _)| *created_at >= reach.lower)
        {
            break;
        }
        if let Some((position, row)) = newest(reach.relid)? {
            if latest.as_ref().is_none_or(|(p, _)| position > *p) {
                latest = Some((position, row));
            }
        }
    }
    Some((retry_of.map(|(_, r)| r), latest.map(|(_, r)| r)))
}

/// A scan key on an index column: `column <strategy> arg`.
struct Key {
    column: pg_sys::AttrNumber,
    strategy: u32,
    procedure: u32,
    arg: pg_sys::Datum,
}

impl Key {
    fn eq(column: pg_sys::AttrNumber, procedure: u32, arg: pg_sys::Datum) -> Key {
        Key {
            column,
            strategy: pg_sys::BTEqualStrategyNumber,
            procedure,
            arg,
        }
    }

    fn new(column: pg_sys::AttrNumber, strategy: u32, procedure: u32, timestamp: i64) -> Key {
        Key {
            column,
            strategy,
            procedure,
            arg: pg_sys::Datum::from(timestamp),
        }
    }
}

#[derive(Clone, Copy)]
enum Index {
    Sender,
    Message,
}

/// What a scan does with a visible row it reached.
enum Step<R> {
    Take(R),
    Skip,
    Stop,
}

#[derive(Clone, Copy)]
enum Direction {
    Oldest,
    Newest,
}

/// The partition's cached indexes, found (and checked) on first use.
unsafe fn partition(rel: pg_sys::Relation) -> Option<Rc<Partition>> {
    let relid = (*rel).rd_id;
    if let Some(part) = cached(relid) {
        return Some(part);
    }
    let name = CStr::from_ptr((*(*rel).rd_rel).relname.data.as_ptr())
        .to_str()
        .ok()?;
    let (sender_name, message_name) = (format!("{name}_sender_idx"), format!("{name}_message_idx"));
    let attnum = |column: &CStr| pg_sys::get_attnum(relid, column.as_ptr());
    let sender_keys = [attnum(c"sender_key"), attnum(c"created_at"), attnum(c"id")];
    let message_keys = [
        attnum(c"sender_key"),
        attnum(c"message_id"),
        attnum(c"created_at"),
        attnum(c"id"),
    ];
    let list = pg_sys::RelationGetIndexList(rel);
    let (mut sender_idx, mut message_idx) = (None, None);
    for i in 0..if list.is_null() { 0 } else { (*list).length } {
        let index = (*(*list).elements.add(i as usize)).oid_value;
        let index_name = pg_sys::get_rel_name(index);
        if index_name.is_null() {
            continue;
        }
        let index_name = CStr::from_ptr(index_name).to_str().unwrap_or("");
        if index_name == sender_name && has_keys(index, &sender_keys) {
            sender_idx = Some(index);
        } else if index_name == message_name && has_keys(index, &message_keys) {
            message_idx = Some(index);
        }
    }
    let part = Rc::new(Partition {
        relid,
        sender_idx: sender_idx?,
        message_idx: message_idx?,
        columns: RefCell::new(Vec::new()),
    });
    PARTITIONS.with(|p| p.borrow_mut().insert(relid, part.clone()));
    Some(part)
}

/// A valid btree index whose key columns start with `keys` (table column numbers).
unsafe fn has_keys(index: pg_sys::Oid, keys: &[pg_sys::AttrNumber]) -> bool {
    let rel = pg_sys::try_relation_open(index, pg_sys::AccessShareLock as i32);
    if rel.is_null() {
        return false;
    }
    let form = (*rel).rd_index;
    let ok = !form.is_null()
        && (*(*rel).rd_rel).relam == pg_sys::BTREE_AM_OID
        && (*form).indisvalid
        && (*form).indisready
        && (*form).indislive
        && (*form).indnkeyatts as usize >= keys.len()
        && (*form).indkey.values.as_slice(keys.len()) == keys;
    pg_sys::relation_close(rel, pg_sys::NoLock as i32);
    ok
}

/// Open `relid` (a partition) and walk its index from the oldest or the newest entry that
/// matches `keys`, until `accept` takes a visible row or stops the walk. Some(None) if none does; None if the
/// partition has not the indexes this module knows.
unsafe fn scan<R>(
    relid: pg_sys::Oid,
    which: Index,
    keys: &[Key],
    snapshot: pg_sys::Snapshot,
    direction: Direction,
    mut accept: impl FnMut(&Row) -> Step<R>,
) -> Option<Option<R>> {
    let heap = pg_sys::table_open(relid, pg_sys::AccessShareLock as i32);
    let Some(part) = partition(heap) else {
        pg_sys::table_close(heap, pg_sys::NoLock as i32);
        return None;
    };
    let index_oid = match which {
        Index::Sender => part.sender_idx,
        Index::Message => part.message_idx,
    };
    // Dropped since the cache was filled (its invalidation not yet seen): the statement reads.
    let index = pg_sys::try_relation_open(index_oid, pg_sys::AccessShareLock as i32);
    if index.is_null() || (*(*index).rd_rel).relkind != pg_sys::RELKIND_INDEX as std::ffi::c_char {
        if !index.is_null() {
            pg_sys::relation_close(index, pg_sys::NoLock as i32);
        }
        pg_sys::table_close(heap, pg_sys::NoLock as i32);
        PARTITIONS.with(|p| p.borrow_mut().clear());
        return None;
    }
    let mut scankeys: [pg_sys::ScanKeyData; 4] = Default::default();
    for (key, data) in keys.iter().zip(scankeys.iter_mut()) {
        pg_sys::ScanKeyEntryInitialize(
            data,
            0,
            key.column,
            key.strategy as pg_sys::StrategyNumber,
            pg_sys::InvalidOid,
            *(*index).rd_indcollation.add(key.column as usize - 1),
            pg_sys::Oid::from(key.procedure),
            key.arg,
        );
    }
    let nkeys = keys.len() as i32;
    #[cfg(not(feature = "pg18"))]
    let scan = pg_sys::index_beginscan(heap, index, snapshot, nkeys, 0);
    #[cfg(feature = "pg18")]
    let scan = pg_sys::index_beginscan(heap, index, snapshot, std::ptr::null_mut(), nkeys, 0);
    pg_sys::index_rescan(scan, scankeys.as_mut_ptr(), nkeys, std::ptr::null_mut(), 0);
    let slot = pg_sys::MakeSingleTupleTableSlot((*heap).rd_att, pg_sys::table_slot_callbacks(heap));
    let direction = match direction {
        Direction::Oldest => pg_sys::ScanDirection::ForwardScanDirection,
        Direction::Newest => pg_sys::ScanDirection::BackwardScanDirection,
    };
    let mut found = None;
    while pg_sys::index_getnext_slot(scan, direction, slot) {
        let row = Row {
            slot,
            partition: &part,
        };
        match accept(&row) {
            Step::Take(r) => {
                found = Some(r);
                break;
            }
            Step::Skip => {}
            Step::Stop => break,
        }
    }
    pg_sys::ExecDropSingleTupleTableSlot(slot);
    pg_sys::index_endscan(scan);
    pg_sys::index_close(index, pg_sys::NoLock as i32);
    pg_sys::table_close(heap, pg_sys::NoLock as i32);
    Some(found)
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

    /// The Postgres timestamp of a timestamptz literal.
    fn at(text: &str) -> i64 {
        Spi::get_one::<i64>(&format!(
            "SELECT ((extract(epoch FROM '{text}'::timestamptz) - 946684800) * 1000000)::bigint"
        ))
        .unwrap()
        .unwrap()
    }

    fn the_log() -> Log {
        let snapshot = crate::pg::config_cache::snapshot();
        Log {
            relid: snapshot.location.logs,
            owner: snapshot.location.owner,
        }
    }

    /// The tests of this module make, drop and attach partitions while the other tests of the
    /// suite route in their own transactions: each takes the log to itself first, so that no
    /// lock of theirs is taken in between (a deadlock otherwise).
    fn own_the_log() {
        Spi::run("LOCK TABLE webhook_routing_logs IN ACCESS EXCLUSIVE MODE").unwrap();
    }

    fn make_days(days: &[&str]) {
        for day in days {
            Spi::run(&format!("SELECT webhook_routing_make_day('{day}')")).unwrap();
        }
    }

    /// A decision row of `sender`, dated `created_at`.
    fn add(id: i64, sender: i64, message: &str, created_at: &str, routed_to: &str) {
        Spi::run(&format!(
            "INSERT INTO webhook_routing_logs (id, webhook_name, domain, routed_to, status, \
                 message_id, sender_key, conversation_id, created_at) \
             VALUES ({id}, 'whatsapp', 'jobs', '{routed_to}', 'pending', '{message}', {sender}, \
                     {id}, '{created_at}')"
        ))
        .unwrap();
    }

    /// What the probes answer: (the retry's id, the newest's id), or None for the statement.
    fn probe_ids(
        sender: i64,
        message: Option<&str>,
        from: &str,
        until: &str,
    ) -> Option<(Option<i64>, Option<i64>)> {
        let probes = Probes {
            sender_key: sender,
            message_id: message,
            retry_from: at(from),
            latest_from: at(from),
            until: at(until),
        };
        read(&the_log(), &probes, |row| row.get::<i64>(c"id").unwrap())
    }

    /// What a plain query over the log answers for the same windows (one row always: NULL
    /// when nothing is found).
    fn query_ids(
        sender: i64,
        message: Option<&str>,
        from: &str,
        until: &str,
    ) -> (Option<i64>, Option<i64>) {
        let window =
            format!("sender_key = {sender} AND created_at >= '{from}' AND created_at < '{until}'");
        let retry = message.and_then(|m| {
            Spi::get_one::<i64>(&format!(
                "SELECT (SELECT id FROM webhook_routing_logs WHERE {window} \
                     AND message_id = '{m}' ORDER BY created_at, id LIMIT 1)"
            ))
            .unwrap()
        });
        let latest = Spi::get_one::<i64>(&format!(
            "SELECT (SELECT id FROM webhook_routing_logs WHERE {window} \
                 AND routed_to <> 'error' ORDER BY created_at DESC, id DESC LIMIT 1)"
        ))
        .unwrap();
        (retry, latest)
    }

    /// Days with partitions and days without (their rows in the default partition), a
    /// conversation across midnight, error rows, several senders: every window gives what a
    /// query over the whole log gives.
    #[pg_test]
    fn probes_answer_as_the_log_does_across_days_and_the_default_partition() {
        own_the_log();
        make_days(&["2030-01-01", "2030-01-02", "2030-01-04"]);
        // Jan 3 and Jan 5 have no partition: their rows wait in the default partition.
        let rows = [
            (1, 7, "m1", "2030-01-01 23:50+00", "legacy"),
            (2, 7, "m2", "2030-01-02 00:05+00", "unified"),
            (3, 7, "m2", "2030-01-02 00:06+00", "legacy"),
            (4, 7, "m4", "2030-01-02 12:00+00", "error"),
            (5, 7, "m5", "2030-01-03 08:00+00", "legacy"),
            (6, 8, "m6", "2030-01-04 09:00+00", "unified"),
            (7, 7, "m7", "2030-01-04 09:30+00", "error"),
            (8, 7, "m1", "2030-01-05 10:00+00", "legacy"),
        ];
        for (id, sender, message, created_at, routed_to) in rows {
            add(id, sender, message, created_at, routed_to);
        }
        let in_default = Spi::get_one::<i64>(
            "SELECT count(*) FROM webhook_routing_logs_default WHERE sender_key IS NOT NULL",
        )
        .unwrap();
        assert_eq!(
            in_default,
            Some(2),
            "Jan 3 and Jan 5 wait in the default partition"
        );
        let windows = [
            ("2030-01-01 23:45+00", "2030-01-02 00:10+00"),
            ("2030-01-01 23:55+00", "2030-01-02 00:06+00"),
            ("2030-01-02 00:00+00", "2030-01-03 00:00+00"),
            ("2030-01-02 06:00+00", "2030-01-02 18:00+00"),
            ("2030-01-02 06:00+00", "2030-01-04 00:00+00"),
            ("2030-01-03 00:00+00", "2030-01-06 00:00+00"),
            ("2030-01-04 09:15+00", "2030-01-05 00:00+00"),
            ("2030-01-04 09:15+00", "2030-01-06 00:00+00"),
            ("2029-12-31 00:00+00", "2030-01-07 00:00+00"),
            ("2030-01-06 00:00+00", "2030-01-07 00:00+00"),
        ];
        let mut found = 0;
        for (from, until) in windows {
            for sender in [7, 8, 9] {
                for message in [
                    None,
                    Some("m1"),
                    Some("m2"),
                    Some("m4"),
                    Some("m6"),
                    Some("zz"),
                ] {
                    let probed = probe_ids(sender, message, from, until)
                        .unwrap_or_else(|| panic!("the probes read the extension's partitions"));
                    let queried = query_ids(sender, message, from, until);
                    assert_eq!(
                        probed, queried,
                        "sender {sender}, message {message:?}, {from} to {until}"
                    );
                    found += usize::from(probed.0.is_some()) + usize::from(probed.1.is_some());
                }
            }
        }
        assert!(found > 50, "the windows find rows: {found}");
        // Across midnight: the conversation opened before it is found after it.
        assert_eq!(
            probe_ids(7, Some("m1"), "2030-01-01 23:45+00", "2030-01-02 00:10+00"),
            Some((Some(1), Some(3)))
        );
    }

    /// A day dropped and made again in the same backend, and an index made again: the cached
    /// oids are dropped with them, and the new ones read.
    #[pg_test]
    fn a_day_dropped_and_made_again_is_read_again() {
        own_the_log();
        make_days(&["2030-02-01"]);
        add(1, 7, "m1", "2030-02-01 10:00+00", "legacy");
        let window = ("2030-02-01 00:00+00", "2030-02-02 00:00+00");
        assert_eq!(
            probe_ids(7, Some("m1"), window.0, window.1),
            Some((Some(1), Some(1)))
        );
        Spi::run("DROP TABLE webhook_routing_logs_p20300201").unwrap();
        assert_eq!(
            probe_ids(7, Some("m1"), window.0, window.1),
            Some((None, None))
        );
        make_days(&["2030-02-01"]);
        add(2, 7, "m1", "2030-02-01 11:00+00", "unified");
        assert_eq!(
            probe_ids(7, Some("m1"), window.0, window.1),
            Some((Some(2), Some(2)))
        );
        Spi::run("DROP INDEX webhook_routing_logs_p20300201_sender_idx").unwrap();
        assert_eq!(
            probe_ids(7, Some("m1"), window.0, window.1),
            None,
            "without its index the partition is left to the statement"
        );
        Spi::run(
            "CREATE INDEX webhook_routing_logs_p20300201_sender_idx \
             ON webhook_routing_logs_p20300201 (sender_key, created_at, id) \
             WHERE sender_key IS NOT NULL AND routed_to <> 'error'",
        )
        .unwrap();
        add(3, 7, "m3", "2030-02-01 12:00+00", "legacy");
        assert_eq!(
            probe_ids(7, Some("m1"), window.0, window.1),
            Some((Some(2), Some(3)))
        );
    }

    /// A partition attached by hand without the indexes: the windows that reach it are read by
    /// the statement, and the decision sees its rows.
    #[pg_test]
    fn a_partition_without_the_indexes_is_read_by_the_statement() {
        own_the_log();
        Spi::run(
            "CREATE TABLE wr_by_hand (LIKE webhook_routing_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS); \
             ALTER TABLE webhook_routing_logs ATTACH PARTITION wr_by_hand \
                 FOR VALUES FROM ('2030-03-01 00:00+00') TO ('2030-03-02 00:00+00')",
        )
        .unwrap();
        make_days(&["2030-03-02"]);
        add(1, 7, "m1", "2030-03-01 10:00+00", "legacy");
        add(2, 7, "m2", "2030-03-02 10:00+00", "legacy");
        assert_eq!(
            probe_ids(7, Some("m1"), "2030-03-01 00:00+00", "2030-03-03 00:00+00"),
            None
        );
        assert_eq!(
            probe_ids(7, Some("m2"), "2030-03-02 00:00+00", "2030-03-03 00:00+00"),
            Some((Some(2), Some(2)))
        );
    }

    /// Through route_decision: a follow-up without a cue continues the conversation its sender
    /// opened in this transaction, and a re-delivery gets its first decision back, both read by
    /// the probes (today's partition and the default partition).
    #[pg_test]
    fn decisions_read_their_history_through_the_probes() {
        own_the_log();
        Spi::run("SELECT create_routing_log_partitions(1)").unwrap();
        Spi::run("SELECT set_routing_enabled(true, 'probe test')").unwrap();
        let message = |id: &str, text: &str| {
            format!(
                "'{{\"entry\":[{{\"changes\":[{{\"value\":{{\"messages\":[{{\"from\":\"250788000042\",\
                 \"id\":\"{id}\",\"type\":\"text\",\"text\":{{\"body\":\"{text}\"}}}}]}}}}]}}]}}'::jsonb"
            )
        };
        let decide = |id: &str, text: &str| {
            Spi::get_three::<i64, String, String>(&format!(
                "SELECT decision_id, domain, reason FROM route_decision({})",
                message(id, text)
            ))
            .unwrap()
        };
        let (first, domain, _) = decide("wamid.probe.1", "I am looking for a job");
        assert_eq!(domain.as_deref(), Some("jobs"));
        let (_, domain, reason) = decide("wamid.probe.2", "yego");
        assert_eq!(
            (domain.as_deref(), reason.as_deref()),
            (Some("jobs"), Some("conversation"))
        );
        let (again, _, reason) = decide("wamid.probe.1", "I am looking for a job");
        assert_eq!((again, reason.as_deref()), (first, Some("retry")));
        let rows = Spi::get_one::<i64>("SELECT count(*) FROM webhook_routing_logs").unwrap();
        assert_eq!(rows, Some(2), "a re-delivery writes no row");
    }
}

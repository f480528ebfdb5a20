//! A decision's log row written straight into its day's partition and that partition's indexes,
//! without the executor: the writing half of `src/pg/index_probe.rs`.
//!
//! Why: the row's INSERT, a kept SPI statement, cost a logged decision 174,000 instructions
//! (callgrind, `bench/instructions`, 33 partitions), of which the heap and its four index
//! entries are about 50,000: the rest was the statement's executor started and ended for one
//! row (a Result node projecting 16 parameters and the columns' defaults, tuple routing, the
//! partition constraint checked again after the BEFORE row trigger, the AFTER row trigger's
//! WHEN clause and the partial indexes' predicates read from their stored text and prepared
//! again, every call). Here a call locks the log and the partition as the executor would,
//! forms the row in the partition's layout, `heap_insert`s it and adds its index entries with
//! `index_insert`, the predicates and defaults prepared once per backend.
//!
//! What it keeps of the statement it replaces:
//! - Locks: ROW EXCLUSIVE on the log, then on the partition and each of its indexes, held to
//!   the end of the transaction, in the executor's order; the partition chosen from the
//!   relcache's partition bounds after the log is locked (the default partition when no day
//!   covers the row's time), as tuple routing chooses it.
//! - Values: the columns route_decision names, the others from the log's own defaults
//!   (`created_at`'s `now()`, `retries`' 0), evaluated as the executor evaluates them; NOT NULL
//!   as the table says.
//! - Triggers: the log's are the extension's own, and for this row they do nothing or are done
//!   here. The BEFORE row trigger (src/route/log_policy.rs) checks values the decision made in
//!   range and exempts the owner, whose row this is; the AFTER row trigger of outcomes has a
//!   WHEN clause a pending row fails; the statement trigger's flush, of the session counts the
//!   decision changed (a pending row adds nothing to the sketches), is called by the caller
//!   when the trigger would have fired (its enabled state against `session_replication_role`).
//! - Privileges: the statement ran as the owner of the extension's tables, which must be
//!   allowed to INSERT into the log; checked here too.
//! - Crash safety, replication and standbys: `heap_insert` and `index_insert` write the WAL the
//!   executor's do (logical decoding included); uniqueness of the primary key is checked by the
//!   btree as it is for the statement.
//!
//! Anything else makes `insert` answer None before it writes, and the caller runs the
//! statement, which handles every layout: a trigger, rule, CHECK constraint, generated or
//! unknown column the extension did not make, an index on an expression or a deferrable or
//! exclusion constraint, a partition that is not a heap, row level security applying to the
//! owner, a read-only or parallel transaction (the statement raises the error there), or an
//! index dropped under the call. An `ExecutorStart` hook (an audit extension) does not see the
//! row's INSERT when this path writes it.
//!
//! Cache: per backend, the log's defaults and triggers, and each partition's column numbers,
//! indexes (their `IndexInfo`) and prepared predicates, built in a memory context of their own
//! on first use; a relcache invalidation of the log, a partition or an index (a DDL, a restore,
//! a sinval overflow) drops it at the next call.
use super::call_memory::CallMemory;
use pgrx::pg_sys;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::CStr;
use std::rc::Rc;

/// A column the caller writes, and its value (None: NULL).
pub type Column = (&'static CStr, Option<pg_sys::Datum>);

/// The log's triggers that this path knows: (trigger, its function), both the extension's.
const KNOWN_TRIGGERS: [(&CStr, &CStr); 5] = [
    (
        c"webhook_routing_logs_caller_limits",
        c"webhook_routing_logs_caller_limits",
    ),
    (
        c"webhook_routing_logs_outcome_inserted",
        c"webhook_routing_logs_to_sketch",
    ),
    (
        c"webhook_routing_logs_outcome_reported",
        c"webhook_routing_logs_to_sketch",
    ),
    (
        c"webhook_routing_logs_write_sketches",
        c"webhook_routing_logs_flush_sketches",
    ),
    (
        c"webhook_routing_logs_truncate_sketches",
        c"webhook_routing_logs_truncated",
    ),
];

/// The statement trigger whose flush this path calls.
const FLUSH_TRIGGER: &CStr = c"webhook_routing_logs_write_sketches";

/// numeric(5,2)'s type modifier: (precision << 16 | scale) + VARHDRSZ.
const NUMERIC_5_2: i32 = (5 << 16 | 2) + 4;

/// The log's columns (0.7.0's), with their types and type modifiers: a log with any other, or
/// one of these altered, is left to the statement (which coerces what it writes).
const LOG_COLUMNS: [(&CStr, pg_sys::Oid, i32); 22] = [
    (c"id", pg_sys::INT8OID, -1),
    (c"webhook_name", pg_sys::TEXTOID, -1),
    (c"domain", pg_sys::TEXTOID, -1),
    (c"routed_to", pg_sys::TEXTOID, -1),
    (c"response_time_ms", pg_sys::NUMERICOID, -1),
    (c"status", pg_sys::TEXTOID, -1),
    (c"error_message", pg_sys::TEXTOID, -1),
    (c"reason", pg_sys::TEXTOID, -1),
    (c"bucket", pg_sys::INT4OID, -1),
    (c"percentage", pg_sys::NUMERICOID, NUMERIC_5_2),
    (c"config_id", pg_sys::INT8OID, -1),
    (c"rule_id", pg_sys::INT8OID, -1),
    (c"message_id", pg_sys::TEXTOID, -1),
    (c"created_at", pg_sys::TIMESTAMPTZOID, -1),
    (c"completed_at", pg_sys::TIMESTAMPTZOID, -1),
    (c"sender_key", pg_sys::INT8OID, -1),
    (c"conversation_id", pg_sys::INT8OID, -1),
    (c"retries", pg_sys::INT4OID, -1),
    (c"session_domain", pg_sys::TEXTOID, -1),
    (c"session_broken_at", pg_sys::TIMESTAMPTZOID, -1),
    (c"session_deliberate_at", pg_sys::TIMESTAMPTZOID, -1),
    (c"session_switched_at", pg_sys::TIMESTAMPTZOID, -1),
];

/// What the log itself says about an INSERT: each column's default (prepared), and whether
/// its statement trigger's flush fires.
struct Parent {
    relid: pg_sys::Oid,
    /// By the log's column number - 1: the column's name, type and prepared default (null
    /// pointer: no default).
    columns: Vec<(&'static CStr, pg_sys::Oid, *mut pg_sys::ExprState)>,
    /// The flush trigger's `tgenabled` ('O', 'R', 'A' or 'D'); None if the log has none.
    flush_enabled: Option<u8>,
    econtext: *mut pg_sys::ExprContext,
}

/// One partition: its column numbers by the log's, and its indexes.
struct Partition {
    /// The partition's column number for each of the log's (by the log's number - 1).
    attnums: Vec<pg_sys::AttrNumber>,
    indexes: Vec<Index>,
}

struct Index {
    oid: pg_sys::Oid,
    info: *mut pg_sys::IndexInfo,
    /// The prepared predicate of a partial index (null: none).
    predicate: *mut pg_sys::ExprState,
    unique: bool,
}

struct Cache {
    context: pg_sys::MemoryContext,
    parent: Option<Rc<Parent>>,
    partitions: HashMap<pg_sys::Oid, Rc<Partition>>,
    /// The log or partitions found not to fit, until an invalidation of theirs: each call then
    /// goes to the statement without building (and leaking into the context) anything again.
    unknown: Vec<pg_sys::Oid>,
    /// Relations whose invalidation drops the cache.
    watched: Vec<pg_sys::Oid>,
}

thread_local! {
    static CACHE: RefCell<Option<Cache>> = const { RefCell::new(None) };
    /// Set by the relcache callback: the cache is dropped at the next call (never while it is
    /// in use).
    static STALE: Cell<bool> = const { Cell::new(false) };
    static WATCHED: RefCell<Vec<pg_sys::Oid>> = const { RefCell::new(Vec::new()) };
    static REGISTERED: Cell<bool> = const { Cell::new(false) };
    /// Reset after every call: the row and what the index entries allocate.
    static CALL_CONTEXT: Cell<pg_sys::MemoryContext> = const { Cell::new(std::ptr::null_mut()) };
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_relcache_invalidation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    let hit = relid == pg_sys::InvalidOid
        || WATCHED.with(|w| w.try_borrow().map_or(true, |w| w.contains(&relid)));
    if hit {
        STALE.with(|s| s.set(true));
    }
}

fn register_callback() {
    super::relcache::register_once(&REGISTERED, Some(on_relcache_invalidation));
}

/// Drop the cache if an invalidation marked it stale; make an empty one if there is none.
unsafe fn fresh_cache() {
    if STALE.with(|s| s.replace(false)) {
        if let Some(old) = CACHE.with(|c| c.borrow_mut().take()) {
            WATCHED.with(|w| w.borrow_mut().clear());
            pg_sys::MemoryContextDelete(old.context);
        }
    }
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.is_none() {
            *cache = Some(Cache {
                context: pg_sys::AllocSetContextCreateInternal(
                    pg_sys::TopMemoryContext,
                    c"webhook_routing log insert".as_ptr(),
                    0,
                    8 * 1024,
                    8 * 1024 * 1024,
                ),
                parent: None,
                partitions: HashMap::new(),
                unknown: Vec::new(),
                watched: Vec::new(),
            });
        }
    });
}

fn watch(relid: pg_sys::Oid) {
    WATCHED.with(|w| w.borrow_mut().push(relid));
    CACHE.with(|c| {
        if let Some(cache) = c.borrow_mut().as_mut() {
            cache.watched.push(relid);
        }
    });
}

fn cache_context() -> pg_sys::MemoryContext {
    CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .map_or(std::ptr::null_mut(), |c| c.context)
    })
}

/// Write one row of `columns` into the log `log` (owned by `owner`), as
/// `INSERT INTO log (columns...) VALUES (...)` run by the owner would. None, before anything
/// is written, when the log's layout is not the one this path knows (see the module's doc):
/// the caller then runs the statement. Some(true) when the log's statement trigger would have
/// fired after the row: the caller flushes what it would have (the session counts).
pub fn insert(log: pg_sys::Oid, owner: pg_sys::Oid, columns: &[Column]) -> Option<bool> {
    register_callback();
    // SAFETY: the calls the executor's INSERT makes, in its order, under the locks it takes;
    // every relation opened is closed (its lock kept to the end of the transaction) before
    // `scope` resets the memory they used, and on error the transaction's abort releases
    // buffers, references and locks.
    unsafe {
        if pg_sys::XactReadOnly || pg_sys::IsInParallelMode() {
            return None;
        }
        // As SPI before a statement that writes: its rows are a command of their own.
        pg_sys::CommandCounterIncrement();
        let log_rel = pg_sys::table_open(log, pg_sys::RowExclusiveLock as i32);
        let scope = CallMemory::enter(&CALL_CONTEXT, c"webhook_routing log row");
        let written = write(log_rel, owner, columns);
        drop(scope);
        pg_sys::table_close(log_rel, pg_sys::NoLock as i32);
        written
    }
}

unsafe fn write(log_rel: pg_sys::Relation, owner: pg_sys::Oid, columns: &[Column]) -> Option<bool> {
    let log = (*log_rel).rd_id;
    if pg_sys::pg_class_aclcheck(log, owner, pg_sys::ACL_INSERT as pg_sys::AclMode)
        != pg_sys::AclResult::ACLCHECK_OK
        || (*(*log_rel).rd_rel).relhasrules
        || ((*(*log_rel).rd_rel).relrowsecurity
            && pg_sys::check_enable_rls(log, owner, false)
                == pg_sys::CheckEnableRlsResult::RLS_ENABLED as i32)
    {
        return None;
    }
    fresh_cache();
    let parent = parent(log_rel)?;

    // The row in the log's numbering: given columns, then defaults, as the executor forms it.
    let natts = parent.columns.len();
    let mut values = vec![pg_sys::Datum::from(0usize); natts];
    let mut nulls = vec![true; natts];
    let mut given = vec![false; natts];
    for (name, value) in columns {
        let i = parent.columns.iter().position(|(n, _, _)| n == name)?;
        given[i] = true;
        if let Some(v) = value {
            values[i] = *v;
            nulls[i] = false;
        }
    }
    for (i, (_, _, default)) in parent.columns.iter().enumerate() {
        if given[i] || default.is_null() {
            continue;
        }
        let state = *default;
        let eval = (*state).evalfunc?;
        let mut isnull = false;
        let old = pg_sys::MemoryContextSwitchTo((*parent.econtext).ecxt_per_tuple_memory);
        let value = eval(state, parent.econtext, &mut isnull);
        pg_sys::MemoryContextSwitchTo(old);
        values[i] = value;
        nulls[i] = isnull;
    }
    let created_at = parent
        .columns
        .iter()
        .position(|(n, _, _)| *n == c"created_at")?;
    if nulls[created_at] {
        return None;
    }

    // The partition its time falls in, or the default partition.
    let desc = pg_sys::RelationGetPartitionDesc(log_rel, true);
    let at = values[created_at].value() as i64;
    let (reach, gap) = crate::pg::index_probe::reached(desc, at, at.saturating_add(1))?;
    let target = match (reach.as_slice(), gap) {
        ([one], false) => one.relid,
        ([], true) => {
            let bounds = (*desc).boundinfo;
            if bounds.is_null() || (*bounds).default_index < 0 {
                return None;
            }
            *(*desc).oids.add((*bounds).default_index as usize)
        }
        _ => return None,
    };
    let heap = pg_sys::table_open(target, pg_sys::RowExclusiveLock as i32);
    let written = write_partition(heap, &parent, &values, &nulls);
    pg_sys::table_close(heap, pg_sys::NoLock as i32);
    // The ExprContext's per-tuple memory held the defaults: free it once the row is written.
    pg_sys::MemoryContextReset((*parent.econtext).ecxt_per_tuple_memory);
    let fires = |enabled: u8| {
        if pg_sys::SessionReplicationRole == pg_sys::SESSION_REPLICATION_ROLE_REPLICA as i32 {
            enabled == b'A' || enabled == b'R'
        } else {
            enabled == b'A' || enabled == b'O'
        }
    };
    written.then(|| parent.flush_enabled.is_some_and(fires))
}

/// The row into `heap` (a partition locked ROW EXCLUSIVE) and its indexes. False, before
/// anything is written, if the partition is not one this path knows.
unsafe fn write_partition(
    heap: pg_sys::Relation,
    parent: &Parent,
    values: &[pg_sys::Datum],
    nulls: &[bool],
) -> bool {
    fresh_cache_keep_parent();
    let Some(part) = partition(heap, parent) else {
        return false;
    };
    // The row in the partition's numbering.
    let tupdesc = (*heap).rd_att;
    let natts = (*tupdesc).natts as usize;
    let mut pvalues = vec![pg_sys::Datum::from(0usize); natts];
    let mut pnulls = vec![true; natts];
    for (i, &attnum) in part.attnums.iter().enumerate() {
        // A column dropped from the log has no value.
        let Ok(j) = usize::try_from(attnum - 1) else {
            continue;
        };
        pvalues[j] = values[i];
        pnulls[j] = nulls[i];
    }
    for (j, null) in pnulls.iter().enumerate() {
        let attr = super::tupdesc::attr(tupdesc, j);
        if attr.attnotnull && *null {
            // The statement raises the NOT NULL violation, with its message.
            return false;
        }
    }
    // Every index opened before the row is written: one dropped under the call leaves the
    // row to the statement.
    let mut opened = Vec::with_capacity(part.indexes.len());
    for index in &part.indexes {
        let rel = pg_sys::try_relation_open(index.oid, pg_sys::RowExclusiveLock as i32);
        if rel.is_null() || (*(*rel).rd_rel).relkind != pg_sys::RELKIND_INDEX as std::ffi::c_char {
            if !rel.is_null() {
                pg_sys::relation_close(rel, pg_sys::NoLock as i32);
            }
            for r in opened {
                pg_sys::relation_close(r, pg_sys::NoLock as i32);
            }
            STALE.with(|s| s.set(true));
            return false;
        }
        opened.push(rel);
    }
    let tuple = pg_sys::heap_form_tuple(tupdesc, pvalues.as_mut_ptr(), pnulls.as_mut_ptr());
    pg_sys::heap_insert(
        heap,
        tuple,
        pg_sys::GetCurrentCommandId(true),
        0,
        std::ptr::null_mut(),
    );
    let slot = pg_sys::MakeSingleTupleTableSlot(tupdesc, &pg_sys::TTSOpsHeapTuple);
    pg_sys::ExecStoreHeapTuple(tuple, slot, false);
    let econtext = parent.econtext;
    (*econtext).ecxt_scantuple = slot;
    for (index, rel) in part.indexes.iter().zip(&opened) {
        if !(*index.info).ii_ReadyForInserts {
            continue;
        }
        if !index.predicate.is_null() {
            let state = index.predicate;
            let mut isnull = false;
            let holds = match (*state).evalfunc {
                Some(eval) => {
                    let old = pg_sys::MemoryContextSwitchTo((*econtext).ecxt_per_tuple_memory);
                    let d = eval(state, econtext, &mut isnull);
                    pg_sys::MemoryContextSwitchTo(old);
                    !isnull && d.value() != 0
                }
                None => false,
            };
            if !holds {
                continue;
            }
        }
        let mut ivalues = [pg_sys::Datum::from(0usize); pg_sys::INDEX_MAX_KEYS as usize];
        let mut inulls = [false; pg_sys::INDEX_MAX_KEYS as usize];
        pg_sys::FormIndexDatum(
            index.info,
            slot,
            std::ptr::null_mut(),
            ivalues.as_mut_ptr(),
            inulls.as_mut_ptr(),
        );
        pg_sys::index_insert(
            *rel,
            ivalues.as_mut_ptr(),
            inulls.as_mut_ptr(),
            &mut (*tuple).t_self,
            heap,
            if index.unique {
                pg_sys::IndexUniqueCheck::UNIQUE_CHECK_YES
            } else {
                pg_sys::IndexUniqueCheck::UNIQUE_CHECK_NO
            },
            false,
            index.info,
        );
    }
    (*econtext).ecxt_scantuple = std::ptr::null_mut();
    pg_sys::ExecDropSingleTupleTableSlot(slot);
    for r in opened {
        pg_sys::relation_close(r, pg_sys::NoLock as i32);
    }
    true
}

/// A partition's lock may have brought invalidations: a stale cache is dropped and built
/// again, the log's part included (its pointers must not outlive the context).
unsafe fn fresh_cache_keep_parent() {
    if STALE.with(|s| s.get()) {
        // The parent in use stays valid (an Rc into the old context would not): leave the
        // rebuild to the next call, and read this partition as it is now by returning through
        // `partition`, which finds it anew.
        CACHE.with(|c| {
            if let Some(cache) = c.borrow_mut().as_mut() {
                cache.partitions.clear();
            }
        });
    }
}

/// Whether `relid`'s function is `name` in namespace `namespace`.
unsafe fn function_is(funcid: pg_sys::Oid, name: &CStr, namespace: pg_sys::Oid) -> bool {
    let f = pg_sys::get_func_name(funcid);
    !f.is_null() && CStr::from_ptr(f) == name && pg_sys::get_func_namespace(funcid) == namespace
}

/// Whether every trigger of `rel` that an INSERT could fire is one of the extension's, and
/// the enabled state of the flush trigger.
unsafe fn known_triggers(rel: pg_sys::Relation) -> Option<Option<u8>> {
    let trigdesc = (*rel).trigdesc;
    let mut flush = None;
    if trigdesc.is_null() {
        return Some(flush);
    }
    let namespace = (*(*rel).rd_rel).relnamespace;
    for i in 0..(*trigdesc).numtriggers as usize {
        let t = &*(*trigdesc).triggers.add(i);
        let name = CStr::from_ptr(t.tgname);
        let known = KNOWN_TRIGGERS
            .iter()
            .find(|(n, _)| *n == name)
            .is_some_and(|(_, f)| function_is(t.tgfoid, f, namespace));
        if !known || !t.tgnewtable.is_null() || !t.tgoldtable.is_null() {
            return None;
        }
        if name == c"webhook_routing_logs_outcome_inserted" && t.tgqual.is_null() {
            // Without its WHEN clause it would count this pending row.
            return None;
        }
        if name == FLUSH_TRIGGER {
            flush = Some(t.tgenabled as u8);
        }
    }
    Some(flush)
}

/// Whether `relid` was found not to fit since the last invalidation.
fn known_unfit(relid: pg_sys::Oid) -> bool {
    CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|c| c.unknown.contains(&relid))
    })
}

/// Remember that `relid` does not fit, until an invalidation of it.
fn unfit<T>(relid: pg_sys::Oid) -> Option<T> {
    watch(relid);
    CACHE.with(|c| {
        if let Some(cache) = c.borrow_mut().as_mut() {
            cache.unknown.push(relid);
        }
    });
    None
}

/// The log's columns, defaults and triggers, cached.
unsafe fn parent(log_rel: pg_sys::Relation) -> Option<Rc<Parent>> {
    let relid = (*log_rel).rd_id;
    if let Some(p) = CACHE.with(|c| c.borrow().as_ref().and_then(|c| c.parent.clone())) {
        if p.relid == relid {
            return Some(p);
        }
    }
    if known_unfit(relid) {
        return None;
    }
    build_parent(log_rel).or_else(|| unfit(relid))
}

unsafe fn build_parent(log_rel: pg_sys::Relation) -> Option<Rc<Parent>> {
    let relid = (*log_rel).rd_id;
    let flush_enabled = known_triggers(log_rel)?;
    let tupdesc = (*log_rel).rd_att;
    let constr = (*tupdesc).constr;
    if !constr.is_null() && ((*constr).num_check > 0 || (*constr).has_generated_stored) {
        return None;
    }
    let old = pg_sys::MemoryContextSwitchTo(cache_context());
    let mut columns = Vec::new();
    let mut ok = true;
    for j in 0..(*tupdesc).natts as usize {
        let attr = super::tupdesc::attr(tupdesc, j);
        if attr.attisdropped {
            columns.push((c"", pg_sys::InvalidOid, std::ptr::null_mut()));
            continue;
        }
        let name = CStr::from_ptr(attr.attname.data.as_ptr());
        let Some((known, _, _)) = LOG_COLUMNS
            .iter()
            .find(|(c, t, m)| *c == name && *t == attr.atttypid && *m == attr.atttypmod)
        else {
            ok = false;
            break;
        };
        if attr.attgenerated != 0 || attr.attidentity != 0 {
            ok = false;
            break;
        }
        let mut default = std::ptr::null_mut();
        if attr.atthasdef {
            let expr = pg_sys::build_column_default(log_rel, (j + 1) as i32);
            if !expr.is_null() {
                let planned = pg_sys::expression_planner(expr.cast());
                default = pg_sys::ExecInitExpr(planned, std::ptr::null_mut());
            }
        }
        columns.push((*known, attr.atttypid, default));
    }
    let econtext = if ok {
        pg_sys::CreateStandaloneExprContext()
    } else {
        std::ptr::null_mut()
    };
    pg_sys::MemoryContextSwitchTo(old);
    if !ok {
        return None;
    }
    let parent = Rc::new(Parent {
        relid,
        columns,
        flush_enabled,
        econtext,
    });
    watch(relid);
    CACHE.with(|c| {
        if let Some(cache) = c.borrow_mut().as_mut() {
            cache.parent = Some(parent.clone());
        }
    });
    Some(parent)
}

/// The partition's column numbers and indexes, cached; None if it is not one this path knows.
unsafe fn partition(heap: pg_sys::Relation, parent: &Parent) -> Option<Rc<Partition>> {
    let relid = (*heap).rd_id;
    if let Some(p) = CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|c| c.partitions.get(&relid).cloned())
    }) {
        return Some(p);
    }
    if known_unfit(relid) {
        return None;
    }
    build_partition(heap, parent).or_else(|| unfit(relid))
}

unsafe fn build_partition(heap: pg_sys::Relation, parent: &Parent) -> Option<Rc<Partition>> {
    let relid = (*heap).rd_id;
    let form = (*heap).rd_rel;
    if (*form).relkind != pg_sys::RELKIND_RELATION as std::ffi::c_char
        || (*form).relam != pg_sys::HEAP_TABLE_AM_OID
        || (*form).relhasrules
    {
        return None;
    }
    known_triggers(heap)?;
    let tupdesc = (*heap).rd_att;
    let constr = (*tupdesc).constr;
    if !constr.is_null() && ((*constr).num_check > 0 || (*constr).has_generated_stored) {
        return None;
    }
    // Same columns, by name, maybe numbered otherwise (a partition attached by hand).
    let mut attnums = Vec::with_capacity(parent.columns.len());
    for (name, typid, _) in &parent.columns {
        if name.is_empty() {
            attnums.push(0);
            continue;
        }
        let n = pg_sys::get_attnum(relid, name.as_ptr());
        if n <= 0 || pg_sys::get_atttype(relid, n) != *typid {
            return None;
        }
        attnums.push(n);
    }
    // No column of the partition beyond the log's.
    let live = (0..(*tupdesc).natts as usize)
        .filter(|&j| !super::tupdesc::attr(tupdesc, j).attisdropped)
        .count();
    if live != attnums.iter().filter(|n| **n > 0).count() {
        return None;
    }
    let old = pg_sys::MemoryContextSwitchTo(cache_context());
    let mut indexes = Vec::new();
    let list = pg_sys::RelationGetIndexList(heap);
    let mut ok = true;
    for i in 0..if list.is_null() { 0 } else { (*list).length } {
        let oid = (*(*list).elements.add(i as usize)).oid_value;
        let rel = pg_sys::try_relation_open(oid, pg_sys::AccessShareLock as i32);
        if rel.is_null() {
            ok = false;
            break;
        }
        let index = (*rel).rd_index;
        let info = pg_sys::BuildIndexInfo(rel);
        let simple = !index.is_null()
            && (*index).indimmediate
            && (*info).ii_Expressions.is_null()
            && (*info).ii_ExclusionOps.is_null();
        let predicate = if simple && !(*info).ii_Predicate.is_null() {
            pg_sys::ExecInitQual((*info).ii_Predicate, std::ptr::null_mut())
        } else {
            std::ptr::null_mut()
        };
        let unique = !index.is_null() && (*index).indisunique;
        pg_sys::relation_close(rel, pg_sys::NoLock as i32);
        if !simple {
            ok = false;
            break;
        }
        indexes.push(Index {
            oid,
            info,
            predicate,
            unique,
        });
    }
    pg_sys::MemoryContextSwitchTo(old);
    if !ok {
        return None;
    }
    let part = Rc::new(Partition { attnums, indexes });
    watch(relid);
    for index in &part.indexes {
        watch(index.oid);
    }
    CACHE.with(|c| {
        if let Some(cache) = c.borrow_mut().as_mut() {
            cache.partitions.insert(relid, part.clone());
        }
    });
    Some(part)
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;
    use pgrx::IntoDatum;

    /// Like index_probe's tests: the log to this test alone, so that days made and dropped
    /// here never deadlock with the suite's other transactions.
    fn own_the_log() {
        Spi::run("LOCK TABLE webhook_routing_logs IN ACCESS EXCLUSIVE MODE").unwrap();
    }

    /// A decision row's columns, as route_decision gives them, with `id` and `created_at`.
    fn row(id: i64, created_at: Option<&str>) -> Vec<Column> {
        let at = created_at.map(|t| {
            Spi::get_one::<pgrx::datum::TimestampWithTimeZone>(&format!(
                "SELECT '{t}'::timestamptz"
            ))
            .unwrap()
            .unwrap()
            .into_datum()
            .unwrap()
        });
        let mut columns: Vec<Column> = vec![
            (c"id", id.into_datum()),
            (c"webhook_name", "whatsapp".into_datum()),
            (c"domain", "jobs".into_datum()),
            (c"routed_to", "unified".into_datum()),
            (c"status", "pending".into_datum()),
            (c"reason", "in_rollout".into_datum()),
            (c"bucket", 1788i32.into_datum()),
            (
                c"percentage",
                Some(crate::pg::numeric::percentage_datum(2500)),
            ),
            (c"config_id", 3i64.into_datum()),
            (c"message_id", "wamid.direct".into_datum()),
            (c"sender_key", 4242i64.into_datum()),
            (c"conversation_id", id.into_datum()),
            (c"session_domain", None),
            (c"session_broken_at", None),
        ];
        if let Some(at) = at {
            columns.push((c"created_at", Some(at)));
        }
        columns
    }

    fn write(columns: &[Column]) -> Option<bool> {
        let snapshot = crate::pg::config_cache::snapshot();
        insert(snapshot.location.logs, snapshot.location.owner, columns)
    }

    /// The same values by a plain INSERT, under another id.
    fn insert_by_statement(id: i64, created_at: Option<&str>) {
        let at = created_at.map_or("DEFAULT".to_owned(), |t| format!("'{t}'"));
        Spi::run(&format!(
            "INSERT INTO webhook_routing_logs (id, webhook_name, domain, routed_to, status, reason, \
                 bucket, percentage, config_id, message_id, sender_key, conversation_id, created_at) \
             VALUES ({id}, 'whatsapp', 'jobs', 'unified', 'pending', 'in_rollout', 1788, 25, 3, \
                     'wamid.direct', 4242, {id}, {at})"
        ))
        .unwrap();
    }

    /// The row written directly is the row the statement writes (every column but the id and
    /// the conversation, which is the id), in the same partition, and every index finds it.
    #[pg_test]
    fn the_row_is_the_statements_row_and_its_indexes_find_it() {
        own_the_log();
        Spi::run("SELECT create_routing_log_partitions(1)").unwrap();
        assert_eq!(write(&row(9_000_001, None)), Some(true));
        insert_by_statement(9_000_002, None);
        let same = Spi::get_one::<bool>(
            "SELECT (to_jsonb(a) - 'id' - 'conversation_id') = (to_jsonb(b) - 'id' - 'conversation_id') \
                    AND a.tableoid = b.tableoid AND a.created_at = now() AND a.retries = 0 \
             FROM webhook_routing_logs a, webhook_routing_logs b \
             WHERE a.id = 9000001 AND b.id = 9000002",
        )
        .unwrap();
        assert_eq!(same, Some(true));
        Spi::run("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off").unwrap();
        for (query, what) in [
            (
                "SELECT count(*) FROM webhook_routing_logs WHERE id = 9000001 AND created_at = now()",
                "the primary key",
            ),
            (
                "SELECT count(*) FROM webhook_routing_logs WHERE status = 'pending' AND created_at = now() AND id = 9000001",
                "the pending decisions",
            ),
            (
                "SELECT count(*) FROM webhook_routing_logs WHERE sender_key = 4242 AND routed_to <> 'error' AND created_at = now() AND id = 9000001",
                "the sender's",
            ),
            (
                "SELECT count(*) FROM webhook_routing_logs WHERE sender_key = 4242 AND message_id = 'wamid.direct' AND id = 9000001",
                "the message ids",
            ),
        ] {
            assert_eq!(Spi::get_one::<i64>(query).unwrap(), Some(1), "{what}");
        }
        let plan = Spi::explain(
            "SELECT count(*) FROM webhook_routing_logs WHERE sender_key = 4242 AND message_id = 'wamid.direct' AND id = 9000001",
        )
        .unwrap();
        assert!(
            format!("{plan:?}").contains("message_idx"),
            "the query read the message index: {plan:?}"
        );
    }

    /// A time no day covers goes to the default partition, as tuple routing sends it.
    #[pg_test]
    fn a_day_without_a_partition_writes_into_the_default_partition() {
        own_the_log();
        assert_eq!(
            write(&row(9_000_011, Some("2031-05-05 10:00+00"))),
            Some(true)
        );
        let partition = Spi::get_one::<String>(
            "SELECT tableoid::regclass::text FROM webhook_routing_logs WHERE id = 9000011",
        )
        .unwrap();
        assert_eq!(partition.as_deref(), Some("webhook_routing_logs_default"));
    }

    /// A trigger the extension did not make: the statement writes the row, and the trigger
    /// fires, for route_decision's rows too.
    #[pg_test]
    fn a_trigger_of_the_users_leaves_the_row_to_the_statement() {
        own_the_log();
        Spi::run(
            "CREATE TABLE wr_seen (id bigint); \
             CREATE FUNCTION wr_see() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN INSERT INTO wr_seen VALUES (NEW.id); RETURN NEW; END $$; \
             CREATE TRIGGER wr_see AFTER INSERT ON webhook_routing_logs \
                 FOR EACH ROW EXECUTE FUNCTION wr_see()",
        )
        .unwrap();
        assert_eq!(write(&row(9_000_021, None)), None);
        let id =
            Spi::get_one::<i64>("SELECT decision_id FROM route_decision('{\"entry\":[]}'::jsonb)")
                .unwrap();
        let seen = Spi::get_one::<i64>("SELECT max(id) FROM wr_seen").unwrap();
        assert!(id.is_some());
        assert_eq!(seen, id, "the user's trigger saw the decision's row");
        assert_eq!(
            write(&row(9_000_022, None)),
            None,
            "the log stays left to the statement"
        );
        Spi::run("DROP TRIGGER wr_see ON webhook_routing_logs").unwrap();
        assert_eq!(
            write(&row(9_000_023, None)),
            Some(true),
            "without the trigger the row is written directly again"
        );
    }

    /// A column whose type was altered: the statement writes the row, coercing its values.
    #[pg_test]
    fn an_altered_column_leaves_the_row_to_the_statement() {
        own_the_log();
        Spi::run("ALTER TABLE webhook_routing_logs ALTER COLUMN bucket TYPE bigint").unwrap();
        assert_eq!(write(&row(9_000_051, None)), None);
        let id =
            Spi::get_one::<i64>("SELECT decision_id FROM route_decision('{\"entry\":[]}'::jsonb)")
                .unwrap();
        let logged = Spi::get_one::<i64>(&format!(
            "SELECT count(*) FROM webhook_routing_logs WHERE id = {}",
            id.unwrap_or_default()
        ))
        .unwrap();
        assert_eq!(logged, Some(1), "the decision was logged by the statement");
    }

    /// The primary key holds as it does for the statement.
    #[pg_test(
        error = "duplicate key value violates unique constraint \"webhook_routing_logs_default_pkey\""
    )]
    fn a_duplicate_id_is_refused_by_the_primary_key() {
        own_the_log();
        write(&row(9_000_031, Some("2031-06-06 10:00+00")));
        write(&row(9_000_031, Some("2031-06-06 10:00+00")));
    }

    /// A read-only transaction: nothing is written here, and the statement refuses it (taking
    /// the decision's id refuses first: nextval).
    #[pg_test]
    fn a_read_only_transaction_is_left_to_the_statement() {
        Spi::run("SET TRANSACTION READ ONLY").unwrap();
        assert_eq!(write(&row(9_000_041, Some("2031-07-07 10:00+00"))), None);
        let rows =
            Spi::get_one::<i64>("SELECT count(*) FROM webhook_routing_logs WHERE id = 9000041")
                .unwrap();
        assert_eq!(rows, Some(0));
    }
}

//! The per-backend cache of what `route_decision` reads on every call: where the extension's
//! tables are, the config row in force, and the compiled rules.
//!
//! Why: reading the config and the rules with SPI on every call held route_decision to ~0.13×
//! the bare round trip of its payload (bench/run: 13.5k/s against 107k/s on 2 cores).
//!
//! Invalidation is owned by the database and transactional: a statement trigger on
//! `webhook_routing_config` and `webhook_routing_rules` (any INSERT, UPDATE, DELETE, TRUNCATE,
//! by the admin functions or by hand) registers a relcache invalidation of the table, which
//! Postgres sends to every backend when the change commits (and applies locally at the next
//! command, and again on abort). Each backend registers a relcache callback the first time it
//! routes — no shared_preload_libraries needed — and the callback only marks the cache stale.
//! `route_decision` calls `AcceptInvalidationMessages()` first, so a committed change, the kill
//! switch included, applies to every backend's next call, even inside an open transaction.
//! Dropping the extension drops the tables, which invalidates them too. A reload reads under
//! the newest snapshot, read-only and without a transaction id, whatever the caller's
//! isolation level (src/latest.rs), so it also works on a hot standby, where the relcache
//! invalidations of a committed change are replayed from its commit record.
//!
//! Memory: the config row and the enabled rules (a few KB for the seeded 70 rules) per backend.
use crate::core::config::{load_rules, Config};
use crate::pg::error::spi_failed;
use crate::pg::read_newest::{self, Snapshot as Read};
use crate::route::detect::Rules;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiResult};
use pgrx::PgOid;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// Where the extension lives: its quoted schema, its tables' oids, the role that owns them, and
/// the sequence of decision ids.
pub struct Location {
    pub schema: String,
    config: pg_sys::Oid,
    rules: pg_sys::Oid,
    pub owner: pg_sys::Oid,
    pub decision_ids: pg_sys::Oid,
    /// The log (partitioned), which src/probe.rs reads through its partitions' indexes.
    pub logs: pg_sys::Oid,
    /// Whether the log has the session columns (0.7.0's, src/session.rs): a library installed
    /// before `ALTER EXTENSION ... UPDATE` logs and reads decisions without them until then.
    pub sessions: bool,
}

/// What a decision reads, as of the last invalidation.
pub struct Snapshot {
    pub location: Location,
    pub config: Option<Config>,
    pub rules: Rules,
    /// The key of senders' hashes in the log (src/conversation.rs); None if its row is gone,
    /// and then decisions are made without conversations.
    pub secret: Option<[u8; 16]>,
}

thread_local! {
    static SNAPSHOT: RefCell<Option<Rc<Snapshot>>> = const { RefCell::new(None) };
    /// Cleared by the relcache callback; the callback touches nothing else, since it can run in
    /// the middle of our own SPI calls (lock acquisition processes invalidations).
    static VALID: Cell<bool> = const { Cell::new(false) };
    static WATCHED: Cell<[pg_sys::Oid; 2]> = const { Cell::new([pg_sys::InvalidOid; 2]) };
    static REGISTERED: Cell<bool> = const { Cell::new(false) };
}

#[pg_guard]
unsafe extern "C-unwind" fn on_relcache_invalidation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    // InvalidOid means "all relations" (e.g. after a sinval queue overflow).
    if relid == pg_sys::InvalidOid || WATCHED.with(|w| w.get().contains(&relid)) {
        VALID.with(|v| v.set(false));
    }
}

fn register_callback() {
    if !REGISTERED.with(|r| r.replace(true)) {
        // SAFETY: registered once per backend; the callback only flips a flag.
        unsafe {
            pg_sys::CacheRegisterRelcacheCallback(
                Some(on_relcache_invalidation),
                pg_sys::Datum::from(0),
            )
        };
    }
}

fn locate() -> Location {
    let rows = read_newest::select(
        "SELECT pg_catalog.quote_ident(n.nspname), \
                (SELECT c.oid FROM pg_catalog.pg_class c \
                  WHERE c.relnamespace OPERATOR(pg_catalog.=) n.oid \
                    AND c.relname OPERATOR(pg_catalog.=) 'webhook_routing_config'), \
                (SELECT c.oid FROM pg_catalog.pg_class c \
                  WHERE c.relnamespace OPERATOR(pg_catalog.=) n.oid \
                    AND c.relname OPERATOR(pg_catalog.=) 'webhook_routing_rules'), \
                (SELECT c.relowner FROM pg_catalog.pg_class c \
                  WHERE c.relnamespace OPERATOR(pg_catalog.=) n.oid \
                    AND c.relname OPERATOR(pg_catalog.=) 'webhook_routing_sketches'), \
                (SELECT c.oid FROM pg_catalog.pg_class c \
                  WHERE c.relnamespace OPERATOR(pg_catalog.=) n.oid \
                    AND c.relname OPERATOR(pg_catalog.=) 'webhook_routing_logs_id_seq'), \
                (SELECT c.oid FROM pg_catalog.pg_class c \
                  WHERE c.relnamespace OPERATOR(pg_catalog.=) n.oid \
                    AND c.relname OPERATOR(pg_catalog.=) 'webhook_routing_logs'), \
                EXISTS (SELECT FROM pg_catalog.pg_class c \
                        JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid \
                        WHERE c.relnamespace OPERATOR(pg_catalog.=) n.oid \
                          AND c.relname OPERATOR(pg_catalog.=) 'webhook_routing_logs' \
                          AND a.attname OPERATOR(pg_catalog.=) 'session_domain' AND NOT a.attisdropped) \
         FROM pg_catalog.pg_extension e \
         JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace \
         WHERE e.extname OPERATOR(pg_catalog.=) 'webhook_routing'",
        Read::Latest,
        // SAFETY: the types of the columns selected above.
        |row| unsafe {
            (
                row.get::<String>(1),
                row.get::<pg_sys::Oid>(2),
                row.get::<pg_sys::Oid>(3),
                row.get::<pg_sys::Oid>(4),
                row.get::<pg_sys::Oid>(5),
                row.get::<pg_sys::Oid>(6),
                row.get::<bool>(7),
            )
        },
    );
    match rows.into_iter().next() {
        Some((
            Some(schema),
            Some(config),
            Some(rules),
            Some(owner),
            Some(decision_ids),
            Some(logs),
            sessions,
        )) => Location {
            schema,
            config,
            rules,
            owner,
            decision_ids,
            logs,
            sessions: sessions.unwrap_or(false),
        },
        _ => spi_failed(
            "find its tables",
            "extension webhook_routing is not installed in this database",
        ),
    }
}

/// Run `f` with `search_path = pg_catalog, pg_temp`, restored afterwards (and by Postgres on
/// error). The statements the extension runs once in a while (cache loads, error paths) run
/// inside: names are then resolved in pg_catalog and the extension's own schema (which every
/// statement names), never in a schema a caller put on its search_path, where a look-alike
/// function or operator could run with the caller's rights.
///
/// Kept plans cannot rely on it: Postgres re-parses a kept statement under the caller's
/// search_path whenever that differs from the one it was parsed under. Their text names every
/// function and operator with its schema (`pg_catalog.round`, `OPERATOR(pg_catalog.=)`), so a
/// re-parse under any path resolves the same objects. It costs a GUC change, too much for
/// every decision.
pub fn with_pinned_search_path<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: the same calls a function's `SET search_path` clause makes (fmgr_security_definer):
    // a GUC nest level, a SAVE-action setting in it, and AtEOXact_GUC to pop it. An error
    // inside `f` aborts the (sub)transaction, which pops the level too.
    unsafe {
        let level = pg_sys::NewGUCNestLevel();
        pg_sys::set_config_option(
            c"search_path".as_ptr(),
            c"pg_catalog, pg_temp".as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            pg_sys::PGERROR as i32,
            false,
        );
        let result = f();
        pg_sys::AtEOXact_GUC(true, level);
        result
    }
}

/// Run `f` as the role that owns the extension's tables, as a SECURITY DEFINER function would
/// (the same user id switch, without its GUC change): for the writes only the extension's own
/// code makes, such as the latency sketches, which no other role may write. The statements
/// `f` runs are the extension's own, with every function and operator schema-qualified. An
/// error inside `f` aborts the (sub)transaction, which restores the user id.
pub fn as_owner<R>(f: impl FnOnce() -> R) -> R {
    as_role(snapshot().location.owner, f)
}

/// Run `f` as `role`: the user id switch of `as_owner`, for a role already known (the snapshot
/// being loaded cannot be asked for its owner).
fn as_role<R>(role: pg_sys::Oid, f: impl FnOnce() -> R) -> R {
    let mut user = pg_sys::InvalidOid;
    let mut context = 0;
    // SAFETY: the calls fmgr_security_definer makes around a definer function's body.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(role, context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32);
    }
    let result = f();
    // SAFETY: restores what was saved above.
    unsafe { pg_sys::SetUserIdAndSecContext(user, context) };
    result
}

/// The install's secret, read as the owner of the extension's tables (no other role may read
/// it): its uuid's 16 bytes.
fn load_secret(location: &Location) -> Option<[u8; 16]> {
    let rows = as_role(location.owner, || {
        read_newest::select(
            &format!(
                "SELECT pg_catalog.uuid_send(s.key) FROM {}.webhook_routing_secret AS s LIMIT 1",
                location.schema
            ),
            Read::Latest,
            // SAFETY: a bytea column.
            |row| unsafe { row.get::<Vec<u8>>(1) },
        )
    });
    rows.into_iter()
        .next()
        .flatten()
        .and_then(|bytes| <[u8; 16]>::try_from(bytes.as_slice()).ok())
}

/// The snapshot in force, reloaded if a change committed since it was read.
pub fn snapshot() -> Rc<Snapshot> {
    register_callback();
    if VALID.with(|v| v.get()) {
        if let Some(snapshot) = SNAPSHOT.with(|s| s.borrow().clone()) {
            return snapshot;
        }
    }
    // Mark valid before reading: an invalidation that arrives while we read clears it again,
    // and the next call reads anew. The read takes the newest snapshot, after the
    // invalidations were accepted (src/latest.rs): never the caller's, which may predate the
    // change that invalidated the cache and would leave the old config marked valid.
    VALID.with(|v| v.set(true));
    let snapshot = with_pinned_search_path(|| {
        let location = locate();
        WATCHED.with(|w| w.set([location.config, location.rules]));
        Rc::new(Snapshot {
            // As the owner: testers and denied keys are phone numbers, which no caller or
            // reader reads (sql/security.sql).
            config: as_role(location.owner, || Config::load_from(&location.schema)),
            rules: load_rules(&location.schema),
            secret: load_secret(&location),
            location,
        })
    });
    SNAPSHOT.with(|s| *s.borrow_mut() = Some(snapshot.clone()));
    snapshot
}

/// Apply invalidations other backends committed since this backend last looked, so that the
/// next read of the snapshot sees them. Cheap when there are none (a read of a shared counter).
pub fn accept_invalidations() {
    // SAFETY: the same call every lock acquisition makes.
    unsafe { pg_sys::AcceptInvalidationMessages() };
}

thread_local! {
    /// Statements run on every decision or outcome, planned once per backend (per schema) and
    /// kept: parsing and planning them on each call cost more than running them. Postgres
    /// re-plans a kept statement by itself when a table it uses changes.
    static PLANS: RefCell<HashMap<&'static str, (String, i64, OwnedPreparedStatement)>> =
        RefCell::new(HashMap::new());
}

/// The kept plan `name` for `schema` and `variant`, taken out of the map while it runs (a
/// trigger it fires can use another), or a new one made by `prepare` from `sql`'s text. The
/// caller puts it back once it ran.
fn take_plan(
    name: &'static str,
    schema: &str,
    variant: i64,
    args: &[DatumWithOid],
    prepare: impl FnOnce(&str, &[PgOid]) -> SpiResult<OwnedPreparedStatement>,
    sql: impl FnOnce(&str, i64) -> String,
) -> SpiResult<(String, OwnedPreparedStatement)> {
    match PLANS.with(|p| p.borrow_mut().remove(name)) {
        Some((for_schema, for_variant, plan)) if for_schema == schema && for_variant == variant => {
            Ok((for_schema, plan))
        }
        _ => {
            let oids: Vec<PgOid> = args.iter().map(|a| PgOid::from(a.oid())).collect();
            Ok((
                schema.to_owned(),
                prepare(sql(schema, variant).as_str(), &oids)?,
            ))
        }
    }
}

/// Run the kept statement `name` (built by `sql` from the extension's quoted schema) with
/// `args`, and return its first column if it returned a row. The plan is taken out while it
/// runs, so that a trigger it fires can use another.
///
/// Always to completion, never with a row limit: SPI stops the executor once the limit is
/// reached, before the statement-level AFTER triggers fire (the ones that invalidate the
/// backends' caches and write the sketches).
///
/// `sql` must name every function and operator with its schema (see `with_pinned_search_path`):
/// the statement is re-parsed under whatever search_path the caller has.
pub fn run_kept(
    name: &'static str,
    sql: impl FnOnce(&str) -> String,
    args: &[DatumWithOid],
) -> SpiResult<Option<i64>> {
    run_kept_variant(name, 0, |schema, _| sql(schema), args)
}

/// `run_kept` for a statement whose text depends on `variant` too (e.g. a day, written into it
/// as a constant so that the planner prunes partitions): re-planned when the variant changes.
pub fn run_kept_variant(
    name: &'static str,
    variant: i64,
    sql: impl FnOnce(&str, i64) -> String,
    args: &[DatumWithOid],
) -> SpiResult<Option<i64>> {
    let snapshot = snapshot();
    let schema = snapshot.location.schema.as_str();
    without_jit(|| {
        Spi::connect_mut(|client| {
            let (schema, plan) = take_plan(
                name,
                schema,
                variant,
                args,
                |text, oids| Ok(client.prepare_mut(text, oids)?.keep()),
                sql,
            )?;
            let table = client.update(&plan, None, args)?;
            // Without RETURNING there is no tuple table, only a row count.
            let first = match table.first().get_one::<i64>() {
                Ok(v) => v,
                Err(pgrx::spi::SpiError::NoTupleTable | pgrx::spi::SpiError::InvalidPosition) => {
                    None
                }
                Err(e) => return Err(e),
            };
            PLANS.with(|p| p.borrow_mut().insert(name, (schema, variant, plan)));
            Ok(first)
        })
    })
}

/// Run the kept SELECT `name` (built by `sql` from the extension's quoted schema and `variant`,
/// re-planned when the variant changes) with `args`, calling `each` on every row it returns.
/// The same rules as `run_kept` apply to its text.
pub fn select_kept(
    name: &'static str,
    variant: i64,
    sql: impl FnOnce(&str, i64) -> String,
    args: &[DatumWithOid],
    mut each: impl FnMut(&pgrx::spi::SpiHeapTupleData) -> SpiResult<()>,
) {
    let snapshot = snapshot();
    let schema = snapshot.location.schema.as_str();
    // Read-only (Spi::connect, a plan not prepared as mutating): SPI then assigns no
    // transaction id, which a hot standby cannot, and a dry run need not. Once this transaction
    // has written (a logged decision earlier in the same route_messages), pgrx runs it as a
    // read-write statement, which sees those rows.
    let result = without_jit(|| {
        Spi::connect(|client| {
            let (schema, plan) = take_plan(
                name,
                schema,
                variant,
                args,
                |text, oids| Ok(client.prepare(text, oids)?.keep()),
                sql,
            )?;
            let table = client.select(&plan, None, args)?;
            for row in table {
                each(&row)?;
            }
            PLANS.with(|p| p.borrow_mut().insert(name, (schema, variant, plan)));
            Ok::<(), pgrx::spi::SpiError>(())
        })
    });
    if let Err(e) = result {
        spi_failed("read the sender's conversation", e);
    }
}

/// Run `f`, which plans and runs the extension's own statements, with JIT off. They are a few
/// index probes and small writes, run at every webhook: compiling them with LLVM, which
/// `jit = on` does to any statement whose estimate passes `jit_above_cost` (0 included), costs
/// milliseconds every time and never pays. The planner reads `jit_enabled` when it makes a
/// plan, and a plan carries its decision to the executor, so the flag is off while `f` plans and
/// runs, and is restored after it, on error too (the unwind drops the guard). No setting is
/// changed through the GUC machinery: that would cost every webhook a settings change. (The
/// extension's SQL and PL/pgSQL functions say `SET jit = off`, sql/security.sql.)
pub fn without_jit<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: a plain global of the backend, restored to what it was.
            unsafe { pg_sys::jit_enabled = self.0 };
        }
    }
    // SAFETY: reads and writes a plain global of the backend.
    let _restore = Restore(unsafe { pg_sys::jit_enabled });
    unsafe { pg_sys::jit_enabled = false };
    f()
}

/// `schema.name` for one of the extension's objects, quoted.
pub fn qualified(name: &str) -> String {
    format!("{}.{}", snapshot().location.schema, name)
}

/// Statement trigger on the config and rules tables: tell every backend to drop its cache when
/// this transaction commits.
#[pg_trigger]
fn webhook_routing_invalidate_cache<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, PgTriggerError> {
    // SAFETY: registers a relcache invalidation message for the trigger's table.
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(trigger.relid()?) };
    Ok(None)
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn changes_in_this_transaction_reach_the_cache() {
        let before = snapshot();
        assert!(
            Rc::ptr_eq(&before, &snapshot()),
            "a valid snapshot is reused"
        );
        assert_eq!(before.config.as_ref().map(|c| c.percentage), Some(0));
        Spi::run("SELECT update_routing_percentage(42, 'cache test')").unwrap();
        let after = snapshot();
        assert_eq!(after.config.as_ref().map(|c| c.percentage), Some(4200));
        // By hand, without the admin functions: the trigger invalidates too.
        Spi::run(
            "INSERT INTO webhook_routing_config (percentage, enabled, action, reason) \
             VALUES (7, true, 'manual', 'by hand')",
        )
        .unwrap();
        let manual = snapshot();
        assert_eq!(
            manual.config.as_ref().map(|c| (c.percentage, c.enabled)),
            Some((700, true))
        );
        let rules_before = manual.rules.len();
        Spi::run("UPDATE webhook_routing_rules SET enabled = false WHERE domain = 'jobs'").unwrap();
        assert!(snapshot().rules.len() < rules_before);
    }
}

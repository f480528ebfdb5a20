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
//! isolation level (src/pg/read_newest.rs), so it also works on a hot standby, where the relcache
//! invalidations of a committed change are replayed from its commit record.
//!
//! Memory: the config row and the enabled rules (a few KB for the seeded 70 rules) per backend.
use crate::core::config::Config;
use crate::core::detect::Rules;
use crate::pg::config_load::load_rules;
use crate::pg::error::spi_failed;
use crate::pg::read_newest::{self, Snapshot as Read};
use crate::pg::run_as::{as_role, with_pinned_search_path};
use pgrx::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Where the extension lives: its quoted schema, its tables' oids, the role that owns them, and
/// the sequence of decision ids.
pub struct Location {
    pub schema: String,
    config: pg_sys::Oid,
    rules: pg_sys::Oid,
    pub owner: pg_sys::Oid,
    pub decision_ids: pg_sys::Oid,
    /// The log (partitioned), which src/pg/index_probe.rs reads through its partitions' indexes.
    pub logs: pg_sys::Oid,
    /// Whether the log has the session columns (0.7.0's, src/route/session.rs): a library installed
    /// before `ALTER EXTENSION ... UPDATE` logs and reads decisions without them until then.
    pub sessions: bool,
}

/// What a decision reads, as of the last invalidation.
pub struct Snapshot {
    pub location: Location,
    pub config: Option<Config>,
    pub rules: Rules,
    /// The key of senders' hashes in the log (src/route/history.rs); None if its row is gone,
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
    super::relcache::register_once(&REGISTERED, Some(on_relcache_invalidation));
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

/// Run `f` as the role that owns the extension's tables, as a SECURITY DEFINER function would
/// (the same user id switch, without its GUC change): for the writes only the extension's own
/// code makes, such as the latency sketches, which no other role may write. The statements
/// `f` runs are the extension's own, with every function and operator schema-qualified. An
/// error inside `f` aborts the (sub)transaction, which restores the user id.
pub fn as_owner<R>(f: impl FnOnce() -> R) -> R {
    as_role(snapshot().location.owner, f)
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
    // invalidations were accepted (src/pg/read_newest.rs): never the caller's, which may predate the
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
    // A change to the config history commits synchronously, and a decision logged later in
    // its transaction leaves it so (src/pg/durability.rs); the admin functions (sql/admin.sql)
    // set synchronous_commit themselves, this marks the transaction.
    if trigger.table_name()? == "webhook_routing_config" {
        crate::pg::durability::insist_for_config_change();
    }
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

//! Decisions counted by database, domain, target and reason, in shared memory: what
//! `routing_metrics()` exposes as `webhook_routing_decisions_total` (sql/metrics.sql).
//!
//! A counter of every decision must not cost a decision a write: an upsert of a per-minute row
//! costs about as much again as the log row it counts, and a decision that is not logged
//! (`log => false`, or on a standby) writes nothing at all. So each server counts in its shared
//! memory, as pg_stat_statements counts calls: a lookup under a shared lock and an atomic add
//! (a few thousand instructions), an insert under the exclusive lock the first time a series
//! is seen. What that implies, and the docs say (docs/src/reference/metrics.md):
//!   - the counters need the library in `shared_preload_libraries` (shared memory is only
//!     given out at server start); without it, nothing is counted and the family has no
//!     samples;
//!   - they count decisions answered, committed or not, logged or not, and begin again at 0
//!     when the server starts (Prometheus reads that as a counter reset);
//!   - each server counts its own: a standby's decisions on the standby.
//!
//! The table holds `SLOTS` (1,024) series per server (database × domain × target × reason: domains
//! are at most 63 bytes, the config's own limit). A decision whose series finds no room is
//! counted in `uncounted`, exposed as `webhook_routing_decisions_uncounted_total`.
use pgrx::prelude::*;
use pgrx::{pg_shmem_init, PGRXSharedMemory, PgLwLock};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Series per server (about 120 kB): a database's domains × the reasons each meets × two
/// targets is a few hundred. A power of two (the probe masks with it).
const SLOTS: usize = 1024;
/// How far a lookup probes before it counts the decision as uncounted.
const PROBES: usize = 64;
/// The longest domain a series keeps: the config's domain names are at most 63 bytes.
const DOMAIN_BYTES: usize = 63;
/// The longest reason name (`Reason::as_str`) a series keeps.
const REASON_BYTES: usize = 31;
/// The longest target name (`unified`, `legacy`) a series keeps.
const TARGET_BYTES: usize = 15;
/// `domain_len` of a decision in no domain.
const NO_DOMAIN: u8 = u8::MAX;

/// A series' labels, by value: shared memory holds no pointers.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Series {
    database: u32,
    target_len: u8,
    target: [u8; TARGET_BYTES],
    domain_len: u8,
    domain: [u8; DOMAIN_BYTES],
    reason_len: u8,
    reason: [u8; REASON_BYTES],
}

/// `text` into `buf`, returning its length; None when it does not fit.
fn fill<const N: usize>(buf: &mut [u8; N], text: &str) -> Option<u8> {
    buf.get_mut(..text.len())?.copy_from_slice(text.as_bytes());
    u8::try_from(text.len()).ok()
}

impl Series {
    /// The series of a decision; None when a label does not fit (never for this extension's
    /// domains and reasons).
    fn of(database: u32, domain: Option<&str>, target: &str, reason: &str) -> Option<Series> {
        let mut series = Series {
            database,
            target_len: 0,
            target: [0; TARGET_BYTES],
            domain_len: NO_DOMAIN,
            domain: [0; DOMAIN_BYTES],
            reason_len: 0,
            reason: [0; REASON_BYTES],
        };
        series.target_len = fill(&mut series.target, target)?;
        if let Some(d) = domain {
            series.domain_len = fill(&mut series.domain, d)?;
        }
        series.reason_len = fill(&mut series.reason, reason)?;
        Some(series)
    }

    fn target_bytes(&self) -> &[u8] {
        &self.target[..usize::from(self.target_len)]
    }

    /// The domain's bytes; none for a decision in no domain.
    fn domain_bytes(&self) -> &[u8] {
        match self.domain_len {
            NO_DOMAIN => &[],
            len => &self.domain[..usize::from(len)],
        }
    }

    fn reason_bytes(&self) -> &[u8] {
        &self.reason[..usize::from(self.reason_len)]
    }

    fn domain(&self) -> Option<String> {
        (self.domain_len != NO_DOMAIN)
            .then(|| String::from_utf8_lossy(self.domain_bytes()).into_owned())
    }

    fn target(&self) -> String {
        String::from_utf8_lossy(self.target_bytes()).into_owned()
    }

    fn reason(&self) -> String {
        String::from_utf8_lossy(self.reason_bytes()).into_owned()
    }

    /// FNV-1a over the labels (each length first, so that no two series run together; a
    /// decision in no domain has its own length, NO_DOMAIN).
    fn hash(&self) -> usize {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |b: u8| {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        };
        self.database.to_le_bytes().into_iter().for_each(&mut mix);
        for (len, bytes) in [
            (self.target_len, self.target_bytes()),
            (self.domain_len, self.domain_bytes()),
            (self.reason_len, self.reason_bytes()),
        ] {
            mix(len);
            bytes.iter().copied().for_each(&mut mix);
        }
        h as usize
    }
}

struct Slot {
    /// Set, with `series`, under the exclusive lock; read under either.
    used: bool,
    series: Series,
    count: AtomicU64,
}

pub struct Table {
    slots: [Slot; SLOTS],
    uncounted: AtomicU64,
}

// SAFETY: plain data and atomics, no pointers: valid at the same place in every backend.
unsafe impl PGRXSharedMemory for Table {}

impl Slot {
    fn empty() -> Slot {
        Slot {
            used: false,
            series: Series {
                database: 0,
                target_len: 0,
                target: [0; TARGET_BYTES],
                domain_len: 0,
                domain: [0; DOMAIN_BYTES],
                reason_len: 0,
                reason: [0; REASON_BYTES],
            },
            count: AtomicU64::new(0),
        }
    }
}

impl Table {
    fn new() -> Table {
        Table {
            slots: std::array::from_fn(|_| Slot::empty()),
            uncounted: AtomicU64::new(0),
        }
    }

    /// Where `series` is, or the first free slot of its probe (None: neither within PROBES).
    fn find(&self, series: &Series) -> Option<(usize, bool)> {
        let start = series.hash();
        (0..PROBES)
            .map(|i| (start + i) & (SLOTS - 1))
            .find_map(|i| {
                let slot = &self.slots[i];
                if !slot.used {
                    Some((i, false))
                } else if slot.series == *series {
                    Some((i, true))
                } else {
                    None
                }
            })
    }
}

// SAFETY: the name is this extension's own.
static TABLE: PgLwLock<Table> = unsafe { PgLwLock::new(c"webhook_routing decision counts") };

/// Whether the table exists: set in the postmaster when it preloads the library, before it
/// forks the backends that read it.
static PRELOADED: AtomicBool = AtomicBool::new(false);

/// Ask for the table when the server preloads the library (from `_PG_init`); a library loaded
/// later, by a backend, gets no shared memory and counts nothing. (pgrx's macro tests features
/// of majors this crate does not build for, 13 and 14.)
#[allow(unexpected_cfgs)]
pub fn init() {
    // SAFETY: a plain flag of the server's, set while it loads shared_preload_libraries.
    if unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        pg_shmem_init!(TABLE = Table::new());
        PRELOADED.store(true, Ordering::Relaxed);
    }
}

/// Count one answer of route_decision or route_messages: a decision (a re-delivery too), or
/// a delivery status sent to a handler. Labels as the log has them: the target's and the
/// reason's names.
pub fn count(domain: Option<&str>, target: &str, reason: &str) {
    if !PRELOADED.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: MyDatabaseId is set for the whole life of a backend that runs SQL.
    let database = unsafe { pg_sys::MyDatabaseId }.to_u32();
    let Some(series) = Series::of(database, domain, target, reason) else {
        TABLE.share().uncounted.fetch_add(1, Ordering::Relaxed);
        return;
    };
    {
        let table = TABLE.share();
        match table.find(&series) {
            Some((i, true)) => {
                table.slots[i].count.fetch_add(1, Ordering::Relaxed);
                return;
            }
            None => {
                table.uncounted.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Some((_, false)) => {}
        }
    }
    // A series seen for the first time: another backend may have added it meanwhile.
    let mut table = TABLE.exclusive();
    match table.find(&series) {
        Some((i, true)) => {
            table.slots[i].count.fetch_add(1, Ordering::Relaxed);
        }
        Some((i, false)) => {
            let slot = &mut table.slots[i];
            slot.series = series;
            slot.count.store(1, Ordering::Relaxed);
            slot.used = true;
        }
        None => {
            table.uncounted.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The current database's decisions answered since the server started, by domain, target and
/// reason; no rows where the library is not preloaded (sql/metrics.sql).
#[pg_extern(volatile, parallel_safe)]
fn webhook_routing_decision_counts() -> TableIterator<
    'static,
    (
        name!(domain, Option<String>),
        name!(routed_to, String),
        name!(reason, String),
        name!(decisions, i64),
    ),
> {
    let mut rows = Vec::new();
    if PRELOADED.load(Ordering::Relaxed) {
        // SAFETY: as in count.
        let database = unsafe { pg_sys::MyDatabaseId }.to_u32();
        let table = TABLE.share();
        for slot in table.slots.iter().filter(|s| s.used) {
            if slot.series.database == database {
                rows.push((
                    slot.series.domain(),
                    slot.series.target(),
                    slot.series.reason(),
                    i64::try_from(slot.count.load(Ordering::Relaxed)).unwrap_or(i64::MAX),
                ));
            }
        }
    }
    TableIterator::new(rows)
}

/// Decisions of every database of the server that found no room in the table; NULL where the
/// library is not preloaded.
#[pg_extern(volatile, parallel_safe)]
fn webhook_routing_decisions_uncounted() -> Option<i64> {
    PRELOADED
        .load(Ordering::Relaxed)
        .then(|| i64::try_from(TABLE.share().uncounted.load(Ordering::Relaxed)).unwrap_or(i64::MAX))
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// This database's count of `counted_domain`'s decisions for a reason, all legacy here.
    fn counted(reason: &str) -> i64 {
        Spi::get_one::<i64>(&format!(
            "SELECT coalesce(sum(decisions), 0)::bigint FROM webhook_routing_decision_counts() \
             WHERE domain = 'counted_domain' AND routed_to = 'legacy' AND reason = '{reason}'"
        ))
        .unwrap()
        .unwrap()
    }

    fn route(message_id: &str, log: bool) {
        let body = format!(
            r#"{{"entry": [{{"changes": [{{"value": {{"messages": [{{"from": "250788000999",
                "id": "{message_id}", "type": "text", "text": {{"body": "zebracount please"}}}}]}}}}]}}]}}"#
        );
        Spi::run(&format!(
            "SELECT * FROM route_decision('{body}'::jsonb, log => {log})"
        ))
        .unwrap();
    }

    /// The cluster of the tests preloads the library (src/lib.rs): decisions are counted by
    /// domain, target and reason, logged or not, a re-delivery as a retry, none left out.
    /// Other tests decide at the same time; none in this domain.
    #[pg_test]
    fn decisions_are_counted_by_domain_target_and_reason() {
        Spi::run(
            "INSERT INTO webhook_routing_rules (domain, match_kind, pattern, weight) \
             VALUES ('counted_domain', 'keyword', 'zebracount', 50)",
        )
        .unwrap();
        let (not_routed, retried) = (counted("domain_not_routed"), counted("retry"));
        route("wamid.counted0", true);
        route("wamid.counted1", false);
        route("wamid.counted2", true);
        assert_eq!(counted("domain_not_routed"), not_routed + 3);
        route("wamid.counted0", true);
        assert_eq!(counted("retry"), retried + 1);
        assert_eq!(counted("domain_not_routed"), not_routed + 3);
        assert_eq!(
            Spi::get_one::<i64>("SELECT webhook_routing_decisions_uncounted()"),
            Ok(Some(0))
        );
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn series_keep_their_labels_and_refuse_what_does_not_fit() {
        let s = Series::of(5, Some("jobs"), "unified", "in_rollout").expect("fits");
        assert_eq!(s.domain().as_deref(), Some("jobs"));
        assert_eq!(s.reason(), "in_rollout");
        assert_eq!(s.target(), "unified");
        let legacy = Series::of(5, Some("jobs"), "legacy", "in_rollout").expect("fits");
        assert!(s != legacy && legacy.target() == "legacy");
        let none = Series::of(5, None, "legacy", "unknown_domain").expect("fits");
        assert_eq!(none.domain(), None);
        assert_ne!(s.hash(), none.hash());
        assert!(Series::of(5, Some(&"d".repeat(63)), "unified", "retry").is_some());
        assert!(Series::of(5, Some(&"d".repeat(64)), "unified", "retry").is_none());
        assert!(Series::of(5, Some("jobs"), "unified", &"r".repeat(32)).is_none());
        // The database is a label: the same decision in another database is another series.
        let other = Series::of(6, Some("jobs"), "unified", "in_rollout").expect("fits");
        assert!(s != other);
    }

    #[test]
    fn a_full_probe_is_reported_not_overwritten() {
        let mut table = Box::new(Table::new());
        let series = Series::of(1, Some("jobs"), "legacy", "retry").expect("fits");
        let start = series.hash();
        for i in 0..PROBES {
            let slot = &mut table.slots[(start + i) & (SLOTS - 1)];
            slot.used = true;
            slot.series = Series::of(2, Some("other"), "legacy", "retry").expect("fits");
        }
        assert!(table.find(&series).is_none());
        table.slots[(start + 3) & (SLOTS - 1)].series = series;
        assert_eq!(table.find(&series), Some(((start + 3) & (SLOTS - 1), true)));
    }
}

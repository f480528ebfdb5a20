//! Latency percentiles from mergeable sketches, fresh to the last committed row.
//!
//! Reading p50/p95/p99 with `percentile_cont` sorts every log row of the window (0.7 to 1.5 s
//! for 1M rows on 2 cores, bench/run). Instead, each log row's outcome is added, in the transaction
//! that writes it, to a DDSketch (relative-error quantile sketch, DataDog's algorithm,
//! src/core/ddsketch.rs, stored in DataDog's binary encoding) kept per minute, domain, target and
//! writing backend in `webhook_routing_sketches`. Stats and health merge at most
//! minutes × domains × targets × backends sketches, never the rows.
//!
//! - Any write counts: route_decision's pending row when its outcome lands
//!   (record_routing_outcome), or a plain INSERT that already has its outcome. Row triggers on
//!   the log (AFTER INSERT ... WHEN status <> 'pending', AFTER UPDATE OF status WHEN pending ->
//!   done) collect the rows of a statement in memory; a statement trigger writes them, one
//!   upsert per minute, domain and target, in the same transaction, so they show as soon as it
//!   commits. A pending decision never calls the row triggers (the WHEN clause filters it).
//! - Concurrent writers never wait for one another: each backend writes its own row of the
//!   minute (`shard` = its PGPROC number).
//! - A row is counted once, when its outcome first lands; later edits and deletes of log rows
//!   are not reflected (TRUNCATE empties both; pruning must drop whole minutes of both).
//! - Relative error of a quantile: at most ALPHA (0.3%) against the sample at the same rank,
//!   for every sample from 0.001 ms to a day whatever the others are (src/core/ddsketch.rs: a bin
//!   for every latency the log accepts, none ever merged); 0 for a sample below 0.001 ms.
use crate::core::ddsketch::Sketch;
use crate::pg::config_cache::as_owner;
use crate::pg::error::spi_failed;
use crate::pg::kept_plans::run_kept;
use crate::pg::xact_end::forget_at_end;
use crate::route::session::shard;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;

fn new_sketch() -> Sketch {
    Sketch::new()
}

/// Decode a stored sketch, or None when it is not one this extension wrote (src/core/ddsketch.rs
/// checks every field and never panics). What decodes is plausible: a count of at most 2^40,
/// finite sums and bounds, keys of this mapping.
fn decode(bytes: &[u8]) -> Option<Sketch> {
    Sketch::from_java_bytes(bytes)
}

/// Merge decoded sketches (into the first: one copy fewer on the write path's upsert).
fn merge_all(sketches: Vec<Sketch>) -> Sketch {
    let mut sketches = sketches.into_iter();
    let mut merged = sketches.next().unwrap_or_default();
    for sketch in sketches {
        merged.merge(&sketch);
    }
    merged
}

/// Say, once per call, that stored sketches were skipped: they were not written by the
/// extension's triggers, and the figures read leave their outcomes out.
pub(crate) fn report_skipped(skipped: usize) {
    if skipped > 0 {
        pgrx::pg_sys::panic::ErrorReport::new(
            PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
            format!("webhook_routing skipped {skipped} latency sketches that could not be read"),
            "webhook_routing",
        )
        .set_detail("Stats and health leave their outcomes out.")
        .set_hint(
            "Sketches are written only by the log's triggers; find the rows changed by hand in \
             webhook_routing_sketches and delete them, or TRUNCATE webhook_routing_logs.",
        )
        .report(PgLogLevel::WARNING);
    }
}

/// Merge two sketches (either may be NULL). A sketch that does not decode is dropped rather
/// than raised: the write path never fails on stored data.
#[pg_extern(immutable, parallel_safe)]
fn webhook_routing_sketch_merge(a: Option<&[u8]>, b: Option<&[u8]>) -> Option<Vec<u8>> {
    let decoded: Vec<Sketch> = [a, b].into_iter().flatten().filter_map(decode).collect();
    let merged = merge_all(decoded);
    (merged.count() > 0).then(|| merged.to_java_bytes())
}

/// Merge stored sketches, each added as it is read (src/core/ddsketch.rs, merge_java_bytes);
/// returns the merge and how many were skipped (did not decode).
fn merge_stored<'a>(sketches: impl Iterator<Item = &'a [u8]>) -> (Sketch, usize) {
    let (mut merged, mut bins, mut skipped) = (Sketch::new(), Vec::new(), 0);
    for bytes in sketches {
        skipped += usize::from(!merged.merge_java_bytes(bytes, &mut bins));
    }
    (merged, skipped)
}

/// Merge sketches and summarize them: {count, sum, p50, p95, p99} of the latencies (ms).
/// NULLs are skipped; so are entries that do not decode, with a WARNING.
#[pg_extern(immutable, parallel_safe)]
fn webhook_routing_sketch_summary(sketches: pgrx::Array<'_, &[u8]>) -> Vec<Option<f64>> {
    let (summary, skipped) = summarize(sketches.iter().flatten());
    report_skipped(skipped);
    summary
}

/// The summary, and how many sketches were skipped.
fn summarize<'a>(sketches: impl Iterator<Item = &'a [u8]>) -> (Vec<Option<f64>>, usize) {
    let (merged, skipped) = merge_stored(sketches);
    let count = merged.count();
    if count == 0 {
        return (vec![Some(0.0), None, None, None, None], skipped);
    }
    let q = |q: f64| interpolated_quantile(&merged, q);
    let [p50, p95, p99] = [q(0.5), q(0.95), q(0.99)];
    (
        vec![Some(count as f64), merged.sum(), p50, p95, p99],
        skipped,
    )
}

/// Merge sketches into one (NULL when none decodes), for the checks that read a whole window's
/// latencies more than once. NULLs are skipped; so are entries that do not decode, with a WARNING.
#[pg_extern(immutable, parallel_safe)]
fn webhook_routing_sketch_union(sketches: pgrx::Array<'_, &[u8]>) -> Option<Vec<u8>> {
    let (merged, skipped) = merge_stored(sketches.iter().flatten());
    report_skipped(skipped);
    (merged.count() > 0).then(|| merged.to_java_bytes())
}

/// Merge sketches and count, for each bound (ms), the latencies above it: the latency checks
/// test "p95 above a bar" as "more than 5% of requests slower than the bar" (verdict.rs).
/// NULLs are skipped; so are entries that do not decode, with a WARNING.
#[pg_extern(immutable, parallel_safe)]
fn webhook_routing_sketch_above(
    sketches: pgrx::Array<'_, &[u8]>,
    bounds: pgrx::Array<'_, f64>,
) -> Vec<Option<i64>> {
    let (merged, skipped) = merge_stored(sketches.iter().flatten());
    report_skipped(skipped);
    bounds
        .iter()
        .map(|bound| {
            let bound = bound.filter(|b| b.is_finite())?;
            i64::try_from(count_above(&merged, bound)).ok()
        })
        .collect()
}

/// How many of the sketch's samples are above `bound`: the samples of rank below the first
/// rank whose value (as `interpolated_quantile` reads ranks) exceeds it, by bisection.
fn count_above(sketch: &Sketch, bound: f64) -> usize {
    let n = sketch.count();
    if n == 0 {
        return 0;
    }
    let ranks = sketch.ranks();
    let at_rank = |rank: usize| ranks.at_rank(rank as u64).unwrap_or(f64::INFINITY);
    // The first rank whose sample is above the bound, in [0, n].
    let (mut low, mut high) = (0usize, n);
    while low < high {
        let mid = low + (high - low) / 2;
        if at_rank(mid) > bound {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    n - low
}

/// The quantile as `percentile_cont` defines it: interpolated between the samples at ranks
/// floor(q(n-1)) and ceil(q(n-1)), each read from the sketch. (A sketch's own quantile takes
/// the lower sample only, which on a few hundred samples is a percent or more off.)
fn interpolated_quantile(sketch: &Sketch, q: f64) -> Option<f64> {
    let last = sketch.count().checked_sub(1)? as f64;
    let at_rank = |rank: f64| sketch.at_rank(rank as u64);
    let position = q * last;
    let rank = position.floor();
    let low = at_rank(rank)?;
    let fraction = position - rank;
    if fraction == 0.0 {
        return Some(low);
    }
    Some(low + fraction * (at_rank(rank + 1.0)? - low))
}

/// One minute of one domain and target, as this statement adds to it.
#[derive(Hash, PartialEq, Eq)]
struct Key {
    minute: pg_sys::TimestampTz,
    domain: Option<String>,
    routed_to: String,
    /// The percentage (hundredths) of the split decisions counted here, None for the others:
    /// the sample-ratio check compares like with like (verdict.rs).
    split_at: Option<i64>,
}

struct Added {
    completed: i64,
    errors: i64,
    latency: Sketch,
    split: Split,
}

/// The outcomes of decisions the percentage split made (reason in_rollout or not_in_rollout),
/// for the sample-ratio check: how many, the sum of p over them (p the unified share in force
/// when each was decided), and which buckets they came from. The check counts senders, not
/// requests: a sender's messages all go one way, so requests are not independent draws (in the
/// end-to-end test, 4 messages per sender made a per-request chi-square cry wolf). Distinct
/// buckets stand for distinct senders until senders outnumber the 10,000 buckets; then every
/// bucket is seen and the shares match the percentage exactly.
#[derive(Default)]
struct Split {
    n: i64,
    expected: f64,
    buckets: Option<Box<[u8; BUCKET_BYTES]>>,
}

/// The bytes of a bucket set (one bit per bucket); verdict.rs reads them.
pub(crate) const BUCKET_BYTES: usize = (crate::core::bucket::BUCKETS as usize).div_ceil(8);

/// Bitwise OR of two bucket sets (either may be NULL or of another length: the longer wins).
#[pg_extern(immutable, parallel_safe)]
fn webhook_routing_bits_or(a: Option<&[u8]>, b: Option<&[u8]>) -> Option<Vec<u8>> {
    match (a, b) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => Some(x.to_vec()),
        (Some(x), Some(y)) => {
            let (long, short) = if x.len() >= y.len() { (x, y) } else { (y, x) };
            let mut out = long.to_vec();
            out.iter_mut().zip(short).for_each(|(o, s)| *o |= s);
            Some(out)
        }
    }
}

/// How many buckets the union of the sets holds. No longer part of the extension's SQL (0.6.0
/// drops it: the sample ratio counts in verdict.rs); the symbol stays for the install scripts of
/// 0.1.0 to 0.5.0, which create it, so that those versions can still be installed and updated.
#[pg_extern(immutable, parallel_safe, sql = false)]
fn webhook_routing_bits_count(sets: pgrx::Array<'_, &[u8]>) -> i64 {
    let mut union = vec![0u8; BUCKET_BYTES];
    for set in sets.iter().flatten() {
        union.iter_mut().zip(set).for_each(|(u, s)| *u |= s);
    }
    union.iter().map(|b| i64::from(b.count_ones())).sum()
}

const MINUTE_US: i64 = 60_000_000;

thread_local! {
    /// Outcomes added by the row trigger during the current statement, flushed by the statement
    /// trigger at its end: one upsert per minute, domain and target per statement, so a bulk
    /// INSERT of a million rows costs a handful of updates, not a million (updating one row
    /// repeatedly inside a transaction grows its version chain, which made that quadratic).
    static ADDED: RefCell<HashMap<Key, Added>> = RefCell::new(HashMap::new());
}

/// Forget what the current statement added: it failed (src/pg/xact_end.rs).
fn forget() {
    ADDED.with(|a| a.borrow_mut().clear());
}

/// Row trigger on webhook_routing_logs (AFTER INSERT WHEN status <> 'pending', AFTER UPDATE
/// OF status WHEN pending -> done): add the row's outcome to its minute.
#[pg_trigger]
fn webhook_routing_logs_to_sketch<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, pgrx::datum::TryFromDatumError> {
    let Some(row) = trigger.new() else {
        return Ok(None);
    };
    // The columns found in one pass over the row's attributes: a lookup by name for each
    // (pgrx's get_by_name walks and converts every attribute's name) cost an outcome 17,500
    // instructions.
    let mut at: [Option<std::num::NonZeroUsize>; 8] = [None; 8];
    const COLUMNS: [&[u8]; 8] = [
        b"created_at",
        b"status",
        b"response_time_ms",
        b"reason",
        b"percentage",
        b"bucket",
        b"domain",
        b"routed_to",
    ];
    for (attno, attribute) in row.attributes() {
        // SAFETY: an attribute's name is NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr(attribute.attname.data.as_ptr()) };
        if let Some(i) = COLUMNS.iter().position(|c| *c == name.to_bytes()) {
            if !attribute.attisdropped {
                at[i] = Some(attno);
            }
        }
    }
    let [created_at_at, status_at, latency_at, reason_at, percentage_at, bucket_at, domain_at, routed_to_at] =
        at;
    let text = |a: Option<std::num::NonZeroUsize>| match a {
        Some(a) => row.get_by_index::<&str>(a),
        None => Ok(None),
    };
    let numeric = |a: Option<std::num::NonZeroUsize>| match a {
        Some(a) => row.get_by_index::<pgrx::AnyNumeric>(a),
        None => Ok(None),
    };
    let Some(created_at) = (match created_at_at {
        Some(a) => row.get_by_index::<pgrx::datum::TimestampWithTimeZone>(a)?,
        None => None,
    }) else {
        return Ok(None);
    };
    if created_at.is_infinity() || created_at.is_neg_infinity() {
        return Ok(None);
    }
    let micros: pg_sys::TimestampTz = created_at.into();
    let Some(minute) = micros.div_euclid(MINUTE_US).checked_mul(MINUTE_US) else {
        return Ok(None);
    };
    let error = text(status_at)? == Some("error");
    let latency = numeric(latency_at)?
        .and_then(|n| n.to_string().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0);
    let by_split = matches!(
        text(reason_at)?,
        Some("in_rollout" | "not_in_rollout" | "in_rollout_random" | "not_in_rollout_random")
    );
    let share = numeric(percentage_at)?
        .and_then(|n| n.to_string().parse::<f64>().ok())
        .filter(|p| by_split && (0.0..=100.0).contains(p))
        .map(|p| p / 100.0);
    let bucket = match bucket_at {
        Some(a) => row.get_by_index::<i32>(a)?,
        None => None,
    }
    .and_then(|b| usize::try_from(b).ok())
    .filter(|b| *b < BUCKET_BYTES * 8);
    let key = Key {
        minute,
        domain: text(domain_at)?.map(str::to_owned),
        routed_to: text(routed_to_at)?.unwrap_or_default().to_owned(),
        split_at: share.map(|p| (p * 10_000.0).round() as i64),
    };
    forget_at_end(forget);
    ADDED.with(|added| {
        let mut added = added.borrow_mut();
        let entry = added.entry(key).or_insert_with(|| Added {
            completed: 0,
            errors: 0,
            latency: new_sketch(),
            split: Split::default(),
        });
        entry.completed += 1;
        entry.errors += i64::from(error);
        if let Some(ms) = latency {
            entry.latency.add(ms);
        }
        if let Some(p) = share {
            entry.split.n += 1;
            entry.split.expected += p;
            if let Some(b) = bucket {
                let set = entry
                    .split
                    .buckets
                    .get_or_insert_with(|| Box::new([0u8; BUCKET_BYTES]));
                set[b / 8] |= 1 << (b % 8);
            }
        }
    });
    Ok(None)
}

/// Statement trigger on webhook_routing_logs: write what the statement added to the sketches,
/// and what its decisions changed in the session counts (src/route/session.rs), in its transaction.
/// Nothing to do (no query) for a statement that added no outcome and changed no session, such
/// as route_decision's pending insert of a follow-up.
#[pg_trigger]
fn webhook_routing_logs_flush_sketches<'a>(
    _trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, pgrx::datum::TryFromDatumError> {
    let added = ADDED.with(|a| std::mem::take(&mut *a.borrow_mut()));
    for (key, acc) in added {
        let latency = (acc.latency.count() > 0).then(|| acc.latency.to_java_bytes());
        // SAFETY: an int8 microsecond count is the representation of a timestamptz.
        let minute = unsafe { DatumWithOid::new(key.minute, pg_sys::TIMESTAMPTZOID) };
        let split_at = key.split_at.map(|h| h as f64 / 100.0);
        let args: [DatumWithOid; 11] = [
            minute,
            key.domain.as_deref().into(),
            key.routed_to.as_str().into(),
            shard().into(),
            acc.completed.into(),
            acc.errors.into(),
            latency.into(),
            acc.split.n.into(),
            acc.split.expected.into(),
            acc.split.buckets.as_deref().map(|b| b.as_slice()).into(),
            split_at.into(),
        ];
        let sql = |schema: &str| {
            format!(
                "INSERT INTO {schema}.webhook_routing_sketches AS s \
                     (minute, domain, routed_to, shard, completed, errors, latency, \
                      split_n, split_expected, split_buckets, split_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::pg_catalog.numeric(5,2)) \
                 ON CONFLICT (minute, domain, routed_to, shard, split_at) DO UPDATE \
                 SET completed = s.completed OPERATOR(pg_catalog.+) excluded.completed, \
                     errors = s.errors OPERATOR(pg_catalog.+) excluded.errors, \
                     latency = {schema}.webhook_routing_sketch_merge(s.latency, excluded.latency), \
                     split_n = s.split_n OPERATOR(pg_catalog.+) excluded.split_n, \
                     split_expected = s.split_expected OPERATOR(pg_catalog.+) excluded.split_expected, \
                     split_buckets = {schema}.webhook_routing_bits_or(s.split_buckets, excluded.split_buckets)"
            )
        };
        // As the owner: no other role may write sketches, so what a caller writes can reach
        // health only through the log rows it is allowed to write, never by editing a count.
        if let Err(e) = as_owner(|| run_kept("sketch_flush", sql, &args)) {
            spi_failed("write the latency sketches", e);
        }
    }
    crate::route::session::flush(shard());
    Ok(None)
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use crate::core::ddsketch::{ALPHA, MAX_MS, RESOLUTION_MS};

    #[pg_test]
    fn sketches_round_trip_merge_and_stay_within_alpha() {
        let (mut a, mut b) = (new_sketch(), new_sketch());
        let mut exact = Vec::new();
        for i in 1..=10_000 {
            let v = 100.0 + (i as f64) * 0.37;
            exact.push(v);
            if i % 2 == 0 {
                a.add(v);
            } else {
                b.add(v);
            }
        }
        let (a, b) = (a.to_java_bytes(), b.to_java_bytes());
        let merged = webhook_routing_sketch_merge(Some(&a), Some(&b)).unwrap();
        assert_eq!(
            summarize([a.as_slice(), b.as_slice()].into_iter()),
            summarize([merged.as_slice()].into_iter())
        );
        let (summary, skipped) = summarize([a.as_slice(), b.as_slice()].into_iter());
        assert_eq!(skipped, 0);
        assert_eq!(summary[0], Some(10_000.0));
        let sum: f64 = exact.iter().sum();
        assert!((summary[1].unwrap() - sum).abs() < 1e-6 * sum);
        for (i, q) in [(2, 0.5), (3, 0.95), (4, 0.99)] {
            // percentile_cont: interpolate between the samples around q(n-1).
            let position = q * (exact.len() as f64 - 1.0);
            let rank = position.floor() as usize;
            let truth = exact[rank] + (position - rank as f64) * (exact[rank + 1] - exact[rank]);
            let got = summary[i].unwrap();
            assert!(
                ((got - truth) / truth).abs() <= ALPHA,
                "q{q}: {got} vs {truth}"
            );
        }
    }

    #[pg_test]
    fn odd_inputs_never_raise() {
        assert_eq!(webhook_routing_sketch_merge(None, None), None);
        let junk: &[u8] = b"not a sketch";
        assert_eq!(webhook_routing_sketch_merge(Some(junk), None), None);
        let mut zero = new_sketch();
        zero.add(0.0);
        let s = zero.to_java_bytes();
        assert_eq!(
            webhook_routing_sketch_merge(Some(junk), Some(&s)).as_deref(),
            Some(s.as_slice())
        );
        let (summary, skipped) = summarize([s.as_slice(), junk].into_iter());
        assert_eq!(skipped, 1);
        assert_eq!(summary[0], Some(1.0));
        assert_eq!(summary[2], Some(0.0));
        assert_eq!(
            summarize(std::iter::empty()),
            (vec![Some(0.0), None, None, None, None], 0)
        );
    }

    /// Bytes that make the crate's decoder panic: a positive store (index deltas) with bins at
    /// keys 0 and i32::MIN, after the index mapping of our config.
    pub const PANICKING_SKETCH: &[u8] = &[
        0x02, 0xda, 0x03, 0x1d, 0x63, 0xa6, 0x18, 0xf0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x09, 0x02, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f,
    ];

    #[pg_test]
    fn crafted_sketches_are_skipped_not_raised() {
        let caught = std::panic::catch_unwind(|| {
            sketches_ddsketch::DDSketch::from_java_bytes(PANICKING_SKETCH)
        });
        assert!(caught.is_err(), "the crate's decoder panics on these bytes");
        let mut good = new_sketch();
        good.add(250.0);
        let good = good.to_java_bytes();
        let (summary, skipped) = summarize([PANICKING_SKETCH, good.as_slice()].into_iter());
        assert_eq!(skipped, 1);
        assert_eq!(summary[0], Some(1.0));
        assert_eq!(
            webhook_routing_sketch_merge(Some(PANICKING_SKETCH), Some(&good)).as_deref(),
            Some(good.as_slice())
        );
        assert_eq!(
            webhook_routing_sketch_merge(Some(PANICKING_SKETCH), None),
            None
        );
        // Every truncation and single-byte change of a real sketch is answered.
        let mut many = new_sketch();
        for i in 1..300 {
            many.add(f64::from(i) * 13.7);
        }
        let bytes = many.to_java_bytes();
        for cut in 0..bytes.len() {
            let _ = summarize([&bytes[..cut]].into_iter());
        }
        for at in 0..bytes.len() {
            for value in [0x00, 0x7f, 0x80, 0xff] {
                let mut changed = bytes.clone();
                changed[at] = value;
                let _ = summarize([changed.as_slice(), bytes.as_slice()].into_iter());
            }
        }
    }

    /// percentile_cont of the samples as the log keeps them, and how far the sketch may be
    /// from it: ALPHA of each sample interpolated, or the resolution for a sample below it.
    fn exact(sorted: &[f64], q: f64) -> (f64, f64) {
        let tolerance = |v: f64| {
            if v < RESOLUTION_MS {
                RESOLUTION_MS
            } else {
                ALPHA * v * (1.0 + 1e-9)
            }
        };
        let position = q * (sorted.len() as f64 - 1.0);
        let rank = position.floor() as usize;
        let f = position - rank as f64;
        let next = (rank + 1).min(sorted.len() - 1);
        (
            sorted[rank] + f * (sorted[next] - sorted[rank]),
            (1.0 - f) * tolerance(sorted[rank]) + f * tolerance(sorted[next]),
        )
    }

    /// Mixes of samples, each split into the stored sketches (minutes or backends) it lands in.
    fn adversarial_mixes() -> Vec<(&'static str, Vec<Vec<f64>>)> {
        // 300 requests of a healthy handler, 80 to 101 ms, in no particular order.
        let healthy: Vec<f64> = (0..300)
            .map(|i| 80.0 + f64::from((i * 37) % 300) * 0.07)
            .collect();
        let with = |extra: &[f64]| {
            let mut all = healthy.clone();
            all.extend_from_slice(extra);
            all
        };
        // 2,000 samples spread evenly (in log terms) over the whole accepted range.
        let spread: Vec<f64> = (0..2000)
            .map(|i| RESOLUTION_MS * (MAX_MS / RESOLUTION_MS).powf(f64::from(i) / 1999.0))
            .collect();
        vec![
            (
                "300 near 90 ms and one of a day, one sketch",
                vec![with(&[MAX_MS])],
            ),
            (
                "300 near 90 ms and one of a day, two sketches",
                vec![healthy.clone(), vec![MAX_MS]],
            ),
            (
                "300 near 90 ms and one of 0.000001 ms",
                vec![with(&[0.000001])],
            ),
            (
                "300 near 90 ms, two of 1e308 and a NaN",
                vec![healthy.clone(), vec![1e308, 1e308, f64::NAN]],
            ),
            (
                "300 near 90 ms, one each of 0, 0.001 ms and a day",
                vec![with(&[0.0, 0.001, MAX_MS])],
            ),
            (
                "2,000 over the whole range, one sketch",
                vec![spread.clone()],
            ),
            (
                "2,000 over the whole range, one sketch each",
                spread.iter().map(|v| vec![*v]).collect(),
            ),
            (
                "2,000 over the whole range and 300 near 90 ms",
                vec![spread.clone(), healthy.clone()],
            ),
            (
                "300 near 90 ms and 50 of a day",
                vec![healthy.clone(), vec![MAX_MS; 50]],
            ),
        ]
    }

    /// However extreme the other samples are, every sample reads back within ALPHA (within the
    /// resolution below it), and p50/p95/p99 are within ALPHA of percentile_cont. Up to 0.6.0,
    /// 2,048 bins merged the lowest: one sample of a day moved p50 of 300 samples near 90 ms to
    /// 399.8 ms, and 1e308 to 4.6e302 ms.
    #[pg_test]
    fn every_sample_within_alpha_whatever_the_others() {
        for (name, parts) in adversarial_mixes() {
            let stored: Vec<Vec<u8>> = parts
                .iter()
                .map(|part| {
                    let mut sketch = new_sketch();
                    part.iter().for_each(|v| sketch.add(*v));
                    sketch.to_java_bytes()
                })
                .collect();
            // What the log keeps: latencies, NaN refused, a day at most.
            let mut kept: Vec<f64> = parts
                .iter()
                .flatten()
                .filter(|v| !v.is_nan())
                .map(|v| v.min(MAX_MS))
                .collect();
            kept.sort_by(f64::total_cmp);
            let (summary, skipped) = summarize(stored.iter().map(Vec::as_slice));
            assert_eq!(skipped, 0, "{name}");
            assert_eq!(summary[0], Some(kept.len() as f64), "{name}");
            for (i, q) in [(2, 0.5), (3, 0.95), (4, 0.99)] {
                let (truth, tolerance) = exact(&kept, q);
                let got = summary[i].unwrap();
                assert!(
                    (got - truth).abs() <= tolerance,
                    "{name}: q{q} {got} vs {truth}"
                );
            }
            let (merged, _) = merge_stored(stored.iter().map(Vec::as_slice));
            for (rank, truth) in kept.iter().enumerate() {
                let (_, tolerance) = exact(&kept[rank..=rank], 0.0);
                let got = merged.at_rank(rank as u64).unwrap();
                assert!(
                    (got - truth).abs() <= tolerance,
                    "{name}: rank {rank}: {got} vs {truth}"
                );
            }
        }
    }

    /// Merging stored sketches as they are read gives, byte for byte, what decoding each one
    /// and merging the decoded sketches gives (the way up to 0.7.0's first rounds), and skips
    /// the same ones: every mix above, sketches of the crate 0.6.0 used, and bytes that do not
    /// decode among them.
    #[pg_test]
    fn merging_as_read_is_decoding_then_merging() {
        let crate_config = sketches_ddsketch::Config::new(ALPHA, 2048, 1.0e-9);
        let mut old = sketches_ddsketch::DDSketch::new(crate_config);
        (0..500).for_each(|i| old.add(f64::from(i) * 3.1));
        old.add(1e308);
        let mut cases = adversarial_mixes();
        cases.push(("a sketch of the crate, one of 1e308", vec![vec![]]));
        for (name, parts) in cases {
            let mut stored: Vec<Vec<u8>> = parts
                .iter()
                .map(|part| {
                    let mut sketch = new_sketch();
                    part.iter().for_each(|v| sketch.add(*v));
                    sketch.to_java_bytes()
                })
                .collect();
            stored.push(old.to_java_bytes());
            stored.insert(1, b"not a sketch".to_vec());
            stored.push(PANICKING_SKETCH.to_vec());
            let mut decoded = Vec::new();
            let mut skipped = 0;
            for bytes in &stored {
                match decode(bytes) {
                    Some(sketch) => decoded.push(sketch),
                    None => skipped += 1,
                }
            }
            let by_decoding = merge_all(decoded);
            let (as_read, skipped_as_read) = merge_stored(stored.iter().map(Vec::as_slice));
            assert_eq!(skipped_as_read, skipped, "{name}");
            assert_eq!(skipped, 2, "{name}");
            assert_eq!(
                as_read.to_java_bytes(),
                by_decoding.to_java_bytes(),
                "{name}"
            );
            assert_eq!(as_read.count(), by_decoding.count(), "{name}");
        }
        // Counts of every size a bin takes, of one byte and of more, read back as written.
        let mut counts = new_sketch();
        for k in 1..=400u32 {
            (0..k).for_each(|_| counts.add(f64::from(k) * 10.0));
        }
        let bytes = counts.to_java_bytes();
        assert_eq!(decode(&bytes).unwrap().to_java_bytes(), bytes);
        let (merged, skipped) = merge_stored([bytes.as_slice(), bytes.as_slice()].into_iter());
        assert_eq!((merged.count(), skipped), (2 * 400 * 401 / 2, 0));
    }

    /// Ranks read by bisection (the latency checks' counts above a bar) are the sketch's own, at
    /// every rank and past the last.
    #[pg_test]
    fn ranks_by_bisection_are_the_sketchs_own() {
        for (name, parts) in adversarial_mixes() {
            let mut sketch = new_sketch();
            parts.iter().flatten().for_each(|v| sketch.add(*v));
            let ranks = sketch.ranks();
            for rank in 0..=sketch.count() as u64 + 1 {
                assert_eq!(
                    ranks.at_rank(rank),
                    sketch.at_rank(rank),
                    "{name}: rank {rank}"
                );
            }
        }
        assert_eq!(new_sketch().ranks().at_rank(0), None);
    }

    /// The sketches 0.6.0 wrote (the sketches-ddsketch crate) decode and merge as they are: the
    /// encoding is the same byte for byte, and one of them whose bins were merged by a sample of
    /// 1e308 decodes, with that sample counted as a day.
    #[pg_test]
    fn sketches_of_0_6_0_read_as_they_are() {
        let config = sketches_ddsketch::Config::new(ALPHA, 2048, 1.0e-9);
        let (mut old, mut new) = (sketches_ddsketch::DDSketch::new(config), new_sketch());
        for i in 0..5000 {
            let v = if i % 100 == 0 {
                0.0
            } else {
                0.5 + f64::from(i) * 1.37
            };
            old.add(v);
            new.add(v);
        }
        assert_eq!(old.to_java_bytes(), new.to_java_bytes());
        let decoded = decode(&old.to_java_bytes()).unwrap();
        assert_eq!(decoded.to_java_bytes(), old.to_java_bytes());
        let mut poisoned = sketches_ddsketch::DDSketch::new(config);
        (0..300).for_each(|i| poisoned.add(90.0 + f64::from(i) * 0.01));
        poisoned.add(1e308);
        let (summary, skipped) = summarize([poisoned.to_java_bytes().as_slice()].into_iter());
        assert_eq!(skipped, 0);
        assert_eq!(summary[0], Some(301.0));
        assert!(summary[1].unwrap() <= 301.0 * MAX_MS);
        // Its bins were merged into one near 1e308 (by 0.6.0): read now at a day, within ALPHA.
        assert!(summary[4].unwrap() <= MAX_MS * (1.0 + ALPHA));
        let merged = webhook_routing_sketch_merge(
            Some(&old.to_java_bytes()),
            Some(&poisoned.to_java_bytes()),
        );
        assert_eq!(decode(&merged.unwrap()).unwrap().count(), 5301);
    }

    /// A stored sketch holds only what this mapping can write: another accuracy, a negative
    /// sample, a NaN sum (0.6.0 stored one for a NaN latency) or a count that does not add up
    /// is skipped, never merged.
    #[pg_test]
    fn sketches_we_could_not_have_written_are_skipped() {
        let ours = sketches_ddsketch::Config::new(ALPHA, 2048, 1.0e-9);
        let made = |config: sketches_ddsketch::Config, samples: &[f64]| {
            let mut sketch = sketches_ddsketch::DDSketch::new(config);
            samples.iter().for_each(|v| sketch.add(*v));
            sketch.to_java_bytes()
        };
        let mut miscounted = made(ours, &[90.0, 91.0]);
        // The count (first flag, a var-double of 2.0) says 3.
        let mut three = Vec::new();
        three.push(0xA0);
        let mut var = made(ours, &[1.0, 1.0, 1.0]);
        var.truncate(1 + 1);
        three.extend_from_slice(&var[1..]);
        miscounted.splice(0..2, three);
        for (name, bytes) in [
            (
                "accuracy 1%",
                made(sketches_ddsketch::Config::new(0.01, 2048, 1.0e-9), &[90.0]),
            ),
            ("a negative sample", made(ours, &[90.0, -5.0])),
            ("a NaN", made(ours, &[90.0, f64::NAN])),
            ("a count that does not add up", miscounted),
        ] {
            let (summary, skipped) = summarize([bytes.as_slice()].into_iter());
            assert_eq!((skipped, summary[0]), (1, Some(0.0)), "{name}");
        }
    }

    /// One legacy outcome of a day, reported through record_routing_outcome's own range, moves
    /// legacy's p50 and p95 in routing_stats no further than percentile_cont moves, plus the
    /// sketch's error. (0.6.0: p50/p95 89.5/98.2 became 399.8/399.8 ms.)
    #[pg_test]
    fn one_outcome_of_a_day_moves_stats_by_the_error_at_most() {
        Spi::run(
            "INSERT INTO webhook_routing_logs(webhook_name, domain, routed_to, response_time_ms, status) \
             SELECT 'whatsapp', 'jobs', 'legacy', 80 + (g * 37 % 300) * 0.07, 'success' \
             FROM generate_series(0, 299) AS g",
        )
        .unwrap();
        let read = || {
            let stats = Spi::get_two::<f64, f64>(
                "SELECT p50_ms::float8, p95_ms::float8 FROM routing_stats('1 hour') \
                 WHERE domain = 'jobs' AND routed_to = 'legacy'",
            )
            .unwrap();
            let exact = Spi::get_two::<f64, f64>(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms::float8), \
                        percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms::float8) \
                 FROM webhook_routing_logs WHERE routed_to = 'legacy'",
            )
            .unwrap();
            (
                [stats.0.unwrap(), stats.1.unwrap()],
                [exact.0.unwrap(), exact.1.unwrap()],
            )
        };
        let (before, exact_before) = read();
        let id = Spi::get_one::<i64>(
            "INSERT INTO webhook_routing_logs(webhook_name, domain, routed_to) \
             VALUES ('whatsapp', 'jobs', 'legacy') RETURNING id",
        )
        .unwrap()
        .unwrap();
        Spi::run(&format!(
            "SELECT record_routing_outcome({id}, 'success', 86400000)"
        ))
        .unwrap();
        let (after, exact_after) = read();
        for i in 0..2 {
            // routing_stats shows 0.1 ms: each reading is rounded by up to 0.05.
            let error = ALPHA * (exact_before[i] + exact_after[i]) * (1.0 + 1e-9) + 0.1;
            let moved = (after[i] - before[i]).abs();
            assert!(
                moved <= (exact_after[i] - exact_before[i]).abs() + error,
                "p{}: {} -> {} (exact {} -> {})",
                [50, 95][i],
                before[i],
                after[i],
                exact_before[i],
                exact_after[i]
            );
        }
    }
}

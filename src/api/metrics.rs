//! What routing_metrics() (sql/metrics.sql) needs from the sketches beyond stats: the counters
//! sum the latency count and sum of every sketch since their last fold on each scrape, so they
//! read each sketch's header rather than its bins (src/core/ddsketch.rs, totals_from_java_bytes).
use crate::core::ddsketch::Sketch;
use crate::stats::sketch::report_skipped;
use pgrx::prelude::*;

/// {count, sum (ms)} of the latencies in the sketches. NULLs are skipped; so are entries that
/// do not decode, with a WARNING, as stats skip them.
#[pg_extern(immutable, parallel_safe)]
fn webhook_routing_sketch_totals(sketches: pgrx::Array<'_, &[u8]>) -> Vec<f64> {
    let (count, sum, skipped) = totals(sketches.iter().flatten());
    report_skipped(skipped);
    vec![count as f64, sum]
}

fn totals<'a>(sketches: impl Iterator<Item = &'a [u8]>) -> (u64, f64, usize) {
    let (mut count, mut sum, mut skipped) = (0u64, 0.0f64, 0usize);
    for bytes in sketches {
        match Sketch::totals_from_java_bytes(bytes) {
            Some((n, s)) => {
                count = count.saturating_add(n);
                sum += s;
            }
            None => skipped += 1,
        }
    }
    (count, sum, skipped)
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::totals;
    use crate::core::ddsketch::Sketch;

    /// The header's totals are the whole decode's, for sketches of every size, an empty one,
    /// and one with a version byte before its flags; what is not a sketch is skipped.
    #[pgrx::pg_test]
    fn totals_read_from_headers_match_the_whole_decode() {
        let mut stored = Vec::new();
        for n in [1usize, 2, 17, 500] {
            let mut sketch = Sketch::new();
            for i in 0..n {
                sketch.add(0.0005 + (i * 7919 % 3000) as f64 * 1.37);
            }
            stored.push(sketch.to_java_bytes());
        }
        stored.push(Sketch::new().to_java_bytes());
        let mut versioned = vec![0x02];
        versioned.extend_from_slice(&stored[2]);
        stored.push(versioned);
        for bytes in &stored {
            let whole = Sketch::from_java_bytes(bytes).expect("a sketch of ours decodes");
            let (count, sum) = Sketch::totals_from_java_bytes(bytes).expect("its header reads");
            assert_eq!(count as usize, whole.count());
            assert_eq!(sum, whole.sum().unwrap_or(0.0));
        }
        let junk: [&[u8]; 3] = [b"", b"not a sketch", &stored[3][..5]];
        let (count, _, skipped) = totals(stored.iter().map(|b| b.as_slice()).chain(junk));
        assert_eq!(count, 1 + 2 + 17 + 500 + 17);
        assert_eq!(skipped, 3);
    }
}

//! Sticky bucketing: which senders are in the rollout.
//!
//! bucket = murmur3_x86_32(utf8(domain + ":" + key), seed 0) mod 10000, and a sender goes to the
//! unified handler iff bucket < percentage × 100. This is Unleash's scheme (murmur3 of
//! `group:user`), with 10,000 buckets so that percentages with two decimals are exact.
//! - A sender keeps its target while the percentage holds (the hash depends on nothing else).
//! - Raising the percentage only adds senders: the unified set at p is a subset of the set at p' > p.
//! - Each domain splits independently, since the domain is part of the hashed key.
//!
//! Any client can reproduce a bucket: e.g. in JavaScript with a murmur3 x86 32-bit hash over the
//! UTF-8 bytes. `routing_bucket(domain, key)` exposes the same function in SQL.
use pgrx::prelude::*;
use rand::Rng;

/// Number of buckets; a percentage p (two decimals) covers buckets [0, p × 100).
pub const BUCKETS: u32 = 10_000;

/// The sticky bucket of `key` within `domain`, in 0..10000.
pub fn bucket(domain: &str, key: &str) -> i32 {
    let mut input = Vec::with_capacity(domain.len() + 1 + key.len());
    input.extend_from_slice(domain.as_bytes());
    input.push(b':');
    input.extend_from_slice(key.as_bytes());
    // Reading from an in-memory slice cannot fail; 0 is only a formal fallback.
    let hash = murmur3::murmur3_32(&mut input.as_slice(), 0).unwrap_or(0);
    (hash % BUCKETS) as i32
}

/// A bucket drawn at random, for a message with neither sender nor routing key.
pub fn random_bucket() -> i32 {
    rand::rng().random_range(0..BUCKETS) as i32
}

/// Whether a bucket is inside a rollout of `percentage_bp` hundredths of a percent.
pub fn in_rollout(bucket: i32, percentage_bp: i32) -> bool {
    bucket < percentage_bp
}

/// The sticky bucket a sender (or routing key) has in a domain: the same hash route_decision uses.
#[pg_extern(immutable, strict, parallel_safe)]
fn routing_bucket(domain: &str, key: &str) -> i32 {
    bucket(domain, key)
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::*;

    /// Reference values: murmur3_x86_32 with seed 0 of the UTF-8 bytes, mod 10000. Published
    /// vectors for the raw hash (e.g. "" → 0, "hello" → 0x248bfa47) pin the algorithm.
    #[pg_test]
    fn murmur3_matches_published_vectors() {
        let raw = |s: &str| murmur3::murmur3_32(&mut s.as_bytes(), 0).unwrap();
        assert_eq!(raw(""), 0);
        assert_eq!(raw("hello"), 0x248b_fa47);
        assert_eq!(raw("Hello, world!"), 0xc036_3e43);
        assert_eq!(
            bucket("jobs", "250788123456"),
            (raw("jobs:250788123456") % BUCKETS) as i32
        );
    }

    #[pg_test]
    fn bucket_is_stable_in_range_and_domain_dependent() {
        let cases = [
            ("jobs", "250788123456"),
            ("marketplace", "250788123456"),
            ("property", "250788555001"),
            ("jobs", ""),
            ("jobs", "ümlaut-ключ"),
        ];
        for (domain, key) in cases {
            let b = bucket(domain, key);
            assert!((0..BUCKETS as i32).contains(&b), "{domain}:{key} -> {b}");
            assert_eq!(b, bucket(domain, key));
        }
        // Over many senders, the same sender lands in different buckets per domain.
        let differs = (0..1000)
            .filter(|i| {
                let k = format!("2507{i:08}");
                bucket("jobs", &k) != bucket("marketplace", &k)
            })
            .count();
        assert!(
            differs > 990,
            "domains must split independently, {differs}/1000 differ"
        );
    }

    #[pg_test]
    fn rollout_membership_only_grows_with_percentage() {
        let steps = [0, 500, 1000, 2500, 5000, 10000];
        for i in 0..20_000 {
            let b = bucket("jobs", &format!("sender-{i}"));
            let membership: Vec<bool> = steps.iter().map(|&p| in_rollout(b, p)).collect();
            assert!(!membership[0], "0% routes nobody");
            assert!(membership[5], "100% routes everybody");
            for w in membership.windows(2) {
                assert!(
                    !w[0] || w[1],
                    "a sender left the rollout when the percentage rose"
                );
            }
        }
    }

    #[pg_test]
    fn random_bucket_in_range() {
        for _ in 0..10_000 {
            assert!((0..BUCKETS as i32).contains(&random_bucket()));
        }
    }

    #[pg_test]
    fn sql_routing_bucket_matches_rust() {
        let b = Spi::get_one::<i32>("SELECT routing_bucket('jobs', '250788123456')")
            .unwrap()
            .unwrap();
        assert_eq!(b, bucket("jobs", "250788123456"));
    }
}

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
//! UTF-8 bytes. `routing_bucket(domain, key)` (src/api/explain.rs) exposes the same function in SQL.
use rand::Rng;

/// Number of buckets; a percentage p (two decimals) covers buckets [0, p × 100).
pub const BUCKETS: u32 = 10_000;

/// The sticky bucket of `key` within `domain`, in 0..10000.
pub fn bucket(domain: &str, key: &str) -> i32 {
    let hash = murmur3_x86_32(&[domain.as_bytes(), b":", key.as_bytes()], 0);
    (hash % BUCKETS) as i32
}

/// MurmurHash3 x86 32-bit of the concatenation of `parts`, hashed as they come, so that the
/// bucket's key needs no buffer. (The murmur3 crate reads through `io::Read` four bytes at a
/// time: through a chain of slices that was 7% of route_decision's own time. The tests check
/// this function against that crate.)
fn murmur3_x86_32(parts: &[&[u8]], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let scramble = |k: u32| k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    let mut h = seed;
    let mut block = [0u8; 4];
    let mut filled = 0;
    let mut len: u32 = 0;
    for &byte in parts.iter().flat_map(|p| p.iter()) {
        block[filled] = byte;
        filled += 1;
        len = len.wrapping_add(1);
        if filled == 4 {
            h ^= scramble(u32::from_le_bytes(block));
            h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
            filled = 0;
        }
    }
    if filled > 0 {
        let tail = block[..filled]
            .iter()
            .rev()
            .fold(0u32, |k, &b| (k << 8) | u32::from(b));
        h ^= scramble(tail);
    }
    h ^= len;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// A bucket drawn at random, for a message with neither sender nor routing key.
pub fn random_bucket() -> i32 {
    rand::rng().random_range(0..BUCKETS) as i32
}

/// Whether a bucket is inside a rollout of `percentage_bp` hundredths of a percent.
pub fn in_rollout(bucket: i32, percentage_bp: i32) -> bool {
    bucket < percentage_bp
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

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

    /// The hash route_decision uses equals the murmur3 crate's on 5,000 keys of every length
    /// from 0 to 49 bytes (each tail length), ASCII and multi-byte, split into parts anywhere.
    #[pg_test]
    fn own_murmur3_equals_the_crate() {
        let alphabet: Vec<char> = "ab09:_-éкю🙂 ".chars().collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for i in 0..5_000 {
            let text: String = (0..i % 50)
                .map(|_| alphabet[next() % alphabet.len()])
                .collect();
            let bytes = text.as_bytes();
            let cut = next() % (bytes.len() + 1);
            let seed = (i as u32).wrapping_mul(2_654_435_761);
            let expected = murmur3::murmur3_32(&mut &bytes[..], seed).unwrap();
            assert_eq!(
                murmur3_x86_32(&[&bytes[..cut], &bytes[cut..]], seed),
                expected,
                "{text:?} cut at {cut}"
            );
            assert_eq!(murmur3_x86_32(&[bytes], seed), expected);
        }
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

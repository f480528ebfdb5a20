//! The latency sketch: a DDSketch (DataDog's relative-error quantile sketch) with a bin for
//! every latency the log accepts, read and written in DataDog's binary ("java") encoding.
//!
//! Up to 0.6.0 the latencies went into the sketches-ddsketch crate's sketch, whose store keeps
//! at most 2,048 bins (its decoder fixes that limit) and merges the lowest ones when a sample
//! lands further away: 2,048 bins at 0.3% span a ratio of 2.2e5 only, so one legacy row of
//! 86,400,000 ms folded every sample below 400 ms into one bin (legacy's p50 went from 89.5 to
//! 399.8 ms and a gate flipped), and one of 1e308 folded them to 4.6e302 ms.
//!
//! Here the bins cover the whole range the log accepts, [`RESOLUTION_MS`, `MAX_MS`]: 4,198 keys
//! at ALPHA, held densely over the keys seen, so no bin is ever merged with another. Every
//! sample at or above the resolution reads back within ALPHA (relative), however extreme the
//! others are; a sample below it (the log rounds to the resolution, so only 0) reads back as 0,
//! within `RESOLUTION_MS` (absolute); a sample above `MAX_MS` (the log refuses one) counts as
//! `MAX_MS`. Same gamma, same key mapping and same encoding as the crate, so the sketches 0.6.0
//! wrote decode and merge as they are (a bin of theirs outside the range is counted at its
//! edge, as a new sample there would be).
//!
//! Decoding never panics and accepts only what this mapping can have written: any other
//! gamma or mapping, a negative store, a count or key out of bounds, a non-finite or
//! inconsistent sum, min or max is refused.
use std::sync::LazyLock;

/// Relative accuracy: gamma = (1 + ALPHA) / (1 - ALPHA), as the crate and DataDog compute it.
pub const ALPHA: f64 = 0.003;
/// The log keeps latencies to this resolution (ms); smaller samples count as 0.
pub const RESOLUTION_MS: f64 = 0.001;
/// The longest latency the log accepts (ms): one day.
pub const MAX_MS: f64 = 86_400_000.0;
/// More samples than one sketch can plausibly hold (a million a second for a minute is 6e7):
/// a stored count above it is not ours.
pub const MAX_COUNT: u64 = 1 << 40;
/// The crate's threshold for its zero bin: keys of smaller values never existed.
const CRATE_MIN_VALUE: f64 = 1.0e-9;

struct Mapping {
    gamma: f64,
    gamma_ln: f64,
    /// The keys of the accepted range, [RESOLUTION_MS, MAX_MS].
    min_key: i32,
    max_key: i32,
    /// The keys a stored sketch may hold: what the crate could have written (1e-9 up to the
    /// largest double).
    lowest_stored: i64,
    highest_stored: i64,
}

static MAPPING: LazyLock<Mapping> = LazyLock::new(|| {
    let gamma = (1.0 + ALPHA) / (1.0 - ALPHA);
    let gamma_ln = gamma.ln();
    let key = |v: f64| (v.ln() / gamma_ln).floor();
    Mapping {
        gamma,
        gamma_ln,
        min_key: key(RESOLUTION_MS) as i32,
        max_key: key(MAX_MS) as i32,
        lowest_stored: key(CRATE_MIN_VALUE) as i64,
        highest_stored: key(f64::MAX) as i64,
    }
});

/// The key of a value (> 0), as the crate computes it: floor(log_gamma(v)).
fn key_of(v: f64) -> i32 {
    let m = &*MAPPING;
    ((v.ln() / m.gamma_ln).floor() as i32).clamp(m.min_key, m.max_key)
}

/// The value a key stands for, as the crate computes it: the bin's midpoint in relative terms.
fn value_of(key: i32) -> f64 {
    let m = &*MAPPING;
    (f64::from(key) * m.gamma_ln).exp() * (2.0 * m.gamma / (1.0 + m.gamma))
}

/// Bins are added this many keys at a time (the crate's chunk).
const CHUNK: i32 = 128;

#[derive(Clone, Debug, PartialEq)]
pub struct Sketch {
    /// Samples below RESOLUTION_MS.
    zero: u64,
    /// The count of key `offset + i` is `bins[i]`; the keys lie within the accepted range.
    offset: i32,
    bins: Vec<u64>,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Default for Sketch {
    fn default() -> Self {
        Self::new()
    }
}

impl Sketch {
    pub fn new() -> Self {
        Sketch {
            zero: 0,
            offset: 0,
            bins: Vec::new(),
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Add a latency (ms). What is not one (NaN, infinite, negative) is left out; above
    /// MAX_MS counts as MAX_MS.
    pub fn add(&mut self, v: f64) {
        if !(v.is_finite() && v >= 0.0) {
            return;
        }
        let v = v.min(MAX_MS);
        if v < RESOLUTION_MS {
            self.zero += 1;
        } else {
            self.add_to_key(key_of(v), 1);
        }
        self.count += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> usize {
        usize::try_from(self.count).unwrap_or(usize::MAX)
    }

    /// The sum of the samples, None when there is none.
    pub fn sum(&self) -> Option<f64> {
        (self.count > 0).then_some(self.sum)
    }

    fn add_to_key(&mut self, key: i32, n: u64) {
        self.cover(key, key);
        let at = usize::try_from(key - self.offset).unwrap_or(usize::MAX);
        if let Some(bin) = self.bins.get_mut(at) {
            *bin = bin.saturating_add(n);
        }
    }

    /// Make the bins cover keys low..=high (within the accepted range), growing by at least
    /// as many keys as they hold on the side that grew, so that keys added one by one (as a
    /// stored sketch decodes, lowest first) cost a few copies, not one per chunk.
    fn cover(&mut self, low: i32, high: i32) {
        let m = &*MAPPING;
        let len = self.bins.len() as i32;
        let end = self.offset + len;
        if len > 0 && low >= self.offset && high < end {
            return;
        }
        let room = len.max(CHUNK);
        let (new_low, new_end) = if len == 0 {
            (low - CHUNK / 2, high + 1 + CHUNK / 2)
        } else {
            (
                if low < self.offset {
                    low.min(self.offset - room)
                } else {
                    self.offset
                },
                if high >= end {
                    (high + 1).max(end + room)
                } else {
                    end
                },
            )
        };
        let (new_low, new_end) = (new_low.max(m.min_key), new_end.min(m.max_key + 1));
        let mut bins = vec![0u64; (new_end - new_low).max(0) as usize];
        let from = (self.offset - new_low).max(0) as usize;
        if let Some(to) = bins.get_mut(from..from + self.bins.len()) {
            to.copy_from_slice(&self.bins);
        }
        self.bins = bins;
        self.offset = new_low;
    }

    /// The keys with a count, lowest first.
    fn keys(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        self.bins
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (self.offset + i as i32, *n))
    }

    /// Add another sketch's samples to this one.
    pub fn merge(&mut self, other: &Sketch) {
        if other.count == 0 {
            return;
        }
        let first = other.bins.iter().position(|n| *n > 0);
        let last = other.bins.iter().rposition(|n| *n > 0);
        if let (Some(first), Some(last)) = (first, last) {
            let low = other.offset + first as i32;
            self.cover(low, other.offset + last as i32);
            let at = usize::try_from(low - self.offset).unwrap_or(usize::MAX);
            let theirs = other.bins.get(first..=last).unwrap_or_default();
            if let Some(ours) = self.bins.get_mut(at..at.saturating_add(theirs.len())) {
                for (o, t) in ours.iter_mut().zip(theirs) {
                    *o = o.saturating_add(*t);
                }
            }
        }
        self.zero = self.zero.saturating_add(other.zero);
        self.count = self.count.saturating_add(other.count);
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// The sample of rank `rank` (0-based, ascending), as the sketch knows it: the highest is
    /// the exact maximum; the others are their bin's value (0 below the resolution), as the
    /// crate read them.
    pub fn at_rank(&self, rank: u64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        if rank.saturating_add(1) >= self.count {
            return Some(self.max);
        }
        let value = if rank < self.zero {
            0.0
        } else {
            let mut seen = self.zero;
            let mut found = None;
            for (key, n) in self.keys() {
                seen = seen.saturating_add(n);
                if seen > rank {
                    found = Some(key);
                    break;
                }
            }
            found.map_or(self.max, value_of)
        };
        Some(value)
    }

    /// The sketch's ranks, for reading many of them (the latency checks' counts above a bar
    /// bisect over ranks: each at_rank walked the bins from the lowest, 5.5 of health's 30
    /// million instructions at 2M rows an hour).
    pub fn ranks(&self) -> Ranks<'_> {
        let mut seen = self.zero;
        let ends = self
            .keys()
            .map(|(key, n)| {
                seen = seen.saturating_add(n);
                (seen, key)
            })
            .collect();
        Ranks { sketch: self, ends }
    }

    /// DataDog's binary encoding, byte for byte what the sketches-ddsketch crate writes for
    /// the same samples (flags, then count, min, max, sum, mapping, zero count, positive bins).
    pub fn to_java_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.count != 0 {
            out.push(FLAG_COUNT);
            encode_var_double(&mut out, self.count as f64);
            out.push(FLAG_MIN);
            out.extend_from_slice(&self.min.to_le_bytes());
            out.push(FLAG_MAX);
            out.extend_from_slice(&self.max.to_le_bytes());
        }
        if self.sum != 0.0 {
            out.push(FLAG_SUM);
            out.extend_from_slice(&self.sum.to_le_bytes());
        }
        out.push(FLAG_INDEX_MAPPING_LOG);
        out.extend_from_slice(&MAPPING.gamma.to_le_bytes());
        out.extend_from_slice(&0.0f64.to_le_bytes());
        if self.zero != 0 {
            out.push(FLAG_ZERO_COUNT);
            encode_var_double(&mut out, self.zero as f64);
        }
        let keys = self.keys().count();
        if keys > 0 {
            out.push(FLAG_POSITIVE_INDEX_DELTAS_AND_COUNTS);
            encode_unsigned_var_long(&mut out, keys as u64);
            let mut previous = 0i64;
            for (key, n) in self.keys() {
                encode_signed_var_long(&mut out, i64::from(key) - previous);
                encode_var_double(&mut out, n as f64);
                previous = i64::from(key);
            }
        }
        out
    }

    /// Decode a stored sketch, or None when it is not one that this mapping can have written.
    pub fn from_java_bytes(bytes: &[u8]) -> Option<Sketch> {
        let mut bins = Vec::new();
        let stored = parse(bytes, &mut bins)?;
        let mut sketch = Sketch::new();
        for &(key, n) in &bins {
            sketch.add_to_key(key, n);
        }
        sketch.zero = stored.zero;
        sketch.count = stored.count;
        if stored.count > 0 {
            (sketch.sum, sketch.min, sketch.max) = (stored.sum, stored.min, stored.max);
        }
        Some(sketch)
    }

    /// Add a stored sketch's samples to this one, as `merge(&Sketch::from_java_bytes(bytes)?)`
    /// does, without building it: stats and health merge a sketch per minute, target and
    /// backend, and building each one (its own bins, grown and zeroed, then merged) cost three
    /// quarters of routing_stats' instructions at 2M rows an hour (bench/run's data: 336
    /// sketches of about 250 bins). False, and nothing added, when it does not decode.
    /// `bins` is room for its bins, reused from one call to the next.
    pub fn merge_java_bytes(&mut self, bytes: &[u8], bins: &mut Vec<(i32, u64)>) -> bool {
        let Some(stored) = parse(bytes, bins) else {
            return false;
        };
        if stored.count == 0 {
            return true;
        }
        let low = bins.iter().map(|b| b.0).min();
        let high = bins.iter().map(|b| b.0).max();
        if let (Some(low), Some(high)) = (low, high) {
            self.cover(low, high);
            for &(key, n) in bins.iter() {
                let at = usize::try_from(key - self.offset).unwrap_or(usize::MAX);
                if let Some(bin) = self.bins.get_mut(at) {
                    *bin = bin.saturating_add(n);
                }
            }
        }
        self.zero = self.zero.saturating_add(stored.zero);
        self.count = self.count.saturating_add(stored.count);
        self.sum += stored.sum;
        self.min = self.min.min(stored.min);
        self.max = self.max.max(stored.max);
        true
    }
}

/// What a stored sketch holds besides its bins, checked (see `parse`).
struct Stored {
    zero: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

/// Read a stored sketch: its bins into `bins` (cleared first), as (key, count) within the
/// accepted range in the order they are stored (a key below it counted in `zero`, one above at
/// the edge), and the rest; None when it is not one that this mapping can have written.
fn parse(bytes: &[u8], bins: &mut Vec<(i32, u64)>) -> Option<Stored> {
    bins.clear();
    let mut input = bytes;
    // The crate skips a version byte 0x02 when a flag follows it; so do we.
    if let [0x02, next, ..] = input {
        if is_valid_flag_byte(*next) {
            input = &input[1..];
        }
    }
    let m = &*MAPPING;
    let mut mapping_seen = false;
    let mut store_seen = false;
    let mut stated_count = None;
    let (mut sum, mut min, mut max) = (0.0f64, None, None);
    let mut zero = 0u64;
    while let Some((&flag, rest)) = input.split_first() {
        input = rest;
        match flag {
            FLAG_INDEX_MAPPING_LOG => {
                let gamma = read_f64(&mut input)?;
                let offset = read_f64(&mut input)?;
                if gamma.to_bits() != m.gamma.to_bits() || offset != 0.0 {
                    return None;
                }
                mapping_seen = true;
            }
            FLAG_ZERO_COUNT => zero = zero.checked_add(read_count(&mut input)?)?,
            FLAG_COUNT => stated_count = Some(decode_var_double(&mut input)?),
            FLAG_SUM => sum = read_f64(&mut input)?,
            FLAG_MIN => min = Some(read_f64(&mut input)?),
            FLAG_MAX => max = Some(read_f64(&mut input)?),
            _ if flag & 0x03 == 1 && !store_seen => {
                store_seen = true;
                decode_positive_store(&mut input, flag >> 2, bins, &mut zero)?;
            }
            // Another mapping, a negative store (latencies are never negative), a second
            // store, or no flag at all.
            _ => return None,
        }
    }
    let binned: u64 = bins.iter().try_fold(0u64, |a, b| a.checked_add(b.1))?;
    let count = binned.checked_add(zero)?;
    if !mapping_seen
        || count > MAX_COUNT
        || stated_count.is_some_and(|c| c != count as f64)
        || !(sum.is_finite() && sum >= 0.0)
    {
        return None;
    }
    if count == 0 {
        return Some(Stored {
            zero,
            count,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        });
    }
    let (min, max) = (min?, max?);
    if !(min.is_finite() && max.is_finite() && min >= 0.0 && min <= max) {
        return None;
    }
    // A sample above the accepted range (0.6.0 took any) counts at its edge.
    let max = max.min(MAX_MS);
    Some(Stored {
        zero,
        count,
        sum: sum.min(count as f64 * MAX_MS),
        min: min.min(max),
        max,
    })
}

/// A sketch's ranks: `at_rank` as the sketch's own, by bisection over its bins' running counts.
pub struct Ranks<'a> {
    sketch: &'a Sketch,
    /// For each bin with a count, lowest first: the samples up to and including it (those below
    /// the resolution first), and its key.
    ends: Vec<(u64, i32)>,
}

impl Ranks<'_> {
    /// What `Sketch::at_rank` answers for `rank`.
    pub fn at_rank(&self, rank: u64) -> Option<f64> {
        let sketch = self.sketch;
        if sketch.count == 0 {
            return None;
        }
        if rank.saturating_add(1) >= sketch.count {
            return Some(sketch.max);
        }
        if rank < sketch.zero {
            return Some(0.0);
        }
        // The first bin whose running count passes the rank.
        let at = self.ends.partition_point(|(end, _)| *end <= rank);
        Some(
            self.ends
                .get(at)
                .map_or(sketch.max, |(_, key)| value_of(*key)),
        )
    }
}

impl Sketch {
    /// The count and sum (ms) of a stored sketch, read from the flags before its bins, as this
    /// encoding (and the crate's) writes them: count, min, max, sum, then the mapping, which
    /// must be ours. routing_metrics() sums every sketch since the counters' last fold on each
    /// scrape: decoding 85,000 one-minute sketches whole took 3.4 s, their headers a small part
    /// of that. The bins are not checked against the stated count (the log's triggers alone
    /// write sketches); anything unexpected before the mapping falls back to the whole decode,
    /// which refuses what this mapping cannot have written.
    pub fn totals_from_java_bytes(bytes: &[u8]) -> Option<(u64, f64)> {
        header_totals(bytes).or_else(|| {
            let sketch = Sketch::from_java_bytes(bytes)?;
            Some((sketch.count, sketch.sum().unwrap_or(0.0)))
        })
    }
}

fn header_totals(bytes: &[u8]) -> Option<(u64, f64)> {
    let mut input = bytes;
    if let [0x02, next, ..] = input {
        if is_valid_flag_byte(*next) {
            input = &input[1..];
        }
    }
    let (mut count, mut sum) = (None, 0.0f64);
    while let Some((&flag, rest)) = input.split_first() {
        input = rest;
        match flag {
            FLAG_COUNT => count = Some(read_count(&mut input)?),
            FLAG_SUM => sum = read_f64(&mut input)?,
            FLAG_MIN | FLAG_MAX => {
                read_f64(&mut input)?;
            }
            FLAG_INDEX_MAPPING_LOG => {
                let gamma = read_f64(&mut input)?;
                let offset = read_f64(&mut input)?;
                let count = count?;
                if gamma.to_bits() != MAPPING.gamma.to_bits()
                    || offset != 0.0
                    || !(sum.is_finite() && sum >= 0.0)
                {
                    return None;
                }
                if count == 0 {
                    return Some((0, 0.0));
                }
                return Some((count, sum.min(count as f64 * MAX_MS)));
            }
            _ => return None,
        }
    }
    None
}

fn decode_positive_store(
    input: &mut &[u8],
    mode: u8,
    bins: &mut Vec<(i32, u64)>,
    zero: &mut u64,
) -> Option<()> {
    let m = &*MAPPING;
    let one_byte = &*ONE_BYTE_COUNTS;
    // A bin's count as read_count reads it, by the table when it takes one byte.
    let count = |input: &mut &[u8]| -> Option<u64> {
        match input.split_first() {
            Some((&b, rest)) if b < 0x80 => {
                *input = rest;
                one_byte[usize::from(b)]
            }
            _ => read_count(input),
        }
    };
    let stored = decode_unsigned_var_long(input)?;
    bins.reserve(usize::try_from(stored).unwrap_or(0).min(input.len()));
    let mut add = |key: i64, n: u64| -> Option<()> {
        if key < m.lowest_stored || key > m.highest_stored {
            return None;
        }
        if n == 0 {
            return Some(());
        }
        if n > MAX_COUNT {
            return None;
        }
        if key < i64::from(m.min_key) {
            // Below the resolution: counted as 0, as a new sample there would be.
            *zero = zero.checked_add(n)?;
        } else {
            bins.push((key.min(i64::from(m.max_key)) as i32, n));
        }
        Some(())
    };
    let mut key = 0i64;
    match mode {
        // Index deltas and counts.
        1 => {
            for _ in 0..stored {
                key = key.checked_add(decode_signed_var_long(input)?)?;
                add(key, count(input)?)?;
            }
        }
        // Index deltas, a count of 1 each.
        2 => {
            for _ in 0..stored {
                key = key.checked_add(decode_signed_var_long(input)?)?;
                add(key, 1)?;
            }
        }
        // Contiguous counts.
        3 => {
            key = decode_signed_var_long(input)?;
            let step = decode_signed_var_long(input)?;
            for _ in 0..stored {
                add(key, count(input)?)?;
                key = key.checked_add(step)?;
            }
        }
        _ => return None,
    }
    Some(())
}

// DataDog's encoding (sketches-java's Flag, BinEncodingMode and VarEncodingHelper), as the
// sketches-ddsketch crate ports it.
const FLAG_INDEX_MAPPING_LOG: u8 = 0x02;
const FLAG_ZERO_COUNT: u8 = 0x04;
const FLAG_COUNT: u8 = 0xA0;
const FLAG_SUM: u8 = 0x84;
const FLAG_MIN: u8 = 0x88;
const FLAG_MAX: u8 = 0x8C;
const FLAG_POSITIVE_INDEX_DELTAS_AND_COUNTS: u8 = (1 << 2) | 1;

fn is_valid_flag_byte(b: u8) -> bool {
    if matches!(
        b,
        FLAG_ZERO_COUNT | FLAG_COUNT | FLAG_SUM | FLAG_MIN | FLAG_MAX | FLAG_INDEX_MAPPING_LOG
    ) {
        return true;
    }
    let subflag = b >> 2;
    match b & 0x03 {
        1 | 3 => (1..=3).contains(&subflag),
        2 => subflag <= 4,
        _ => false,
    }
}

fn read_f64(input: &mut &[u8]) -> Option<f64> {
    let (bytes, rest) = input.split_first_chunk::<8>()?;
    *input = rest;
    Some(f64::from_le_bytes(*bytes))
}

/// read_count of the counts that take one byte (a byte below 0x80), by that byte: read this
/// way, the bins with a small count (45% of them in bench/run's 2M rows an hour) skip
/// decode_var_double and its checks, 7% of routing_stats' instructions there.
static ONE_BYTE_COUNTS: LazyLock<[Option<u64>; 0x80]> =
    LazyLock::new(|| std::array::from_fn(|b| read_count(&mut [b as u8].as_slice())));

/// A count, encoded as a double: a whole number from 0 to MAX_COUNT.
fn read_count(input: &mut &[u8]) -> Option<u64> {
    let n = decode_var_double(input)?;
    // Whole: it survives the round trip through u64 (within the bounds, exactly when it has no
    // fraction; cheaper than f64::fract, a library call, once per bin).
    (n >= 0.0 && n <= MAX_COUNT as f64 && (n as u64) as f64 == n).then_some(n as u64)
}

fn encode_unsigned_var_long(out: &mut Vec<u8>, mut value: u64) {
    let length = ((63 - value.leading_zeros() as i32) / 7).clamp(0, 8);
    for _ in 0..length {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn decode_unsigned_var_long(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0u32;
    loop {
        let (&next, rest) = input.split_first()?;
        *input = rest;
        if next < 0x80 || shift == 56 {
            return Some(value | (u64::from(next) << shift));
        }
        value |= (u64::from(next) & 0x7F) << shift;
        shift += 7;
    }
}

fn encode_signed_var_long(out: &mut Vec<u8>, value: i64) {
    encode_unsigned_var_long(out, ((value >> 63) ^ (value << 1)) as u64);
}

fn decode_signed_var_long(input: &mut &[u8]) -> Option<i64> {
    let encoded = decode_unsigned_var_long(input)?;
    Some(((encoded >> 1) as i64) ^ -((encoded & 1) as i64))
}

const VAR_DOUBLE_ROTATE: u32 = 6;

fn encode_var_double(out: &mut Vec<u8>, value: f64) {
    let mut bits = f64::to_bits(value + 1.0)
        .wrapping_sub(f64::to_bits(1.0))
        .rotate_left(VAR_DOUBLE_ROTATE);
    for _ in 0..8 {
        let next = (bits >> 57) as u8;
        bits <<= 7;
        if bits == 0 {
            out.push(next);
            return;
        }
        out.push(next | 0x80);
    }
    out.push((bits >> 56) as u8);
}

fn decode_var_double(input: &mut &[u8]) -> Option<f64> {
    let mut bits = 0u64;
    let mut shift = 57i32;
    loop {
        let (&next, rest) = input.split_first()?;
        *input = rest;
        if shift == 1 {
            bits |= u64::from(next);
            break;
        }
        if next < 0x80 {
            bits |= u64::from(next) << shift;
            break;
        }
        bits |= (u64::from(next) & 0x7F) << shift;
        shift -= 7;
    }
    Some(
        f64::from_bits(
            bits.rotate_right(VAR_DOUBLE_ROTATE)
                .wrapping_add(f64::to_bits(1.0)),
        ) - 1.0,
    )
}

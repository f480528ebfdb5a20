//! The verdicts of the health checks: a sequential test per check (`judge`), and the
//! sample-ratio count it reads (`webhook_routing_sample_ratio`).
//!
//! # The test
//! Each check is a count against a bar, the threshold's critical level on the test's scale: a
//! share (errors, broken sessions), or for latency the share of requests slower than the bar,
//! which is 5% when the p95 is at it. The evidence is a mixture likelihood ratio Λ, always
//! valid: Λ is a nonnegative martingale while the truth is at the bar, so however often it is
//! read (advance_rollouts reads it every minute), the chance that it ever reaches 1/α is at most
//! α (Ville's inequality). For a count it is exact, the mean of the binomial likelihood ratios
//! of alternatives above the bar (1.25 to 100 times it) for a fail, below it (0.8 to 0.02 times)
//! for a pass; no normal approximation, so a handful of errors early on is not over-read.
//!   fail          the share is above the bar and Λ ≥ 100: 99% confidence
//!   pass          the share is below the bar and Λ ≥ 20: 95% confidence, with min_samples
//!   inconclusive  neither, yet
//! `statistic` is the share's distance from the bar in standard errors there, `confidence`
//! 1 − 1/Λ on the share's side of the bar.
//!
//! | check                 | count x of n                        | bar (fail / pass)                       |
//! |-----------------------|-------------------------------------|-----------------------------------------|
//! | error_rate            | errors of outcomes                  | critical %                              |
//! | session_breaks        | broken sessions of sessions         | critical %                              |
//! | error_rate_vs_legacy  | unified errors of unified outcomes  | legacy's rate ± its 99% spread, + critical points |
//! | p95_latency           | requests slower than critical ms    | 5%                                      |
//! | p95_vs_legacy         | unified requests slower than critical × legacy's p95 | 5% ± the 99% spread of legacy's p95 coverage |
//!
//! In a comparison, legacy's own uncertainty moves the bar against the verdict: up for a fail,
//! down for a pass (legacy's rate counts half an error more, so that none is not certainty).
//! Below min_samples nothing passes; a fail needs only its evidence. With no legacy outcome, a
//! comparison is inconclusive (advance_rollouts then gates on the absolute bars).
//!
//! The sample ratio (below) is a normal mixture (Robbins) of the unified buckets' distance from
//! their expectation, two-sided, failing at Λ ≥ 1,000 (an always-valid p < 0.001), with a prior
//! spread of a tenth of one bucket's; it needs min_samples buckets on each side to say anything.
//! It passes on evidence too, never by default: the unified share of buckets is shown (Λ ≥ 20
//! against either of the alternatives one tolerance away, a fifth of the expected share) to be
//! within that tolerance of the split's. Without it, it is inconclusive, whatever the buckets
//! (0.6.0 said `pass` at confidence 0).
//!
//! # The sample ratio
//! The sketches keep, per minute, target and the percentage a split decision was made at, the set
//! of buckets (0–9,999, senders' hashes) those decisions came from. A sender's messages all go
//! one way at one percentage, so the unit is the bucket, never the request. A bucket seen at
//! 10% and again at 25% is counted once, at the percentage it was first seen at (in the order the
//! window met the percentages): under a sound split it went unified with that percentage's
//! probability, whatever its value, and each bucket counts once, so the counts are those of
//! independent draws. Counting it at both would count the buckets below 10% twice as unified
//! and raise a false alarm on every raise inside the window (0.2.0 did: the demo's 10% → 25%).
//!
//! The test compares the unified buckets with their expectation (table above).
use crate::pg::error::Refusal;
use crate::stats::sketch::BUCKET_BYTES;
use pgrx::prelude::*;

type Bits = [u8; BUCKET_BYTES];

/// What the check reads: how many buckets were counted, how many of them went unified, the
/// unified buckets expected, and the variance of that count.
#[derive(Debug, Default, PartialEq)]
struct Ratio {
    buckets: u64,
    unified: u64,
    expected: f64,
    variance: f64,
}

/// One percentage: its unified share and the buckets seen at it, per target.
struct Level {
    share: f64,
    unified: Box<Bits>,
    legacy: Box<Bits>,
}

fn or_into(set: &mut Bits, bytes: &[u8]) {
    set.iter_mut().zip(bytes).for_each(|(s, b)| *s |= b);
}

/// `rows`: (unified share of the decisions, went unified, their bucket set), in the order the
/// window met them (by minute). Rows without a share or a set are skipped.
fn count<'a>(rows: impl Iterator<Item = (Option<f64>, Option<bool>, Option<&'a [u8]>)>) -> Ratio {
    let mut levels: Vec<Level> = Vec::new();
    for (share, unified, bytes) in rows {
        let (Some(share), Some(unified), Some(bytes)) = (share, unified, bytes) else {
            continue;
        };
        if !(0.0..=1.0).contains(&share) {
            continue;
        }
        // Shares are percentages with two decimals: equal within a millionth is the same one.
        let at = match levels.iter().position(|l| (l.share - share).abs() < 1e-6) {
            Some(i) => i,
            None => {
                levels.push(Level {
                    share,
                    unified: Box::new([0; BUCKET_BYTES]),
                    legacy: Box::new([0; BUCKET_BYTES]),
                });
                levels.len() - 1
            }
        };
        let level = &mut levels[at];
        or_into(
            if unified {
                &mut level.unified
            } else {
                &mut level.legacy
            },
            bytes,
        );
    }
    let mut seen: Box<Bits> = Box::new([0; BUCKET_BYTES]);
    let mut ratio = Ratio::default();
    for level in &levels {
        let (mut unified, mut legacy) = (0u64, 0u64);
        for i in 0..BUCKET_BYTES {
            let fresh = !seen[i];
            // A bucket on both sides at one percentage (a decision without a sender draws its
            // bucket at random) says nothing about the split: seen, not counted.
            let both = level.unified[i] & level.legacy[i];
            unified += u64::from((level.unified[i] & fresh & !both).count_ones());
            legacy += u64::from((level.legacy[i] & fresh & !both).count_ones());
            seen[i] |= level.unified[i] | level.legacy[i];
        }
        let n = (unified + legacy) as f64;
        ratio.buckets += unified + legacy;
        ratio.unified += unified;
        ratio.expected += level.share * n;
        ratio.variance += level.share * (1.0 - level.share) * n;
    }
    ratio
}

/// {buckets, unified, expected, variance} of the split decisions of one domain: the arrays are
/// the sketch rows' unified shares (split_expected / split_n), targets (true: unified) and
/// bucket sets, ordered by minute. Arrays of unequal lengths are read up to the shortest.
#[pg_extern(immutable, parallel_safe)]
fn webhook_routing_sample_ratio(
    shares: pgrx::Array<'_, f64>,
    unified: pgrx::Array<'_, bool>,
    buckets: pgrx::Array<'_, &[u8]>,
) -> Vec<f64> {
    let rows = shares
        .iter()
        .zip(unified.iter())
        .zip(buckets.iter())
        .map(|((s, u), b)| (s, u, b));
    let r = count(rows);
    vec![r.buckets as f64, r.unified as f64, r.expected, r.variance]
}

/// What a check concludes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Verdict {
    Pass,
    Fail,
    Inconclusive,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// The health checks: the one list of them. SQL reads it through
/// `webhook_routing_health_catalogue()`, which fills the catalogue tables the thresholds refer to
/// (`webhook_routing_health_checks`, `webhook_routing_health_check_actions`, sql/bootstrap.sql),
/// seeds their default thresholds and names them in refusals; the docs' table of checks is
/// checked against it (tests/docs/sessions.py). A new check is a variant here, its test in
/// `test_of`, and its counts in `webhook_routing_health` (sql/stats_health.sql).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Check {
    ErrorRate,
    P95Latency,
    ErrorRateVsLegacy,
    P95VsLegacy,
    SampleRatio,
    SessionBreaks,
}

/// What a failed check does to a rollout (advance_rollouts): roll it back, hold it (no advance),
/// or warn (reported, nothing done).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Rollback,
    Hold,
    Warn,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Rollback => "rollback",
            Action::Hold => "hold",
            Action::Warn => "warn",
        }
    }
}

impl Check {
    /// In the order the default thresholds are written.
    const ALL: [Check; 6] = [
        Check::ErrorRate,
        Check::P95Latency,
        Check::ErrorRateVsLegacy,
        Check::P95VsLegacy,
        Check::SampleRatio,
        Check::SessionBreaks,
    ];

    fn name(self) -> &'static str {
        match self {
            Check::ErrorRate => "error_rate",
            Check::P95Latency => "p95_latency",
            Check::ErrorRateVsLegacy => "error_rate_vs_legacy",
            Check::P95VsLegacy => "p95_vs_legacy",
            Check::SampleRatio => "sample_ratio",
            Check::SessionBreaks => "session_breaks",
        }
    }

    fn from_name(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The unit of its value and of its warning and critical levels.
    fn unit(self) -> &'static str {
        match self {
            Check::ErrorRate | Check::SessionBreaks => "%",
            Check::P95Latency => "ms",
            Check::ErrorRateVsLegacy => "points",
            Check::P95VsLegacy => "ratio",
            Check::SampleRatio => "chi-square",
        }
    }

    /// The default (warning, critical) levels, the gates of every rollout: the runbook's error
    /// rate 0.1% and 0.5%, p95 2 s and 3 s; against legacy, unified's error rate minus legacy's
    /// (points) and unified's p95 over legacy's. The sample ratio's chi-square over senders
    /// (1 degree of freedom): 10.83 is p = 0.001 at one look (the check itself fails at an
    /// always-valid p below 0.001). Sessions (%) whose messages reached more than one handler,
    /// deliberate moves apart (routing_sessions): the runbook's bar is 0.5%.
    fn default_levels(self) -> (f64, f64) {
        match self {
            Check::ErrorRate | Check::ErrorRateVsLegacy => (0.1, 0.5),
            Check::P95Latency => (2000.0, 3000.0),
            Check::P95VsLegacy => (1.25, 1.5),
            Check::SampleRatio => (10.83, 19.51),
            Check::SessionBreaks => (0.25, 0.5),
        }
    }

    /// The actions a threshold of this check may take, its default first. A skewed sample ratio
    /// says the callers or the log are wrong, not the unified handler: it never rolls back.
    fn actions(self) -> &'static [Action] {
        match self {
            Check::SampleRatio => &[Action::Hold, Action::Warn],
            _ => &[Action::Rollback, Action::Hold, Action::Warn],
        }
    }
}

/// "a, b or c": the checks' names, for hints.
fn check_names() -> String {
    let names: Vec<&str> = Check::ALL.iter().map(|c| c.name()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The catalogue of health checks, one row per check: its unit, default warning and critical
/// levels and action, and the actions it may take (the default first).
#[pg_extern(immutable, parallel_safe)]
fn webhook_routing_health_catalogue() -> TableIterator<
    'static,
    (
        name!(check_name, String),
        name!(unit, String),
        name!(warning, f64),
        name!(critical, f64),
        name!(action, String),
        name!(actions, Vec<String>),
    ),
> {
    TableIterator::new(Check::ALL.into_iter().map(|c| {
        let (warning, critical) = c.default_levels();
        let actions: Vec<String> = c.actions().iter().map(|a| a.as_str().to_owned()).collect();
        (
            c.name().to_owned(),
            c.unit().to_owned(),
            warning,
            critical,
            actions[0].clone(),
            actions,
        )
    }))
}

/// Λ needed to fail (99%) and to pass (95%); the sample ratio fails at p < 0.001.
const FAIL_AT: f64 = 100.0;
const PASS_AT: f64 = 20.0;
const SAMPLE_RATIO_FAIL_AT: f64 = 1000.0;
/// A sample ratio passes when the unified share of buckets is shown within this fraction of the
/// expected share (25% ± 5 points).
const SAMPLE_RATIO_TOLERANCE: f64 = 0.2;

/// ln Λ of a normal estimate's distance from 0 (`distance`, variance `variance`) against the
/// nearer of the alternatives ±`tolerance`: evidence that the truth lies within the tolerance.
fn within_tolerance(distance: f64, variance: f64, tolerance: f64) -> Option<f64> {
    (variance > 0.0 && variance.is_finite() && tolerance > 0.0 && distance.is_finite())
        .then(|| (tolerance * tolerance - 2.0 * distance * tolerance) / (2.0 * variance))
}

/// ln Λ of Robbins' normal mixture (prior spread `tau`) for an estimate of a quantity whose
/// truth under test is 0, with its variance there; None when there is nothing to test.
fn normal_mixture(estimate: f64, variance: f64, tau: f64) -> Option<f64> {
    let (v, t2) = (variance, tau * tau);
    (v > 0.0 && v.is_finite() && estimate.is_finite() && tau > 0.0 && tau.is_finite())
        .then(|| 0.5 * (v / (v + t2)).ln() + t2 * estimate * estimate / (2.0 * v * (v + t2)))
}

/// The counts of one check (see the module's table).
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    x: Option<f64>,
    n: Option<f64>,
    x2: Option<f64>,
    n2: Option<f64>,
    above: Option<f64>,
}

/// The unified share an alternative puts the truth at, as a multiple of the bar: a fail weighs
/// shares above the bar, a pass shares below it, each alternative alike.
const ABOVE: [f64; 11] = [1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 20.0, 50.0, 100.0];
const BELOW: [f64; 6] = [0.8, 0.6, 0.4, 0.25, 0.1, 0.02];
/// The z of the 99% bound put on legacy's side of a comparison (its own estimate's spread).
const LEGACY_Z: f64 = 2.576;

/// ln Λ of x events in n trials against a rate `bar`: the mean of the exact binomial likelihood
/// ratios of the alternatives `bar × ratio` (those below 1). A nonnegative martingale while the
/// rate is at the bar, so Ville's inequality bounds the chance it ever reaches 1/α by α.
fn binomial_mixture(x: f64, n: f64, bar: f64, ratios: &[f64]) -> Option<f64> {
    if !(bar > 0.0 && bar < 1.0 && n > 0.0 && x >= 0.0 && x <= n) {
        return None;
    }
    let terms: Vec<f64> = ratios
        .iter()
        .map(|r| bar * r)
        .filter(|p| *p > 0.0 && *p < 0.999)
        .map(|p| x * (p / bar).ln() + (n - x) * ((1.0 - p) / (1.0 - bar)).ln())
        .collect();
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return None;
    }
    let sum: f64 = terms.iter().map(|t| (t - top).exp()).sum();
    Some(top + (sum / terms.len() as f64).ln())
}

/// A check's test: a binomial count against a bar it must not be above (fail) and one it must
/// be shown below (pass) — the same bar, or for a comparison with legacy, the bar moved by
/// legacy's own uncertainty against the verdict — or the normal mixture of the sample ratio.
enum Test {
    Binomial {
        x: f64,
        n: f64,
        fail_bar: f64,
        pass_bar: f64,
        /// What operators read as the estimate (for a comparison, the difference).
        estimate: f64,
        /// Where the statistic is measured from.
        center: f64,
    },
    Normal {
        estimate: f64,
        variance: f64,
        tau: f64,
        /// How far from the expected share is still a sound split (pass).
        tolerance: f64,
    },
    Nothing,
}

/// The test of a check from its counts, or None for a check it does not know.
fn test_of(check: &str, critical: Option<f64>, c: Counts) -> Option<Test> {
    let share = critical.map(|v| v / 100.0).unwrap_or(f64::NAN);
    let n = c.n.filter(|n| *n > 0.0);
    let n2 = c.n2.filter(|n| *n > 0.0);
    let one = |x: Option<f64>, bar: f64| match (n, x) {
        (Some(n), Some(x)) => Test::Binomial {
            x,
            n,
            fail_bar: bar,
            pass_bar: bar,
            estimate: x / n,
            center: bar,
        },
        _ => Test::Nothing,
    };
    Some(match Check::from_name(check)? {
        Check::ErrorRate | Check::SessionBreaks => one(c.x, share),
        Check::P95Latency => one(c.above, 0.05),
        Check::ErrorRateVsLegacy => match (n, c.x, n2, c.x2) {
            (Some(n), Some(x), Some(n2), Some(x2)) => {
                // Legacy's rate, half an error added so that none is not taken for certainty.
                let legacy = (x2 + 0.5) / (n2 + 1.0);
                let spread = LEGACY_Z * (legacy * (1.0 - legacy) / n2).sqrt();
                Test::Binomial {
                    x,
                    n,
                    fail_bar: legacy + spread + share,
                    pass_bar: (legacy - spread).max(0.0) + share,
                    estimate: x / n - x2 / n2,
                    center: legacy + share,
                }
            }
            _ => Test::Nothing,
        },
        Check::P95VsLegacy => match (n, c.above, n2) {
            (Some(n), Some(above), Some(n2)) => {
                // Legacy's p95 is itself estimated: its coverage spreads by √(0.05·0.95/n2).
                let spread = LEGACY_Z * (0.05 * 0.95 / n2).sqrt();
                Test::Binomial {
                    x: above,
                    n,
                    fail_bar: 0.05 + spread,
                    pass_bar: (0.05 - spread).max(0.005),
                    estimate: above / n,
                    center: 0.05,
                }
            }
            _ => Test::Nothing,
        },
        Check::SampleRatio => match (n, c.x, c.x2, c.n2) {
            // x unified buckets of n, x2 expected, n2 the variance of the unified count.
            (Some(n), Some(x), Some(e), Some(v)) if v > 0.0 => Test::Normal {
                estimate: (x - e).abs() / n,
                variance: v / (n * n),
                tau: 0.1 * (v / n).sqrt(),
                tolerance: SAMPLE_RATIO_TOLERANCE * e / n,
            },
            _ => Test::Nothing,
        },
    })
}

/// (verdict, estimate, statistic, confidence) of a check: its test and its minimum.
#[allow(clippy::type_complexity)]
fn judge(
    check: &str,
    critical: Option<f64>,
    min_samples: i64,
    samples: i64,
    c: Counts,
) -> Option<(Verdict, Option<f64>, Option<f64>, Option<f64>)> {
    let (verdict, estimate, statistic, confidence) = match test_of(check, critical, c)? {
        Test::Nothing => (Verdict::Inconclusive, None, None, None),
        Test::Normal {
            estimate,
            variance,
            tau,
            tolerance,
        } => {
            // The estimate is a distance (two-sided): a fail is evidence of a skew, a pass
            // evidence of being within the tolerance; the confidence is that of the verdict's
            // side (for an inconclusive one, the skew's).
            let log_lr = normal_mixture(estimate, variance, tau);
            let sound = within_tolerance(estimate, variance, tolerance);
            let verdict =
                if estimate > 0.0 && log_lr.is_some_and(|l| l >= SAMPLE_RATIO_FAIL_AT.ln()) {
                    Verdict::Fail
                } else if sound.is_some_and(|l| l >= PASS_AT.ln()) {
                    Verdict::Pass
                } else {
                    Verdict::Inconclusive
                };
            let statistic = log_lr.map(|_| estimate / variance.sqrt());
            let side = if verdict == Verdict::Pass {
                sound
            } else {
                log_lr
            };
            let confidence = side.map(|l| 1.0 - (-l.max(0.0)).exp());
            (verdict, Some(estimate), statistic, confidence)
        }
        Test::Binomial {
            x,
            n,
            fail_bar,
            pass_bar,
            estimate,
            center,
        } => {
            let rate = x / n;
            let fail = binomial_mixture(x, n, fail_bar, &ABOVE).filter(|_| rate > fail_bar);
            let pass = binomial_mixture(x, n, pass_bar, &BELOW).filter(|_| rate < pass_bar);
            let verdict = if fail.is_some_and(|l| l >= FAIL_AT.ln()) {
                Verdict::Fail
            } else if pass.is_some_and(|l| l >= PASS_AT.ln()) {
                Verdict::Pass
            } else {
                Verdict::Inconclusive
            };
            let log_lr = if rate > center { fail } else { pass };
            let spread = (center * (1.0 - center) / n).sqrt();
            let statistic = (spread > 0.0).then(|| (rate - center) / spread);
            let confidence = log_lr.map(|l| 1.0 - (-l.max(0.0)).exp()).or(Some(0.0));
            (verdict, Some(estimate), statistic, confidence)
        }
    };
    let verdict = match (Check::from_name(check), verdict) {
        (Some(Check::SampleRatio), _) if samples < min_samples => Verdict::Inconclusive,
        (_, Verdict::Pass) if samples < min_samples => Verdict::Inconclusive,
        (_, v) => v,
    };
    Some((verdict, estimate, statistic, confidence))
}

/// The verdict of one check from its counts, as check_routing_health and the simulation harness
/// (tests/node/verdicts.mjs) read it. See the module's table for what each check's counts are.
#[pg_extern(immutable, parallel_safe)]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn webhook_routing_judge(
    check_name: Option<&str>,
    critical: Option<f64>,
    min_samples: Option<i32>,
    samples: Option<i64>,
    x: Option<f64>,
    n: Option<f64>,
    x2: Option<f64>,
    n2: Option<f64>,
    above: Option<f64>,
) -> TableIterator<
    'static,
    (
        name!(verdict, String),
        name!(estimate, Option<f64>),
        name!(statistic, Option<f64>),
        name!(confidence, Option<f64>),
    ),
> {
    let Some(check_name) = check_name else {
        Refusal::null("check_name")
            .hint("Name the check, e.g. 'error_rate_vs_legacy'.")
            .raise()
    };
    let counts = Counts {
        x,
        n,
        x2,
        n2,
        above,
    };
    let Some((verdict, estimate, statistic, confidence)) = judge(
        check_name,
        critical,
        i64::from(min_samples.unwrap_or(1)),
        samples.unwrap_or(0),
        counts,
    ) else {
        Refusal::invalid(format!("unknown health check \"{check_name}\""))
            .hint(format!("check_name is {}.", check_names()))
            .raise()
    };
    TableIterator::once((verdict.as_str().to_owned(), estimate, statistic, confidence))
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;

    /// The checks' catalogue: each check once, in the enum's order, named back to itself, its
    /// default action one it may take; and the tables SQL made from it hold the same.
    #[pg_test]
    fn the_catalogue_of_checks_is_the_enum() {
        for (i, c) in Check::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i, "{} is out of place in Check::ALL", c.name());
            assert_eq!(Check::from_name(c.name()), Some(*c));
            assert!(!c.actions().is_empty());
            let (warning, critical) = c.default_levels();
            assert!(0.0 <= warning && warning <= critical, "{}", c.name());
        }
        assert_eq!(Check::from_name("p99_latency"), None);
        let names = Spi::get_one::<Vec<String>>(
            "SELECT array_agg(check_name::text ORDER BY check_name) FROM webhook_routing_health_checks",
        )
        .unwrap()
        .unwrap();
        let mut rust: Vec<&str> = Check::ALL.iter().map(|c| c.name()).collect();
        rust.sort_unstable();
        assert_eq!(names, rust);
        let pairs =
            Spi::get_one::<i64>("SELECT count(*) FROM webhook_routing_health_check_actions")
                .unwrap()
                .unwrap();
        let rust_pairs: usize = Check::ALL.iter().map(|c| c.actions().len()).sum();
        assert_eq!(pairs, rust_pairs as i64);
        // The default thresholds are the catalogue's levels and actions.
        let defaults = Spi::get_one::<i64>(
            "SELECT count(*) FROM webhook_routing_thresholds AS t \
             JOIN webhook_routing_health_checks AS c USING (check_name) \
             WHERE t.domain IS NULL AND t.seeded AND t.warning = c.warning \
               AND t.critical = c.critical AND t.action = c.action",
        )
        .unwrap()
        .unwrap();
        assert_eq!(defaults, Check::ALL.len() as i64);
    }

    fn set(buckets: impl IntoIterator<Item = usize>) -> Vec<u8> {
        let mut bits = vec![0u8; BUCKET_BYTES];
        for b in buckets {
            bits[b / 8] |= 1 << (b % 8);
        }
        bits
    }

    /// The rows a sound split writes for `buckets` at `percent`.
    fn split(percent: usize, buckets: &[usize]) -> [(f64, bool, Vec<u8>); 2] {
        let cut = percent * 100;
        [
            (
                percent as f64 / 100.0,
                true,
                set(buckets.iter().copied().filter(|b| *b < cut)),
            ),
            (
                percent as f64 / 100.0,
                false,
                set(buckets.iter().copied().filter(|b| *b >= cut)),
            ),
        ]
    }

    fn ratio(rows: &[(f64, bool, Vec<u8>)]) -> Ratio {
        count(
            rows.iter()
                .map(|(s, u, b)| (Some(*s), Some(*u), Some(b.as_slice()))),
        )
    }

    fn counts(x: f64, n: f64, x2: Option<f64>, n2: Option<f64>, above: Option<f64>) -> Counts {
        Counts {
            x: Some(x),
            n: Some(n),
            x2,
            n2,
            above,
        }
    }

    /// Every verdict of every check, and where the evidence is not enough.
    #[pg_test]
    fn every_check_passes_fails_and_waits() {
        use Verdict::*;
        let none = None;
        #[rustfmt::skip]
        let cases: &[(&str, f64, i64, Counts, Verdict)] = &[
            // error_rate against 0.5%: 2% of 1,000 fails; 0 of 2,000 passes; 0 of 500, 1 of 100,
            // and 0.5% itself are not enough either way.
            ("error_rate", 0.5, 1000, counts(20.0, 1000.0, none, none, none), Fail),
            ("error_rate", 0.5, 2000, counts(0.0, 2000.0, none, none, none), Pass),
            ("error_rate", 0.5, 500, counts(0.0, 500.0, none, none, none), Inconclusive),
            ("error_rate", 0.5, 100, counts(1.0, 100.0, none, none, none), Inconclusive),
            ("error_rate", 0.5, 4000, counts(20.0, 4000.0, none, none, none), Inconclusive),
            // a fail needs no minimum of samples: 8 errors in 20 requests
            ("error_rate", 0.5, 20, counts(8.0, 20.0, none, none, none), Fail),
            ("session_breaks", 0.5, 3000, counts(0.0, 3000.0, none, none, none), Pass),
            ("session_breaks", 0.5, 400, counts(20.0, 400.0, none, none, none), Fail),
            // unified against legacy (points)
            ("error_rate_vs_legacy", 0.5, 3000, counts(3.0, 3000.0, Some(30.0), Some(30000.0), none), Pass),
            ("error_rate_vs_legacy", 0.5, 3000, counts(60.0, 4000.0, Some(90.0), Some(30000.0), none), Fail),
            ("error_rate_vs_legacy", 0.5, 200, counts(2.0, 200.0, Some(9.0), Some(3000.0), none), Inconclusive),
            // no legacy outcome: nothing to compare with
            ("error_rate_vs_legacy", 0.5, 0, counts(0.0, 3000.0, Some(0.0), Some(0.0), none), Inconclusive),
            // latency: the share of requests slower than the bar against 5%
            ("p95_latency", 3000.0, 1000, counts(0.0, 1000.0, none, none, Some(5.0)), Pass),
            ("p95_latency", 3000.0, 1000, counts(0.0, 1000.0, none, none, Some(120.0)), Fail),
            ("p95_latency", 3000.0, 1000, counts(0.0, 1000.0, none, none, Some(50.0)), Inconclusive),
            ("p95_vs_legacy", 1.5, 1000, counts(0.0, 1000.0, none, Some(9000.0), Some(3.0)), Pass),
            ("p95_vs_legacy", 1.5, 1000, counts(0.0, 1000.0, none, Some(9000.0), Some(150.0)), Fail),
            ("p95_vs_legacy", 1.5, 0, counts(0.0, 1000.0, none, None, Some(3.0)), Inconclusive),
            // sample ratio: 1,000 unified buckets of 10,000 at 10% is sound; 800 is not; below
            // the minimum per side nothing is said; 110 of 1,000 is neither shown sound nor
            // skewed: no pass without evidence
            ("sample_ratio", 0.0, 1000, counts(1000.0, 10000.0, Some(1000.0), Some(900.0), none), Pass),
            ("sample_ratio", 0.0, 110, counts(110.0, 1000.0, Some(100.0), Some(90.0), none), Inconclusive),
            ("sample_ratio", 0.0, 800, counts(800.0, 10000.0, Some(1000.0), Some(900.0), none), Fail),
            ("sample_ratio", 0.0, 1200, counts(1200.0, 10000.0, Some(1000.0), Some(900.0), none), Fail),
            ("sample_ratio", 0.0, 50, counts(50.0, 1000.0, Some(100.0), Some(90.0), none), Inconclusive),
        ];
        for (check, critical, samples, c, expected) in cases {
            let (verdict, estimate, statistic, confidence) =
                judge(check, Some(*critical), 100, *samples, *c).unwrap();
            assert_eq!(
                verdict, *expected,
                "{check} {critical} {samples}: {estimate:?} {statistic:?} {confidence:?}"
            );
            if verdict != Inconclusive {
                let confidence = confidence.unwrap();
                assert!(confidence >= 0.95, "{check}: {confidence}");
            }
        }
        assert!(judge("p99_latency", Some(1.0), 100, 100, Counts::default()).is_none());
        // Nothing to read is inconclusive with no statistic.
        assert_eq!(
            judge("error_rate", Some(0.5), 100, 0, Counts::default()),
            Some((Inconclusive, None, None, None))
        );
    }

    /// xorshift64*, for the simulations below: deterministic.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Read after every 20 requests up to 20,000, the test of a handler exactly at the bar fails
    /// in at most 1% of runs and passes in at most 5%: peeking does not inflate them.
    #[pg_test]
    fn peeking_at_the_bar_keeps_the_error_rates() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let runs = 400;
        let (mut fails, mut passes) = (0, 0);
        for _ in 0..runs {
            let (mut x, mut n) = (0.0, 0.0);
            let mut ended = None;
            for i in 1..=20_000 {
                n += 1.0;
                if rng.next() < 0.005 {
                    x += 1.0;
                }
                if i % 20 == 0 {
                    let (v, ..) = judge(
                        "error_rate",
                        Some(0.5),
                        100,
                        n as i64,
                        counts(x, n, None, None, None),
                    )
                    .unwrap();
                    if v != Verdict::Inconclusive {
                        ended = Some(v);
                        break;
                    }
                }
            }
            match ended {
                Some(Verdict::Fail) => fails += 1,
                Some(Verdict::Pass) => passes += 1,
                _ => {}
            }
        }
        assert!(fails * 100 <= runs, "{fails} of {runs} failed at the bar");
        assert!(
            passes * 100 <= 5 * runs,
            "{passes} of {runs} passed at the bar"
        );
    }

    #[pg_test]
    fn a_raise_inside_the_window_counts_each_bucket_once() {
        // Every bucket, seen at 10% and again at 25%: at 10%, 1,000 of 10,000 are unified.
        let all: Vec<usize> = (0..10_000).collect();
        let mut rows = split(10, &all).to_vec();
        rows.extend(split(25, &all));
        let r = ratio(&rows);
        assert_eq!((r.buckets, r.unified), (10_000, 1_000));
        assert!((r.expected - 1_000.0).abs() < 1e-6, "{r:?}");
        // Half the buckets seen at 10%, then all of them at 25%: the other half counts at 25%.
        let mut rows = split(10, &all[..5_000]).to_vec();
        rows.extend(split(25, &all));
        let r = ratio(&rows);
        assert_eq!(r.buckets, 10_000);
        // 0–999 unified at 10%; 5,000–9,999 first seen at 25%, none of them below 2,500.
        assert_eq!(r.unified, 1_000);
        assert!((r.expected - (500.0 + 1_250.0)).abs() < 1e-6, "{r:?}");
        assert!((r.variance - (5_000.0 * 0.09 + 5_000.0 * 0.1875)).abs() < 1e-6);
    }

    #[pg_test]
    fn skewed_and_odd_rows() {
        // Callers that drop the unified answers of half the senders: fewer unified than expected.
        let all: Vec<usize> = (0..10_000).collect();
        let mut rows = split(50, &all).to_vec();
        rows[0].2 = set(0..2_500);
        let r = ratio(&rows);
        assert_eq!((r.buckets, r.unified), (7_500, 2_500));
        assert!((r.expected - 3_750.0).abs() < 1e-6);
        // A bucket on both sides at one percentage is seen, not counted; NULLs and shares out
        // of range are skipped.
        let rows = [
            (Some(0.5), Some(true), Some(set([1, 2]))),
            (Some(0.5), Some(false), Some(set([2, 9_000]))),
            (None, Some(true), Some(set([3]))),
            (Some(1.5), Some(true), Some(set([4]))),
            (Some(0.5), None, Some(set([5]))),
        ];
        let r = count(rows.iter().map(|(s, u, b)| (*s, *u, b.as_deref())));
        assert_eq!((r.buckets, r.unified), (2, 1));
        assert_eq!(count(std::iter::empty()), Ratio::default());
        // Through SQL, arrays of unequal lengths read up to the shortest.
        let got = Spi::get_one::<Vec<f64>>(
            "SELECT webhook_routing_sample_ratio(ARRAY[0.1, 0.1], ARRAY[true], \
                 ARRAY[NULL::bytea, NULL::bytea])",
        )
        .unwrap()
        .unwrap();
        assert_eq!(got, vec![0.0, 0.0, 0.0, 0.0]);
    }
}

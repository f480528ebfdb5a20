// The verdict harness: thousands of simulated rollout steps per scenario, judged by the
// extension's own functions (webhook_routing_judge, the test every check of
// check_routing_health runs, and webhook_routing_sample_ratio, the sample-ratio count), side by
// side with the runbook's fixed rules as 0.2.0's check_routing_health and advance_rollouts
// applied them (replayed here, in `fixedRules`).
//
// A simulated step: requests arrive as a Poisson process (unified at the step's share),
// each an error with its target's rate, with a latency from a log-normal (median 800 ms, p95
// 1,700 ms for legacy; unified's scaled by its factor). advance_rollouts looks every minute of
// the hold and every 15 minutes after it, up to the max hold, each time over the step's window
// so far, as it does. Latencies are not drawn one by one: what the checks read of them is,
//   - legacy's p95, through the share of its requests above its true p95 (the sample p95's
//     coverage follows it, Bahadur's representation),
//   - the unified requests in the slowest 20% of unified's distribution, each with its
//     position there, so that the count above any bar (the p95 bar, 1.5 × legacy's p95) is
//     exact for the draw and consistent from one look to the next.
// The sketches' 0.3% relative error is left out, and so are legacy's own checks (which hold a
// plan when legacy fails): legacy is healthy in every scenario.
//
// A plan is 5 → 10 → 25 → 50 → 100%, each step held 4 h, max hold 48 h. The PRNG is seeded:
// a run is reproducible to the digit.
//
// node tests/node/verdicts.mjs [--runs N] [--srm-windows N] [--assert] (PGPORT: a cluster with
// the extension installable; bench/verdicts starts one).
import { connect } from './common.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RUNS = option('--runs', 1000);
const SRM_WINDOWS = option('--srm-windows', 5000);
const ASSERT = args.includes('--assert');

// mulberry32
let seed = 20261202;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function gauss() {
  const u = Math.max(random(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
function poisson(lambda) {
  if (lambda <= 0) return 0;
  if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gauss()));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k += 1;
    p *= random();
  }
  return k;
}

// The standard normal: Φ and its inverse (Acklam), for the log-normal latencies.
function phi(x) {
  // Abramowitz-Stegun 7.1.26 on erf
  const t = 1 / (1 + 0.3275911 * Math.abs(x) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}
function phiInverse(p) {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -phiInverse(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
const MEDIAN = 800;
const SIGMA = Math.log(1700 / 800) / 1.6449;
const quantile = (p, factor) => factor * MEDIAN * Math.exp(SIGMA * phiInverse(p));
const survival = (ms, factor) => 1 - phi(Math.log(ms / (factor * MEDIAN)) / SIGMA);

const THRESHOLDS = {
  error_rate: { warning: 0.1, critical: 0.5 },
  p95_latency: { warning: 2000, critical: 3000 },
  error_rate_vs_legacy: { warning: 0.1, critical: 0.5 },
  p95_vs_legacy: { warning: 1.25, critical: 1.5 },
};
const MIN_SAMPLES = 100;
const HOLD = 240;
const MAX_HOLD = 48 * 60;
const STEPS = [5, 10, 25, 50, 100];
const SLOW_SHARE = 0.3;

// Unified's slowest requests, by their position in its distribution (the survival probability
// of their latency, below SLOW_SHARE): counts below a position, exact, in O(bins).
const BINS = 2000;
class Slow {
  constructor() {
    this.bins = Array.from({ length: BINS }, () => []);
    this.total = 0;
  }
  add(u) {
    this.bins[Math.min(BINS - 1, Math.floor((u / SLOW_SHARE) * BINS))].push(u);
    this.total += 1;
  }
  below(u) {
    if (u >= SLOW_SHARE) return null;
    const bin = Math.floor((u / SLOW_SHARE) * BINS);
    let k = 0;
    for (let b = 0; b < bin; b++) k += this.bins[b].length;
    for (const v of this.bins[bin]) k += v < u ? 1 : 0;
    return k;
  }
  // The position of the rank-th slowest request (1-based), or null if it is not among them.
  at(rank) {
    let k = 0;
    for (const bin of this.bins) {
      if (k + bin.length >= rank) return [...bin].sort((a, b) => a - b)[rank - k - 1];
      k += bin.length;
    }
    return null;
  }
}

// One step of a scenario, minute by minute: the cumulative counts each look reads.
class Step {
  constructor(scenario, percent) {
    this.scenario = scenario;
    this.q = percent / 100;
    this.minute = 0;
    this.nu = 0;
    this.xu = 0;
    this.nl = 0;
    this.xl = 0;
    this.legacyAbove = 0;
    this.slow = new Slow();
  }
  // The looks of the minutes up to `until`: every minute of the hold, every 15 minutes after.
  run(until) {
    const { scenario, q } = this;
    const perMinute = scenario.traffic / 60;
    const looks = [];
    while (this.minute < until) {
      this.minute += 1;
      const eu = poisson(perMinute * q * scenario.unifiedErrors);
      const ou = poisson(perMinute * q * (1 - scenario.unifiedErrors));
      const el = poisson(perMinute * (1 - q) * scenario.legacyErrors);
      const ol = poisson(perMinute * (1 - q) * (1 - scenario.legacyErrors));
      this.nu += eu + ou;
      this.xu += eu;
      this.nl += el + ol;
      this.xl += el;
      // Of the legacy requests just drawn, those above legacy's true p95.
      this.legacyAbove += binomial(el + ol, 0.05);
      const slow = binomial(eu + ou, SLOW_SHARE);
      for (let i = 0; i < slow; i++) this.slow.add(random() * SLOW_SHARE);
      if (this.minute <= HOLD || this.minute % 15 === 0) looks.push(this.look());
    }
    return looks;
  }
  look() {
    const { nu, xu, nl, xl, scenario } = this;
    // Legacy's sample p95: the quantile whose coverage is what the sample shows at the true one.
    const legacyP95 = nl > 0 ? quantile(Math.min(0.999, Math.max(0.5, 0.95 + this.legacyAbove / nl - 0.05)), 1) : null;
    const absAbove = this.slow.below(survival(THRESHOLDS.p95_latency.critical, scenario.latencyFactor));
    const relAbove = legacyP95 === null ? null : this.slow.below(survival(THRESHOLDS.p95_vs_legacy.critical * legacyP95, scenario.latencyFactor));
    // Unified's sample p95 (the fixed rules read it): the latency at the 5% rank from the top.
    let unifiedP95 = null;
    if (nu > 0) {
      const u = this.slow.at(Math.max(1, Math.round(0.05 * nu)));
      unifiedP95 = quantile(1 - (u ?? SLOW_SHARE), scenario.latencyFactor);
    }
    return { minute: this.minute, nu, xu, nl, xl, absAbove: absAbove ?? nu, relAbove: relAbove ?? (legacyP95 === null ? null : nu), legacyP95, unifiedP95 };
  }
}
function binomial(n, p) {
  if (n < 40) {
    let k = 0;
    for (let i = 0; i < n; i++) k += random() < p ? 1 : 0;
    return k;
  }
  const mean = n * p;
  if (mean < 30) return Math.min(n, poisson(mean));
  return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * gauss())));
}

// The extension's verdicts for every look of a step, one round trip.
async function judge(sql, looks) {
  const rows = [];
  for (const [i, l] of looks.entries()) {
    rows.push([i, 'error_rate', Math.min(l.nu, 2 ** 53), l.xu, l.nu, null, null, null]);
    rows.push([i, 'error_rate_vs_legacy', Math.min(l.nu, l.nl), l.xu, l.nu, l.xl, l.nl, null]);
    rows.push([i, 'p95_latency', l.nu, null, l.nu, null, null, l.absAbove]);
    rows.push([i, 'p95_vs_legacy', Math.min(l.nu, l.nl), null, l.nu, null, l.nl, l.relAbove]);
  }
  const col = (k) => rows.map((r) => r[k]);
  const result = await sql`
    SELECT r.look, r.check_name, j.verdict
    FROM unnest(${col(0)}::int[], ${col(1)}::text[], ${col(2)}::bigint[], ${col(3)}::float8[],
                ${col(4)}::float8[], ${col(5)}::float8[], ${col(6)}::float8[], ${col(7)}::float8[])
         AS r(look, check_name, samples, x, n, x2, n2, above)
    CROSS JOIN LATERAL webhook_routing_judge(
        r.check_name, (SELECT critical::float8 FROM webhook_routing_thresholds
                       WHERE domain IS NULL AND check_name = r.check_name),
        ${MIN_SAMPLES}, r.samples, r.x, r.n, r.x2, r.n2, r.above) AS j`;
  const verdicts = looks.map(() => ({}));
  for (const r of result) verdicts[r.look][r.check_name] = r.verdict;
  return verdicts;
}

// advance_rollouts on the verdicts of one look: what it does (sql/rollouts.sql).
function sequentialRules(look, v, percent) {
  if (v.error_rate === 'fail' || v.error_rate_vs_legacy === 'fail') return 'rollback';
  if (v.p95_latency === 'fail' || v.p95_vs_legacy === 'fail') return 'rollback';
  if (look.minute < HOLD) return 'wait';
  const control = look.nl >= MIN_SAMPLES;
  const gates = control ? ['error_rate_vs_legacy', 'p95_vs_legacy'] : ['error_rate', 'p95_latency'];
  if (gates.every((g) => v[g] === 'pass')) return 'advance';
  return look.minute >= MAX_HOLD ? 'inconclusive' : 'wait';
}

// The fixed rules of 0.2.0: insufficient data below 100 samples; critical above the critical
// level (error rate → 0%, the others one step back); a warning anywhere (legacy too) holds.
function fixedRules(look) {
  const T = THRESHOLDS;
  const status = (value, t, samples) => {
    if (value === null || samples < MIN_SAMPLES) return 'insufficient';
    if (value > t.critical) return 'critical';
    if (value > t.warning) return 'warning';
    return 'ok';
  };
  const errU = look.nu > 0 ? (100 * look.xu) / look.nu : null;
  const errL = look.nl > 0 ? (100 * look.xl) / look.nl : null;
  const checks = {
    error_rate: status(errU, T.error_rate, look.nu),
    p95_latency: status(look.unifiedP95, T.p95_latency, look.nu),
    legacy_error_rate: status(errL, T.error_rate, look.nl),
    legacy_p95: status(look.legacyP95, T.p95_latency, look.nl),
    error_rate_vs_legacy: status(errU !== null && errL !== null ? errU - errL : null, T.error_rate_vs_legacy, Math.min(look.nu, look.nl)),
    p95_vs_legacy: status(look.unifiedP95 && look.legacyP95 ? look.unifiedP95 / look.legacyP95 : null, T.p95_vs_legacy, Math.min(look.nu, look.nl)),
  };
  if (checks.error_rate === 'critical') return 'rollback';
  if (['p95_latency', 'error_rate_vs_legacy', 'p95_vs_legacy'].some((c) => checks[c] === 'critical')) return 'rollback';
  if (checks.error_rate === 'insufficient' || checks.p95_latency === 'insufficient' || look.minute < HOLD) return 'wait';
  if (Object.values(checks).some((s) => s === 'warning' || s === 'critical')) return 'hold';
  return 'advance';
}

// A step, looked at chunk by chunk until both rule sets have acted (or the max hold is over):
// what each did first.
const CHUNKS = [HOLD, 720, MAX_HOLD];
async function runStep(sql, scenario, percent, which) {
  const step = new Step(scenario, percent);
  const done = {};
  for (const until of CHUNKS) {
    const looks = step.run(until);
    const verdicts = which.includes('sequential') && !done.sequential ? await judge(sql, looks) : null;
    for (const rules of which) {
      if (done[rules]) continue;
      for (const [i, look] of looks.entries()) {
        const d = rules === 'sequential' ? sequentialRules(look, verdicts[i], percent) : fixedRules(look);
        if (d === 'rollback' || d === 'advance') {
          done[rules] = { action: d, minute: look.minute, samples: look.nu };
          break;
        }
      }
    }
    if (which.every((r) => done[r])) break;
  }
  for (const rules of which) {
    if (!done[rules]) done[rules] = { action: 'stuck', minute: step.minute, samples: step.nu };
  }
  return done;
}

async function plans(sql, scenario, runs) {
  const tally = { sequential: newTally(), fixed: newTally() };
  for (let run = 0; run < runs; run++) {
    let which = ['sequential', 'fixed'];
    for (const [k, percent] of STEPS.entries()) {
      if (which.length === 0) break;
      // The same traffic for both rule sets, step by step, as long as either is still at it.
      const done = await runStep(sql, scenario, percent, which);
      for (const rules of which) {
        const o = done[rules];
        const t = tally[rules];
        t.steps += 1;
        if (o.action === 'rollback') {
          t.rollbacks += 1;
          if (k === 0 && o.minute <= HOLD) t.firstHoldRollbacks += 1;
          t.samplesToRollback.push(o.samples);
        } else if (o.action === 'stuck') {
          t.stuck += 1;
        } else {
          t.advanced += 1;
          t.stepMinutes.push(o.minute);
          if (k === STEPS.length - 1) t.completed += 1;
        }
      }
      which = which.filter((r) => done[r].action === 'advance');
    }
  }
  return tally;
}
function newTally() {
  return { steps: 0, rollbacks: 0, firstHoldRollbacks: 0, stuck: 0, advanced: 0, completed: 0, samplesToRollback: [], stepMinutes: [] };
}
const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const pct = (a, b) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);

// Sample ratio: windows of an hour of a sound split, some with a raise inside, senders with many
// messages each; the 0.2.0 count (distinct buckets per target against the mean percentage)
// beside the 0.6.0 one. And a broken caller that loses a share of the unified answers.
function srmWindow({ senders, messagesPerSender, from, to, lose = 0 }) {
  // Every sender has a bucket; its messages spread over the hour; the raise at a random minute.
  const raiseAt = from === to ? 61 : 1 + Math.floor(random() * 59);
  const levels = new Map();
  let shareSum = 0;
  let decisions = 0;
  const distinct = { unified: new Uint8Array(1250), legacy: new Uint8Array(1250) };
  for (let s = 0; s < senders; s++) {
    const bucket = Math.floor(random() * 10000);
    const count = 1 + poisson(messagesPerSender - 1);
    for (let m = 0; m < count; m++) {
      const minute = 1 + Math.floor(random() * 60);
      const percent = minute < raiseAt ? from : to;
      const unified = bucket < percent * 100;
      if (unified && lose > 0 && bucket % 100 < lose * 100) continue; // the answer never came back
      if (!levels.has(percent)) levels.set(percent, { first: minute, unified: new Uint8Array(1250), legacy: new Uint8Array(1250) });
      const level = levels.get(percent);
      level.first = Math.min(level.first, minute);
      const set = unified ? level.unified : level.legacy;
      set[bucket >> 3] |= 1 << (bucket & 7);
      const d = unified ? distinct.unified : distinct.legacy;
      d[bucket >> 3] |= 1 << (bucket & 7);
      shareSum += percent / 100;
      decisions += 1;
    }
  }
  const count = (bits) => bits.reduce((k, b) => k + popcount(b), 0);
  const u = count(distinct.unified);
  const n = u + count(distinct.legacy);
  const p = shareSum / decisions;
  const chiSquare = (u - p * n) ** 2 / (n * p * (1 - p));
  const ordered = [...levels.entries()].sort((a, b) => a[1].first - b[1].first);
  const rows = { shares: [], unified: [], buckets: [] };
  for (const [percent, level] of ordered) {
    for (const target of ['unified', 'legacy']) {
      rows.shares.push(percent / 100);
      rows.unified.push(target === 'unified');
      rows.buckets.push(Buffer.from(level[target]));
    }
  }
  return { fixedAlarm: chiSquare > 10.83 && Math.min(u, n - u) >= MIN_SAMPLES, rows };
}
function popcount(b) {
  let k = 0;
  while (b) {
    k += b & 1;
    b >>= 1;
  }
  return k;
}
const arrayLiteral = (items) => `{${items.join(',')}}`;
async function srm(sql, spec, windows) {
  let fixed = 0;
  let sequential = 0;
  for (let w = 0; w < windows; w++) {
    const { fixedAlarm, rows } = srmWindow(spec);
    fixed += fixedAlarm ? 1 : 0;
    const [r] = await sql`
      SELECT j.verdict
      FROM (SELECT x FROM (SELECT webhook_routing_sample_ratio(${rows.shares}::float8[], ${arrayLiteral(rows.unified.map((u) => (u ? 't' : 'f')))}::bool[],
                                                ${arrayLiteral(rows.buckets.map((b) => `"\\\\x${b.toString('hex')}"`))}::bytea[]) AS x) AS s) AS s
      CROSS JOIN LATERAL webhook_routing_judge('sample_ratio', NULL, ${MIN_SAMPLES}, least(s.x[2], s.x[1] - s.x[2])::bigint,
                                               s.x[2], s.x[1], s.x[3], s.x[4], NULL) AS j`;
    sequential += r.verdict === 'fail' ? 1 : 0;
  }
  return { windows, fixed, sequential };
}

const SCENARIOS = [
  { name: 'healthy, 0.1% errors both', traffic: 10000, unifiedErrors: 0.001, legacyErrors: 0.001, latencyFactor: 1, healthy: true },
  { name: 'healthy, 0.3% errors both', traffic: 10000, unifiedErrors: 0.003, legacyErrors: 0.003, latencyFactor: 1, healthy: true },
  { name: 'at the warning line (unified 0.1%, legacy 0.02%)', traffic: 10000, unifiedErrors: 0.001, legacyErrors: 0.0002, latencyFactor: 1, healthy: true },
  { name: 'healthy, 2,000 requests/h', traffic: 2000, unifiedErrors: 0.001, legacyErrors: 0.001, latencyFactor: 1, healthy: true },
  { name: '5x errors (1.5% vs 0.3%), 20,000 requests/h', traffic: 20000, unifiedErrors: 0.015, legacyErrors: 0.003, latencyFactor: 1, regression: true },
  { name: '5x errors (1.5% vs 0.3%)', traffic: 10000, unifiedErrors: 0.015, legacyErrors: 0.003, latencyFactor: 1 },
  { name: '5x errors, 2,000 requests/h', traffic: 2000, unifiedErrors: 0.015, legacyErrors: 0.003, latencyFactor: 1 },
  { name: '5x errors at the critical line (0.5% vs 0.1%)', traffic: 10000, unifiedErrors: 0.005, legacyErrors: 0.001, latencyFactor: 1 },
  { name: 'p95 +50%', traffic: 10000, unifiedErrors: 0.001, legacyErrors: 0.001, latencyFactor: 1.5 },
  { name: 'p95 +100%', traffic: 10000, unifiedErrors: 0.001, legacyErrors: 0.001, latencyFactor: 2 },
  { name: 'low traffic (40 unified requests per 4 h hold at 5%)', traffic: 200, unifiedErrors: 0.001, legacyErrors: 0.001, latencyFactor: 1, healthy: true },
  { name: 'no traffic', traffic: 0, unifiedErrors: 0.001, legacyErrors: 0.001, latencyFactor: 1, healthy: true },
];

const sql = connect('postgres');
await sql.unsafe('DROP DATABASE IF EXISTS wr_verdicts WITH (FORCE)');
await sql.unsafe('CREATE DATABASE wr_verdicts');
await sql.end();
const db = connect('wr_verdicts');
await db`CREATE EXTENSION webhook_routing`;

const failures = [];
let bars = 0;
const expect = (ok, what) => {
  bars += 1;
  if (!ok) failures.push(what);
};
console.log(`Rollout plans, ${RUNS} runs per scenario (5/10/25/50/100%, hold 4 h, max hold 48 h); 0.6.0's sequential verdicts | 0.2.0's fixed rules`);
console.log('scenario | steps | rolled back (% of steps) | rolled back in the first hold | unified samples to roll back (median, 99th percentile) | stuck (% of steps) | plans complete | median minutes per step');
for (const scenario of SCENARIOS) {
  const t = await plans(db, scenario, RUNS);
  const row = (x) => [x.steps, pct(x.rollbacks, x.steps), pct(x.firstHoldRollbacks, RUNS),
    x.samplesToRollback.length ? `${median(x.samplesToRollback)}, ${percentile(x.samplesToRollback, 0.99)}` : '-',
    pct(x.stuck, x.steps), pct(x.completed, RUNS), median(x.stepMinutes) ?? '-'];
  const s = row(t.sequential);
  const f = row(t.fixed);
  console.log(`${scenario.name} | ${s.map((v, i) => `${v} / ${f[i]}`).join(' | ')}`);
  if (scenario.healthy) {
    expect(t.sequential.rollbacks <= 0.01 * t.sequential.steps, `${scenario.name}: false rollbacks ${pct(t.sequential.rollbacks, t.sequential.steps)} of steps`);
  }
  if (scenario.healthy && scenario.traffic >= 2000) {
    expect(t.sequential.completed >= 0.95 * RUNS, `${scenario.name}: ${pct(t.sequential.completed, RUNS)} of plans complete`);
  }
  if (scenario.regression) {
    expect(t.sequential.firstHoldRollbacks >= 0.99 * RUNS, `${scenario.name}: rolled back in the first hold in ${pct(t.sequential.firstHoldRollbacks, RUNS)}`);
  }
  if (scenario.traffic === 0) {
    expect(t.sequential.rollbacks === 0 && t.sequential.advanced === 0, `${scenario.name}: a verdict without traffic`);
  }
}

console.log(`\nSample ratio, ${SRM_WINDOWS} one-hour windows per case: alarms, 0.6.0 | 0.2.0`);
const SRM_CASES = [
  { name: 'sound split at 10%, 3,000 senders, 1 message each', senders: 3000, messagesPerSender: 1, from: 10, to: 10 },
  { name: 'sound split at 10%, 3,000 senders, 8 messages each', senders: 3000, messagesPerSender: 8, from: 10, to: 10 },
  { name: 'sound split, 10% → 25% inside the window, 8 messages each', senders: 3000, messagesPerSender: 8, from: 10, to: 25 },
  { name: 'sound split, 25% → 50% inside the window, 8 messages each', senders: 3000, messagesPerSender: 8, from: 25, to: 50 },
  { name: 'broken caller at 25%: the unified answers of 20% of senders lost, 3,000 senders', senders: 3000, messagesPerSender: 4, from: 25, to: 25, lose: 0.2, broken: true },
  { name: 'the same, 10,000 senders', senders: 10000, messagesPerSender: 4, from: 25, to: 25, lose: 0.2, broken: true },
];
for (const spec of SRM_CASES) {
  const r = await srm(db, spec, SRM_WINDOWS);
  console.log(`${spec.name} | ${pct(r.sequential, r.windows)} | ${pct(r.fixed, r.windows)}`);
  if (!spec.broken) expect(r.sequential <= 0.001 * r.windows, `${spec.name}: ${pct(r.sequential, r.windows)} false alarms`);
  else expect(r.sequential >= 0.5 * r.windows, `${spec.name}: detected in ${pct(r.sequential, r.windows)}`);
}
await db.end();

if (ASSERT && failures.length > 0) {
  console.error(`\nFAILED:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
if (failures.length > 0) console.log(`\nBelow the bars:\n  ${failures.join('\n  ')}`);
console.log(`\nverdicts: ${bars - failures.length} of ${bars} bars met${ASSERT ? '' : ' (reported, not asserted)'}`);

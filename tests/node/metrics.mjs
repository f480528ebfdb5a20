// Metrics for Prometheus: routing_metrics() after real traffic, read through the example
// exporter (examples/metrics/exporter.ts, compiled by TypeScript, run under Node) as the reader
// role, and checked by Prometheus's own parser and linter (promtool check metrics; scripts/test
// passes its path in PROMTOOL). Then:
//   - every metric name the Grafana dashboard's queries use (examples/metrics) is in the output;
//   - the counters never go down across prune_routing_logs, with outcomes old enough to prune;
//   - the caller role may not scrape; the exporter refuses a scrape without its token.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Checks, connect, freshDatabase, jobsMessage, randomSender } from './common.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const DB = 'wr_metrics';
const PROMTOOL = process.env.PROMTOOL;
if (!PROMTOOL) {
  console.error('PROMTOOL is not set: run through scripts/test (scripts/lib.sh, ensure_promtool)');
  process.exit(2);
}
const checks = new Checks('metrics');
await freshDatabase(DB);
const owner = connect(DB);
await owner`SELECT start_rollout('marketplace', ARRAY[5, 10, 25], '4 hours', 'metrics test')`;

// Traffic: senders of jobs routed at 50% by route_decision as the caller role, their outcomes
// reported with latencies, one in ten an error, a few never reported.
const caller = connect(DB);
await caller`SET ROLE webhook_routing_caller`;
for (let i = 0; i < 200; i++) {
  const [d] = await caller`SELECT decision_id FROM route_decision(${caller.json(jobsMessage(randomSender()))})`;
  if (i % 50 === 49) continue;
  await caller`SELECT record_routing_outcome(${d.decision_id}, ${i % 10 === 0 ? 'error' : 'success'}, ${20 + (i % 37) * 11})`;
}
await caller.end();
// Outcomes of 40 days ago (an owner's backfill), which a prune at 30 days removes.
await owner`
  INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
  SELECT 'whatsapp', 'jobs', 'legacy', 'success', 300, now() - interval '40 days' FROM generate_series(1, 25)`;

// The exporter, as the reader role.
const out = mkdtempSync(join(tmpdir(), 'metrics-exporter-'));
execFileSync(here('node_modules/.bin/tsc'), [
  '--strict', '--target', 'es2022', '--module', 'es2022', '--moduleResolution', 'bundler',
  '--lib', 'es2022,dom', '--skipLibCheck', '--outDir', out, here('../../examples/metrics/exporter.ts'),
], { stdio: 'inherit' });
const { createExporter } = await import(pathToFileURL(join(out, 'exporter.js')).href);
const reader = connect(DB);
await reader`SET ROLE webhook_routing_reader`;
const exporter = createExporter({ sql: reader, token: 'scrape-token' });
async function scrape() {
  const res = await exporter(new Request('http://127.0.0.1/metrics', { headers: { authorization: 'Bearer scrape-token' } }));
  checks.expect(res.status === 200, `a scrape answers ${res.status}`);
  checks.expect(res.headers.get('content-type') === 'text/plain; version=0.0.4; charset=utf-8',
    `content type ${res.headers.get('content-type')}`);
  return res.text();
}

// Samples by name and labels: {"name{labels}": value}; and the names.
function samples(text) {
  const found = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/);
    checks.expect(m, `a sample line: ${line}`);
    if (m) found.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return found;
}

const first = await scrape();
const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: first, encoding: 'utf8' });
checks.expect(lint.status === 0, `promtool check metrics: status ${lint.status}: ${lint.stdout}${lint.stderr}`);
checks.expect(first.endsWith('\n'), 'the text ends with a newline');
const before = samples(first);
const names = new Set([...before.keys()].map((k) => k.replace(/\{.*$/, '')));
for (const family of ['webhook_routing_enabled', 'webhook_routing_domain_percentage', 'webhook_routing_rollout_step',
                      'webhook_routing_outcomes_total', 'webhook_routing_latency_seconds',
                      'webhook_routing_pending_decisions', 'webhook_routing_health_info']) {
  checks.expect(names.has(family), `${family} has samples`);
}
const count = (key) => before.get(key) ?? 0;
const outcomes = ['unified', 'legacy'].flatMap((t) => ['ok', 'error'].map((s) =>
  count(`webhook_routing_outcomes_total{domain="jobs",routed_to="${t}",status="${s}"}`)));
checks.expect(outcomes.reduce((a, b) => a + b, 0) === 196 + 25,
  `outcomes of jobs: ${outcomes} (196 reported now, 25 backfilled)`);
checks.expect(count('webhook_routing_pending_decisions{domain="jobs",routed_to="unified"}')
  + count('webhook_routing_pending_decisions{domain="jobs",routed_to="legacy"}') === 4, 'four decisions pending');
checks.expect(count('webhook_routing_rollout_step_percentage{domain="marketplace"}') === 5, 'the plan is at 5%');

// Decisions, counted in shared memory: scripts/test starts the client tests' server with the
// library preloaded (without it the family has no samples: tests/pg_regress/sql/22_metrics.sql).
// This database is new: its counts are the 200 decisions above, and only theirs.
const [preload] = await owner`SELECT current_setting('shared_preload_libraries') AS libs`;
checks.expect(/\bwebhook_routing\b/.test(preload.libs), `the server preloads webhook_routing: ${preload.libs}`);
const decided = [...before].filter(([k]) => k.startsWith('webhook_routing_decisions_total{'));
checks.expect(decided.reduce((a, [, v]) => a + v, 0) === 200,
  `decisions counted: ${JSON.stringify(decided)} (200 made)`);
for (const [key] of decided) {
  checks.expect(/^webhook_routing_decisions_total\{domain="jobs",routed_to="(unified|legacy)",reason="(in_rollout|not_in_rollout)"\}$/.test(key),
    `a decision series: ${key}`);
}
checks.expect(count('webhook_routing_decisions_uncounted_total') === 0 && names.has('webhook_routing_decisions_uncounted_total'),
  'no decision left uncounted');

// The dashboard's queries name only metrics the function writes.
const dashboard = JSON.parse(readFileSync(here('../../examples/metrics/grafana-dashboard.json'), 'utf8'));
const exprs = [];
const collect = (node) => {
  if (Array.isArray(node)) node.forEach(collect);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) if (k === 'expr' && typeof v === 'string') exprs.push(v); else collect(v);
  }
};
collect(dashboard);
const used = new Set(exprs.flatMap((e) => e.match(/\bwebhook_routing_[a-z0-9_]+/g) ?? []));
checks.expect(exprs.length >= 10 && used.size >= 10, `the dashboard's queries: ${exprs.length}, names ${used.size}`);
for (const name of used) checks.expect(names.has(name), `the dashboard uses ${name}, which routing_metrics() does not write`);

// Pruning never takes a counter down.
await owner.unsafe(`SET client_min_messages = warning`);
await owner`SELECT prune_routing_logs('30 days')`;
const [gone] = await owner`SELECT count(*)::int AS n FROM webhook_routing_sketches WHERE minute < now() - interval '30 days'`;
checks.expect(gone.n === 0, `sketches older than 30 days left: ${gone.n}`);
const after = samples(await scrape());
let counters = 0;
for (const [key, value] of before) {
  if (!/^webhook_routing_(outcomes_total|latency_seconds_sum|latency_seconds_count|decisions_total)\{/.test(key)) continue;
  counters++;
  checks.expect(after.get(key) >= value, `${key} went down across the prune: ${value} -> ${after.get(key)}`);
}
checks.expect(counters >= 6, `counters compared: ${counters}`);

// Who may not scrape.
const refused = await exporter(new Request('http://127.0.0.1/metrics'));
checks.expect(refused.status === 401, `a scrape without the token: ${refused.status}`);
const asCaller = connect(DB);
await asCaller`SET ROLE webhook_routing_caller`;
// (The exporter logs why a scrape failed: kept here, and checked, rather than printed.)
const logged = [];
const consoleError = console.error;
console.error = (...parts) => logged.push(parts.join(' '));
let callerScrape;
try {
  callerScrape = await createExporter({ sql: asCaller })(new Request('http://127.0.0.1/metrics'));
} finally {
  console.error = consoleError;
}
checks.expect(callerScrape.status === 503, `the caller role's scrape: ${callerScrape.status}`);
checks.expect(logged.length === 1 && /permission denied for function routing_metrics/.test(logged[0]),
  `the exporter's log of the caller's scrape: ${JSON.stringify(logged)}`);
const [timing] = await reader`
  SELECT clock_timestamp() AS t0, length(webhook_routing.routing_metrics()) AS bytes, clock_timestamp() AS t1`;

await asCaller.end();
await reader.end();
await owner.end();
checks.done([
  `promtool check metrics: ${lint.status === 0 ? 'clean' : 'problems'}; ${before.size} samples, ${names.size} names; `
  + `the dashboard's ${exprs.length} queries use ${used.size} of them; ${counters} counters held across a prune; `
  + `${timing.bytes} bytes in ${timing.t1 - timing.t0} ms (reported, not asserted)`,
]);

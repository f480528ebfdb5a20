// Several sessions change the percentage and the switches while others make decisions, all
// at once, through real connections. Then:
// - no lost history row: every change that returned is in the history, nothing else is, and
//   each row differs from the one before only in what its own change set (no lost update);
// - every decision is explained by a config row that existed: its percentage, bucket, reason
//   and target follow from that row;
// - a committed change (the kill switch included) is obeyed from the next call after its
//   commit: a decision sent after a change was acknowledged uses that change or a later one;
// - every logged decision is in the log as it was returned.
import { Checks, connect, freshDatabase, jobsMessage, randomSender, sleep } from './common.mjs';

const DB = 'wr_concurrency';
const SECONDS = Number(process.env.CONCURRENCY_SECONDS || 8);
const DECIDERS = 6;
const CHANGERS = 3;

await freshDatabase(DB);

// Events are numbered in the order this (single-threaded) process sees them: a decision's
// number is taken when it is sent, a change's `acked` number when its commit came back.
let clock = 0;
const decisions = [];
const changes = [];

async function decider(until) {
  const sql = connect(DB);
  while (Date.now() < until) {
    const sender = randomSender();
    const sent = ++clock;
    const [d] = await sql`
      SELECT decision_id, routed_to, reason, bucket, (percentage * 100)::int AS bp, config_id
      FROM route_decision(${sql.json(jobsMessage(sender))})`;
    decisions.push({ sent, sender, ...d, decision_id: Number(d.decision_id), config_id: Number(d.config_id) });
  }
  await sql.end();
}

async function changer(until) {
  const sql = connect(DB);
  while (Date.now() < until) {
    const r = Math.random();
    const domain = Math.random() < 0.5 ? 'jobs' : null;
    let change;
    if (r < 0.45) {
      const on = Math.random() < 0.6;
      const [{ id }] = await sql`SELECT set_routing_enabled(${on}, 'concurrency test', ${domain}) AS id`;
      change = { id: Number(id), kind: 'switch', domain, on };
    } else {
      const bp = Math.floor(Math.random() * 10001);
      const [{ id }] = await sql`
        SELECT update_routing_percentage(${(bp / 100).toFixed(2)}::numeric, 'concurrency test', ${domain}) AS id`;
      change = { id: Number(id), kind: 'percentage', domain, bp };
    }
    change.acked = ++clock;
    changes.push(change);
    await sleep(Math.random() * 15);
  }
  await sql.end();
}

const until = Date.now() + SECONDS * 1000;
await Promise.all([
  ...Array.from({ length: DECIDERS }, () => decider(until)),
  ...Array.from({ length: CHANGERS }, () => changer(until)),
]);

const sql = connect(DB);
const checks = new Checks('concurrency');

// The history.
const rows = await sql`
  SELECT id::int8 AS id, (percentage * 100)::int AS bp, enabled, domain_percentages, domain_enabled,
         domains, action
  FROM webhook_routing_config ORDER BY id`;
const config = new Map(rows.map((r) => [Number(r.id), r]));
const setupRows = 3; // install, enable, 50%
checks.expect(rows.length === setupRows + changes.length,
  `history has ${rows.length} rows, expected ${setupRows} + ${changes.length} changes`);
checks.expect(new Set(changes.map((c) => c.id)).size === changes.length, 'two changes returned the same id');
const jobsBp = (row) => (row.domain_percentages.jobs !== undefined
  ? Math.round(row.domain_percentages.jobs * 100) : row.bp);
const jobsOn = (row) => row.domain_enabled.jobs !== false;
for (const c of changes) {
  const row = config.get(c.id);
  if (!row) { checks.expect(false, `change ${c.id} is missing from the history`); continue; }
  if (c.kind === 'switch') {
    const actual = c.domain ? row.domain_enabled.jobs : row.enabled;
    checks.expect(actual === c.on, `change ${c.id}: switch ${c.domain ?? 'global'} is ${actual}, set ${c.on}`);
  } else {
    const actual = c.domain ? Math.round(row.domain_percentages.jobs * 100) : row.bp;
    checks.expect(actual === c.bp, `change ${c.id}: percentage ${c.domain ?? 'global'} is ${actual} bp, set ${c.bp}`);
  }
}
// No lost update: each row keeps everything of the row before that its action did not set.
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
for (let i = setupRows; i < rows.length; i++) {
  const [prev, row] = [rows[i - 1], rows[i]];
  const kept = row.action === 'set_percentage'
    ? same([prev.enabled, prev.domain_enabled], [row.enabled, row.domain_enabled])
    : same([prev.bp, prev.domain_percentages], [row.bp, row.domain_percentages]);
  checks.expect(kept && same(prev.domains, row.domains),
    `history row ${row.id} (${row.action}) lost what row ${prev.id} had`);
}

// Every decision, explained by the config row it names.
let explained = 0;
for (const d of decisions) {
  const row = config.get(d.config_id);
  if (!row) { checks.expect(false, `decision ${d.decision_id} names config ${d.config_id}, which does not exist`); continue; }
  const bp = jobsBp(row);
  const expected = !row.enabled ? ['legacy', 'routing_disabled']
    : !jobsOn(row) ? ['legacy', 'domain_disabled']
      : d.bucket < bp ? ['unified', 'in_rollout'] : ['legacy', 'not_in_rollout'];
  const ok = d.routed_to === expected[0] && d.reason === expected[1] && d.bp === bp;
  checks.expect(ok, `decision ${d.decision_id} (${d.routed_to}, ${d.reason}, ${d.bp} bp, bucket ${d.bucket}) `
    + `does not follow config ${d.config_id} (${expected.join(', ')}, ${bp} bp)`);
  if (ok) explained++;
}
// The buckets are the senders' sticky buckets.
const [{ wrong_buckets }] = await sql`
  SELECT count(*)::int AS wrong_buckets
  FROM unnest(${decisions.map((d) => d.sender)}::text[], ${decisions.map((d) => d.bucket)}::int[]) AS t(sender, bucket)
  WHERE routing_bucket('jobs', sender) <> bucket`;
checks.expect(wrong_buckets === 0, `${wrong_buckets} decisions with a bucket that is not their sender's`);

// Freshness: a decision sent after a change's commit came back uses that change or a newer one.
const acked = [...changes].sort((a, b) => a.acked - b.acked);
let newest = 0;
let j = 0;
let stale = 0;
let afterKill = 0;
let killSwitchObeyed = 0;
let killSwitchIgnored = 0;
let newerThanKill = 0;
let lastGlobalSwitch = null;
for (const d of [...decisions].sort((a, b) => a.sent - b.sent)) {
  while (j < acked.length && acked[j].acked < d.sent) {
    newest = Math.max(newest, acked[j].id);
    if (acked[j].kind === 'switch' && !acked[j].domain) lastGlobalSwitch = acked[j];
    j++;
  }
  if (d.config_id < newest) stale++;
  // The kill switch in particular: off, acknowledged, and no newer change acknowledged yet.
  // Such a decision uses the kill switch's row (and goes to legacy), or a change committed
  // since, whose acknowledgement had not come back yet when it was sent.
  if (lastGlobalSwitch && !lastGlobalSwitch.on && lastGlobalSwitch.id === newest) {
    afterKill++;
    if (d.config_id === newest) {
      if (d.routed_to === 'legacy' && d.reason === 'routing_disabled') killSwitchObeyed++;
      else killSwitchIgnored++;
    } else if (d.config_id > newest) {
      newerThanKill++;
    }
  }
}
checks.expect(stale === 0, `${stale} decisions used a config older than one already committed`);
checks.expect(killSwitchIgnored === 0, `${killSwitchIgnored} decisions ignored a committed kill switch`);
checks.expect(afterKill > 0, 'no decision was made while the kill switch was off: the test proved nothing about it');

// The log holds every decision as returned.
const logged = await sql`
  SELECT id::int8 AS id, routed_to, reason, config_id::int8 AS config_id FROM webhook_routing_logs`;
const log = new Map(logged.map((l) => [Number(l.id), l]));
let logMismatch = 0;
for (const d of decisions) {
  const l = log.get(d.decision_id);
  if (!l || l.routed_to !== d.routed_to || l.reason !== d.reason || Number(l.config_id) !== d.config_id) logMismatch++;
}
checks.expect(logMismatch === 0, `${logMismatch} decisions missing from the log or logged differently`);
checks.expect(logged.length === decisions.length, `log has ${logged.length} rows for ${decisions.length} decisions`);
await sql.end();

const anomalies = checks.failures.length;
checks.done([
  `${DECIDERS} sessions deciding, ${CHANGERS} changing the config, for ${SECONDS} s`,
  `decisions: ${decisions.length} (${decisions.filter((d) => d.routed_to === 'unified').length} unified), `
    + `explained by their config row: ${explained}`,
  `config changes: ${changes.length} (${changes.filter((c) => c.kind === 'switch').length} switches), `
    + `history rows: ${rows.length}`,
  `decisions sent while the newest acknowledged change was the kill switch: ${afterKill}; `
    + `went to legacy by it: ${killSwitchObeyed}, used a change committed since: ${newerThanKill}`,
  `anomalies: ${anomalies}`,
]);

// pg_dump and restore give back the rollout as it was. A database with a history of changes,
// per-domain overrides, a plan in progress, rules and thresholds edited and added, day
// partitions and the default one, decisions with and without outcomes, their sketches and
// their sessions is dumped and restored three ways: plain SQL through psql (ON_ERROR_STOP),
// custom format through pg_restore, and pg_restore -1 (one transaction). Each restore must have
// the same config in force, history, rules, thresholds, plans, log, sketches and session counts,
// stop at no error, and go on as the original would: the next ids follow the restored ones, an
// outcome of a restored decision completes that decision alone, the plan advances.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checks, connect, freshDatabase, jobsMessage, port } from './common.mjs';

// The server's own pg_dump, pg_restore and psql (scripts/test names them for each major).
const BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
const SOURCE = 'wr_restore_source';
const checks = new Checks('restore');
const summary = [];
const out = mkdtempSync(join(tmpdir(), 'wr-restore-'));
const pg = (tool, args, input) => execFileSync(join(BIN, tool),
  ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', ...args],
  { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 28 });

await freshDatabase(SOURCE);
{
  const sql = connect(SOURCE);
  await sql`SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents'], 'restore test')`;
  await sql`SELECT update_routing_percentage(25, 'restore test')`;
  await sql`SELECT update_routing_percentage(40, 'jobs ahead', 'jobs')`;
  await sql`SELECT set_routing_enabled(false, 'property paused', 'property')`;
  await sql`SELECT start_rollout('ai_agents', '{5,50,100}', '0 seconds', 'restore test')`;
  await sql`UPDATE webhook_routing_rules SET enabled = false WHERE pattern = 'moto'`;
  await sql`UPDATE webhook_routing_rules SET priority = 45 WHERE pattern = 'insur*'`;
  await sql`INSERT INTO webhook_routing_rules (domain, match_kind, pattern, priority) VALUES ('jobs', 'keyword', 'gig*', 60)`;
  await sql`UPDATE webhook_routing_thresholds SET warning = 0.2, critical = 0.8, min_samples = 30 WHERE domain IS NULL AND check_name = 'error_rate'`;
  await sql`INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('marketplace', 'p95_latency', 1200, 3000)`;
  // Rows of an old day wait in the default partition; today's and tomorrow's have their own.
  await sql`INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
            SELECT 'whatsapp', 'jobs', 'legacy', 'success', 100 + i, now() - interval '3 days' FROM generate_series(1, 50) AS i`;
  await sql`SELECT create_routing_log_partitions(1)`;
  const ids = [];
  for (let i = 0; i < 300; i++) {
    const [d] = await sql`SELECT decision_id FROM route_decision(${sql.json(jobsMessage(`2507${String(i).padStart(8, '0')}`))})`;
    ids.push(Number(d.decision_id));
  }
  for (const id of ids.slice(0, 250)) {
    await sql`SELECT record_routing_outcome(${id}::bigint, ${id % 29 === 0 ? 'error' : 'success'}::text, ${200 + (id % 300)}::numeric)`;
  }
  await sql.end();
}

// Everything a restore must give back, as text to compare.
async function state(db) {
  const sql = connect(db);
  const q = async (query) => JSON.stringify(await sql.unsafe(query));
  const s = {
    inForce: await q(`SELECT domain, kind, routing, percentage, rollout_state, step FROM routing_status ORDER BY domain`),
    newest: await q(`SELECT percentage, enabled, domains, domain_percentages, domain_enabled, action FROM webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1`),
    history: await q(`SELECT id, action, percentage, enabled, domain_percentages, domain_enabled, reason, created_at FROM webhook_routing_config ORDER BY id`),
    rules: await q(`SELECT id, domain, match_kind, pattern, priority, enabled, seeded FROM webhook_routing_rules ORDER BY id`),
    thresholds: await q(`SELECT domain, check_name, warning, critical, min_samples, seeded FROM webhook_routing_thresholds ORDER BY check_name, domain NULLS FIRST`),
    plans: await q(`SELECT id, domain, steps, step, state FROM webhook_routing_rollouts ORDER BY id`),
    logs: await q(`SELECT id, domain, routed_to, status, response_time_ms, reason, created_at FROM webhook_routing_logs ORDER BY id`),
    partitions: await q(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'webhook_routing_logs'::regclass ORDER BY 1`),
    stats: await q(`SELECT domain, routed_to, requests, errors, p95_ms FROM routing_stats('7 days') ORDER BY 1, 2`),
    sessions: await q(`SELECT domain, sessions, broken, deliberate, switched FROM routing_sessions('7 days') ORDER BY 1`),
  };
  await sql.end();
  return s;
}
const before = await state(SOURCE);
const [{ maxLog, maxConfig, maxRule, maxPlan, pending }] = await (async () => {
  const sql = connect(SOURCE);
  const r = await sql`SELECT (SELECT max(id) FROM webhook_routing_logs)::int AS "maxLog",
                             (SELECT max(id) FROM webhook_routing_config)::int AS "maxConfig",
                             (SELECT max(id) FROM webhook_routing_rules)::int AS "maxRule",
                             (SELECT max(id) FROM webhook_routing_rollouts)::int AS "maxPlan",
                             (SELECT min(id) FROM webhook_routing_logs WHERE status = 'pending')::int AS pending`;
  await sql.end();
  return r;
})();

pg('pg_dump', ['-Fp', '-f', join(out, 'plain.sql'), SOURCE]);
pg('pg_dump', ['-Fc', '-f', join(out, 'custom.dump'), SOURCE]);
const ways = {
  'plain, psql': (db) => pg('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-f', join(out, 'plain.sql')]),
  'custom, pg_restore': (db) => pg('pg_restore', ['--exit-on-error', '-d', db, join(out, 'custom.dump')]),
  'custom, pg_restore -1': (db) => pg('pg_restore', ['-1', '--exit-on-error', '-d', db, join(out, 'custom.dump')]),
};

const server = connect('postgres');
let n = 0;
for (const [way, restore] of Object.entries(ways)) {
  const db = `wr_restored_${++n}`;
  await server.unsafe(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await server.unsafe(`CREATE DATABASE ${db}`);
  let error = null;
  try {
    restore(db);
  } catch (e) {
    error = (e.stderr || e.message || '').split('\n').filter(Boolean).slice(0, 3).join(' | ');
  }
  checks.expect(error === null, `${way}: the restore stopped: ${error}`);
  if (error !== null) continue;
  const after = await state(db);
  const differ = Object.keys(before).filter((k) => before[k] !== after[k]);
  for (const k of differ) {
    checks.expect(false, `${way}: ${k} differs: before ${before[k].slice(0, 300)} | after ${after[k].slice(0, 300)}`);
  }
  // It goes on: new ids follow the restored ones, an outcome completes one decision.
  const sql = connect(db);
  const [d] = await sql`SELECT decision_id FROM route_decision(${sql.json(jobsMessage('250799999999'))})`;
  const configId = (await sql`SELECT update_routing_percentage(30, 'after restore') AS id`)[0].id;
  const [rule] = await sql`INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', 'kazi') RETURNING id`;
  await sql`SELECT record_routing_outcome(${pending}::bigint, 'success'::text, 150::numeric)`;
  const [done] = await sql`SELECT count(*)::int AS rows FROM webhook_routing_logs WHERE id = ${pending} AND status = 'success'`;
  const advanced = await sql`SELECT verdict FROM advance_rollouts()`;
  const [plan] = await sql`SELECT start_rollout('marketplace', '{10,20}', '1 hour') AS id`;
  await sql.end();
  checks.expect(Number(d.decision_id) > maxLog, `${way}: the next decision id ${d.decision_id} is not past the restored ${maxLog}`);
  checks.expect(Number(configId) > maxConfig, `${way}: the next config id ${configId} is not past ${maxConfig}`);
  checks.expect(Number(rule.id) > maxRule, `${way}: the next rule id ${rule.id} is not past ${maxRule}`);
  checks.expect(Number(plan.id) > maxPlan, `${way}: the next plan id ${plan.id} is not past ${maxPlan}`);
  checks.expect(done.rows === 1, `${way}: the outcome of restored decision ${pending} completed ${done.rows} rows`);
  checks.expect(advanced.length === 1, `${way}: advance_rollouts saw ${advanced.length} plans`);
  summary.push(`${way}: ${differ.length} of ${Object.keys(before).length} parts differ (config in force, history, rules, thresholds, plans, log, partitions, stats, sessions); next ids ${d.decision_id} > ${maxLog}, ${configId} > ${maxConfig}, ${rule.id} > ${maxRule}, ${plan.id} > ${maxPlan}; the restored decision's outcome completed ${done.rows} row`);
  await server.unsafe(`DROP DATABASE ${db} WITH (FORCE)`);
}
await server.unsafe(`DROP DATABASE ${SOURCE} WITH (FORCE)`);
await server.end();
checks.done(summary);

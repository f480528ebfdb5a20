// A staged rollout driven by a real pg_cron, the way the README schedules it:
//   SELECT cron.schedule('webhook-routing', '* * * * *', 'SELECT webhook_routing.advance_rollouts()');
// on a cluster with pg_cron in shared_preload_libraries (scripts/test starts it). Debian's
// pg_cron (1.4) schedules by the minute at best, so the holds are seconds and the test takes
// two or three minutes. Simulated webhooks flow all along; once the plan has advanced to 50%
// the unified handler starts failing 1 request in 10. The history must show, made by the cron
// job alone: start at 20%, advance to 50%, roll back to 0% on unified's error rate.
import { Checks, connect, jobsMessage, randomSender, sleep } from './common.mjs';

const DB = 'postgres'; // pg_cron's cron.database_name
const TIMEOUT_S = Number(process.env.CRON_TIMEOUT_SECONDS || 300);

const sql = connect(DB);
await sql`DROP EXTENSION IF EXISTS webhook_routing`;
await sql`CREATE EXTENSION IF NOT EXISTS pg_cron`;
await sql`CREATE EXTENSION webhook_routing`;
// A test of minutes gathers minutes of evidence: the error-rate bars of jobs are 5% here (the
// runbook's 0.5% needs about 2,000 unified outcomes to pass), and a verdict needs 30 samples.
await sql`UPDATE webhook_routing_thresholds SET min_samples = 30`;
await sql`INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical, min_samples)
          VALUES ('jobs', 'error_rate', 1, 5, 30), ('jobs', 'error_rate_vs_legacy', 1, 5, 30)`;
await sql`SELECT set_routing_enabled(true, 'cron test')`;
const [{ plan }] = await sql`SELECT start_rollout('jobs', '{20,50,100}', '5 seconds', 'cron test') AS plan`;
await sql`SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'webhook-routing'`;
await sql`SELECT cron.schedule('webhook-routing', '* * * * *', 'SELECT webhook_routing.advance_rollouts()')`;
console.log(`  rollout ${plan} started; waiting for pg_cron (every minute)`);

let failing = false;
let state = 'active';
let sent = 0;
const traffic = async () => {
  const db = connect(DB);
  let n = 0;
  while (state === 'active' || state === 'paused') {
    const [d] = await db`SELECT decision_id, routed_to FROM route_decision(${db.json(jobsMessage(randomSender()))})`;
    n++;
    const error = d.routed_to === 'unified' && failing && n % 10 === 0;
    await db`SELECT record_routing_outcome(${d.decision_id}, ${error ? 'error' : 'success'},
                                           ${(d.routed_to === 'unified' ? 350 : 500) + (n % 100)})`;
    sent++;
    await sleep(5);
  }
  await db.end();
};
const workers = [traffic(), traffic()];

const started = Date.now();
while (Date.now() - started < TIMEOUT_S * 1000) {
  const [p] = await sql`SELECT step, state FROM webhook_routing_rollouts WHERE id = ${plan}`;
  failing = p.step >= 2;
  if (p.state !== state) console.log(`  ${Math.round((Date.now() - started) / 1000)} s: plan ${p.state} at step ${p.step}`);
  state = p.state;
  if (state !== 'active' && state !== 'paused') break;
  await sleep(1000);
}
const ended = state;
state = 'done';
await Promise.all(workers);

const checks = new Checks('pg_cron rollout');
const history = await sql`
  SELECT action, (domain_percentages ->> 'jobs')::numeric AS jobs_pct, changed_by,
         detail -> 'checks' -> 'unified.error_rate' ->> 'verdict' AS error_rate
  FROM webhook_routing_config WHERE rollout_id = ${plan} ORDER BY id`;
const runs = await sql`
  SELECT d.status, count(*)::int AS runs FROM cron.job_run_details AS d JOIN cron.job AS j USING (jobid)
  WHERE j.jobname = 'webhook-routing' GROUP BY 1 ORDER BY 1`;
const actions = history.map((h) => `${h.action} ${Number(h.jobs_pct)}%`);
checks.expect(JSON.stringify(actions) === JSON.stringify(['rollout_start 20%', 'rollout_advance 50%', 'rollout_rollback 0%']),
  `history: ${actions.join(', ') || '(none)'}`);
checks.expect(ended === 'rolled_back', `plan ended ${ended}`);
checks.expect(history.at(-1)?.error_rate === 'fail', `the rollback saw unified's error rate ${history.at(-1)?.error_rate}`);
const succeeded = runs.find((r) => r.status === 'succeeded')?.runs ?? 0;
checks.expect(succeeded >= 2 && !runs.some((r) => r.status === 'failed'), `cron runs: ${JSON.stringify(runs)}`);
await sql`SELECT cron.unschedule('webhook-routing')`;
await sql.end();

checks.done([
  `${sent} webhooks in ${Math.round((Date.now() - started) / 1000)} s; cron runs: `
    + runs.map((r) => `${r.runs} ${r.status}`).join(', '),
  ...history.map((h) => `${h.action.padEnd(17)} jobs ${String(Number(h.jobs_pct)).padStart(3)}%  by ${h.changed_by}`
    + (h.error_rate ? `  (unified error rate: ${h.error_rate})` : '')),
]);

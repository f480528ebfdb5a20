// Events: every change of the config history is announced on the channel webhook_routing when
// its transaction commits, with the state after the change. A listener on its own session
// hears, in order: a kill switch and its release, a global and a domain percentage, a plan's
// start, pause, resume, advance, rollback, and another plan's abort; testers and a deny list;
// nothing from a rolled-back change; a payload too large for NOTIFY without its detail.
import { Checks, connect, freshDatabase, jobsMessage } from './common.mjs';

const DB = 'wr_events';
const checks = new Checks('events');
await freshDatabase(DB);
const listener = connect(DB);
const sql = connect(DB);
const heard = [];
await listener.listen('webhook_routing', (payload) => heard.push(JSON.parse(payload)));

// Wait until `n` events have arrived (or five seconds have passed).
async function events(n) {
  for (let i = 0; i < 100 && heard.length < n; i++) await new Promise((r) => setTimeout(r, 50));
  return heard.splice(0, heard.length);
}

await sql`SELECT set_routing_enabled(false, 'kill switch')`;
await sql`SELECT set_routing_enabled(true, 'back on')`;
await sql`SELECT update_routing_percentage(20, 'twenty')`;
await sql`SELECT update_routing_percentage(35, 'jobs ahead', 'jobs')`;
let got = await events(4);
checks.expect(got.length === 4, `4 events for 4 changes, heard ${got.length}`);
const [off, on, twenty, jobs] = got;
checks.expect(off?.action === 'set_enabled' && off.enabled === false && off.reason === 'kill switch',
  `kill switch: ${JSON.stringify(off)}`);
checks.expect(on?.enabled === true && on.config_id > off?.config_id, `back on: ${JSON.stringify(on)}`);
checks.expect(twenty?.action === 'set_percentage' && Number(twenty.percentage) === 20, `twenty: ${JSON.stringify(twenty)}`);
checks.expect(Number(jobs?.domain_percentages?.jobs) === 35 && Number(jobs.percentage) === 20,
  `jobs at 35%, the rest at 20%: ${JSON.stringify(jobs)}`);
const [{ id: newest }] = await sql`SELECT max(id) AS id FROM webhook_routing_config`;
checks.expect(Number(jobs?.config_id) === Number(newest), 'the event names the row in force');

// A change rolled back is never announced.
await sql.begin(async (tx) => {
  await tx`SELECT update_routing_percentage(90, 'never')`;
  throw new Error('roll back');
}).catch(() => {});
got = await events(1);
checks.expect(got.length === 0, `a rolled-back change is not announced: ${JSON.stringify(got)}`);

// A plan, through each transition; the event carries the plan as it stands after it.
const [{ plan }] = await sql`SELECT start_rollout('jobs', '{10,50,100}', '0 seconds', 'events test') AS plan`;
await sql`SELECT pause_rollout('jobs', 'lunch')`;
await sql`SELECT resume_rollout('jobs', 'after lunch')`;
for (let s = 0; s < 100; s++) {
  const sender = `2507881${String(s).padStart(5, '0')}`;
  const [d] = await sql`SELECT * FROM route_decision(${sql.json(jobsMessage(sender))})`;
  await sql`SELECT record_routing_outcome(${d.decision_id}, 'success', 120)`;
}
// Enough healthy outcomes for the gates to pass (logged in bulk, as a client may log them).
await sql`INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status)
          SELECT 'whatsapp', 'jobs', CASE WHEN g % 10 = 0 THEN 'unified' ELSE 'legacy' END, 120 + g % 7, 'success'
          FROM generate_series(1, 30000) AS g`;
await sql`SELECT advance_rollouts()`;
await sql`SELECT rollback_routing('jobs', 'zero')`;
got = await events(5);
const actions = got.map((e) => e.action);
checks.expect(JSON.stringify(actions) === JSON.stringify(['rollout_start', 'rollout_pause', 'rollout_resume', 'rollout_advance', 'rollout_rollback']),
  `plan transitions in order: ${actions}`);
const by = Object.fromEntries(got.map((e) => [e.action, e]));
checks.expect(by.rollout_start?.rollout?.id === Number(plan) && by.rollout_start.rollout.state === 'active'
  && Number(by.rollout_start.domain_percentages.jobs) === 10, `start: ${JSON.stringify(by.rollout_start)}`);
checks.expect(by.rollout_pause?.rollout?.state === 'paused' && by.rollout_pause.reason === 'lunch', `pause: ${JSON.stringify(by.rollout_pause?.rollout)}`);
checks.expect(by.rollout_resume?.rollout?.state === 'active', `resume: ${JSON.stringify(by.rollout_resume?.rollout)}`);
checks.expect(by.rollout_advance?.rollout?.step === 2 && Number(by.rollout_advance.domain_percentages.jobs) === 50
  && by.rollout_advance.detail, `advance to 50%, with what it saw: ${JSON.stringify(by.rollout_advance?.rollout)}`);
checks.expect(by.rollout_rollback?.rollout?.state === 'rolled_back' && Number(by.rollout_rollback.domain_percentages.jobs) === 0,
  `rollback to 0%: ${JSON.stringify(by.rollout_rollback?.rollout)}`);

await sql`SELECT start_rollout('jobs', '{5,100}', '1 hour', 'second plan')`;
await sql`SELECT abort_rollout('jobs', 'not today')`;
got = await events(2);
checks.expect(got.map((e) => e.action).join() === 'rollout_start,rollout_abort' && got[1]?.rollout?.state === 'aborted',
  `abort: ${JSON.stringify(got.map((e) => [e.action, e.rollout?.state]))}`);

// Testers and denied keys are config changes too, announced with the lists after them.
await sql`SELECT set_routing_testers('jobs', ARRAY['250788000901'], 'QA')`;
await sql`SELECT set_routing_denied('jobs', ARRAY['250788000999'], 'support line')`;
got = await events(2);
checks.expect(got.length === 2 && got[0].action === 'set_testers' && got[0].testers?.jobs?.[0] === '250788000901'
  && got[1].action === 'set_denied' && got[1].denied?.jobs?.[0] === '250788000999' && got[1].testers?.jobs?.length === 1,
  `testers and denied: ${JSON.stringify(got.map((e) => [e.action, e.testers, e.denied]))}`);

// A row whose detail is beyond what NOTIFY carries (8,000 bytes) is announced without it.
await sql`INSERT INTO webhook_routing_config (percentage, enabled, action, reason, detail)
          SELECT percentage, enabled, 'manual', 'big detail', jsonb_build_object('notes', repeat('x', 9000))
          FROM webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1`;
got = await events(1);
checks.expect(got.length === 1 && got[0].detail_truncated === true && !('detail' in got[0]) && got[0].reason === 'big detail',
  `oversized detail left out: ${JSON.stringify(got).slice(0, 200)}`);

await listener.end();
await sql.end();
checks.done([`events heard in order for 16 changes; none for a rolled-back one`]);

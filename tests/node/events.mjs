// Events: every change of the config history is announced on the channel webhook_routing when
// its transaction commits. Any role that may connect may LISTEN, so an event names the change
// (its id, to read it back by, its action, the switch and percentage, counts, and a plan's id,
// domain, state and step) and carries nothing personal: no routing key, no reason, no role.
// A listener on its own session hears, in order: a kill switch and its release, a global and
// a domain percentage, a plan's start, pause, resume, advance, rollback, and another plan's
// abort; testers and a deny list (counted, never listed); nothing from a rolled-back change.
// Then, with every routable domain's testers and deny list at their documented maximum (1,000
// keys of 200 characters each), every control still commits and is announced: the kill
// switch, a percentage, a plan's start, pause, resume and abort, rollback_routing, and
// advance_rollouts' automatic rollback of a failing step.
import { Checks, connect, freshDatabase, jobsMessage } from './common.mjs';

const DB = 'wr_events';
const checks = new Checks('events');
await freshDatabase(DB);
const listener = connect(DB);
const sql = connect(DB);
const heard = [];
let largest = 0;
await listener.listen('webhook_routing', (payload) => {
  largest = Math.max(largest, Buffer.byteLength(payload));
  heard.push(JSON.parse(payload));
});

// Wait until `n` events have arrived (or five seconds have passed).
async function events(n) {
  for (let i = 0; i < 100 && heard.length < n; i++) await new Promise((r) => setTimeout(r, 50));
  return heard.splice(0, heard.length);
}
// What no event may carry.
const PRIVATE = ['reason', 'changed_by', 'detail', 'domains', 'protected_domains'];
function privateParts(e, keys) {
  const text = JSON.stringify(e);
  return [...PRIVATE.filter((k) => k in e), ...keys.filter((k) => text.includes(k))];
}

await sql`SELECT set_routing_enabled(false, 'kill switch')`;
await sql`SELECT set_routing_enabled(true, 'back on')`;
await sql`SELECT update_routing_percentage(20, 'twenty')`;
await sql`SELECT update_routing_percentage(35, 'jobs ahead', 'jobs')`;
let got = await events(4);
checks.expect(got.length === 4, `4 events for 4 changes, heard ${got.length}`);
const [off, on, twenty, jobs] = got;
checks.expect(off?.action === 'set_enabled' && off.enabled === false, `kill switch: ${JSON.stringify(off)}`);
checks.expect(on?.enabled === true && on.config_id > off?.config_id, `back on: ${JSON.stringify(on)}`);
checks.expect(twenty?.action === 'set_percentage' && Number(twenty.percentage) === 20, `twenty: ${JSON.stringify(twenty)}`);
checks.expect(jobs?.domain_percentages === 1 && Number(jobs.percentage) === 20,
  `one domain with a percentage of its own, the rest at 20%: ${JSON.stringify(jobs)}`);
// A listener reads the change back by its id (with a role that may read the history).
const [{ id: newest }] = await sql`SELECT max(id) AS id FROM webhook_routing_config`;
checks.expect(Number(jobs?.config_id) === Number(newest), 'the event names the row in force');
const [row] = await sql`SELECT domain_percentages->>'jobs' AS jobs, reason FROM webhook_routing_config WHERE id = ${jobs?.config_id ?? 0}`;
checks.expect(Number(row?.jobs) === 35 && row?.reason === 'jobs ahead', `read back by config_id: ${JSON.stringify(row)}`);

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
  && by.rollout_start.rollout.domain === 'jobs' && by.rollout_start.rollout.step === 1, `start: ${JSON.stringify(by.rollout_start)}`);
checks.expect(by.rollout_pause?.rollout?.state === 'paused', `pause: ${JSON.stringify(by.rollout_pause?.rollout)}`);
checks.expect(by.rollout_resume?.rollout?.state === 'active', `resume: ${JSON.stringify(by.rollout_resume?.rollout)}`);
checks.expect(by.rollout_advance?.rollout?.step === 2, `advance to step 2: ${JSON.stringify(by.rollout_advance?.rollout)}`);
checks.expect(by.rollout_rollback?.rollout?.state === 'rolled_back', `rollback: ${JSON.stringify(by.rollout_rollback?.rollout)}`);
for (const e of got) checks.expect(privateParts(e, []).length === 0, `nothing private: ${JSON.stringify(e)}`);

await sql`SELECT start_rollout('jobs', '{5,100}', '1 hour', 'second plan')`;
await sql`SELECT abort_rollout('jobs', 'not today')`;
got = await events(2);
checks.expect(got.map((e) => e.action).join() === 'rollout_start,rollout_abort' && got[1]?.rollout?.state === 'aborted',
  `abort: ${JSON.stringify(got.map((e) => [e.action, e.rollout?.state]))}`);

// Testers and denied keys are config changes too, announced with how many there are, never who.
await sql`SELECT set_routing_testers('jobs', ARRAY['250788000901'], 'QA')`;
await sql`SELECT set_routing_denied('jobs', ARRAY['250788000999'], 'support line')`;
got = await events(2);
checks.expect(got.length === 2 && got[0].action === 'set_testers' && got[0].testers === 1 && got[0].denied === 0
  && got[1].action === 'set_denied' && got[1].denied === 1 && got[1].testers === 1,
  `testers and denied, counted: ${JSON.stringify(got)}`);
for (const e of got) {
  checks.expect(privateParts(e, ['250788000901', '250788000999']).length === 0,
    `no number, reason or role on the channel: ${JSON.stringify(e)}`);
}

// A row written by hand with a detail beyond what NOTIFY carries is announced all the same.
await sql`INSERT INTO webhook_routing_config (percentage, enabled, action, reason, detail)
          SELECT percentage, enabled, 'manual', 'big detail', jsonb_build_object('notes', repeat('x', 9000))
          FROM webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1`;
got = await events(1);
checks.expect(got.length === 1 && got[0].action === 'manual' && !('detail' in got[0]),
  `a big detail stays in the row: ${JSON.stringify(got).slice(0, 200)}`);

// Every list at its documented maximum: 1,000 keys of 200 characters, testers and denied, for
// each routable domain (the history row then holds 1.6 MB of keys).
const domains = ['jobs', 'marketplace', 'property', 'ai_agents'];
await sql`SELECT set_routing_domains(${domains}, 'every domain')`;
const keys = (list, domain) => Array.from({ length: 1000 },
  (_, i) => `${list}-${domain}-${String(i).padStart(4, '0')}-`.padEnd(200, 'k'));
for (const d of domains) {
  await sql`SELECT set_routing_testers(${d}, ${keys('t', d)}, 'a full list')`;
  await sql`SELECT set_routing_denied(${d}, ${keys('d', d)}, 'a full list')`;
}
got = await events(1 + 2 * domains.length);
checks.expect(got.length === 1 + 2 * domains.length && got.at(-1)?.testers === 4000 && got.at(-1)?.denied === 4000,
  `the full lists announced by count: ${JSON.stringify(got.at(-1))}`);
const [{ bytes }] = await sql`SELECT octet_length(testers::text) + octet_length(denied::text) AS bytes
                              FROM webhook_routing_config ORDER BY id DESC LIMIT 1`;
const controls = [
  ['kill switch', sql`SELECT set_routing_enabled(false, 'Emergency rollback')`, 'set_enabled'],
  ['back on', sql`SELECT set_routing_enabled(true, 'back on')`, 'set_enabled'],
  ['a percentage', sql`SELECT update_routing_percentage(10, 'ten')`, 'set_percentage'],
  ['start_rollout', sql`SELECT start_rollout('marketplace', '{10,50}', '0 seconds', 'full lists')`, 'rollout_start'],
  ['pause_rollout', sql`SELECT pause_rollout('marketplace', 'pause')`, 'rollout_pause'],
  ['resume_rollout', sql`SELECT resume_rollout('marketplace', 'resume')`, 'rollout_resume'],
  ['abort_rollout', sql`SELECT abort_rollout('marketplace', 'abort')`, 'rollout_abort'],
  ['rollback_routing', sql`SELECT rollback_routing('ai_agents', 'zero')`, 'rollback'],
];
for (const [name, call, action] of controls) {
  let error = null;
  try { await call; } catch (e) { error = e.message; }
  got = await events(1);
  checks.expect(error === null && got.length === 1, `${name} with full lists: ${error ?? `heard ${got.length}`}`);
  checks.expect(got[0]?.action === action, `${name}: ${got[0]?.action}, not ${action}`);
}
// advance_rollouts' automatic rollback: a step whose unified handler fails every other request.
await sql`SELECT start_rollout('property', '{10,50}', '0 seconds', 'failing step')`;
await sql`INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status)
          SELECT 'whatsapp', 'property', CASE WHEN g % 10 = 0 THEN 'unified' ELSE 'legacy' END, 120,
                 CASE WHEN g % 20 = 0 THEN 'error' ELSE 'success' END
          FROM generate_series(1, 20000) AS g`;
const [{ verdict }] = await sql`SELECT verdict FROM advance_rollouts() WHERE domain = 'property'`;
got = await events(2);
const [{ state }] = await sql`SELECT state FROM webhook_routing_rollouts WHERE domain = 'property' ORDER BY id DESC LIMIT 1`;
checks.expect(state === 'rolled_back' && got.at(-1)?.rollout?.state === 'rolled_back',
  `advance_rollouts rolled the failing step back and announced it (${verdict}, ${state}): ${JSON.stringify(got.at(-1))}`);
checks.expect(largest < 1000, `the largest event is ${largest} bytes`);

await listener.end();
await sql.end();
checks.done([`events heard in order for 16 changes; none for a rolled-back one; no key, reason or role on the channel`,
  `with 8,000 keys in the lists (${Math.round(bytes / 1e6 * 10) / 10} MB), ${controls.length} controls and an automatic rollback committed and were announced; largest event ${largest} bytes`]);

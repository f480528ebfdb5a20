// A hot standby (a streaming replica made by pg_basebackup -R, started by scripts/test) serves
// route_decision(..., log => false) and the read side; writes are refused with 25006 and a hint.
// Checks, against the primary (PGPORT) and the standby (STANDBY_PORT), both on 127.0.0.1:
// - every fixture and a few thousand senders get the same domain, target, reason, bucket,
//   percentage and config row on both;
// - a kill switch on the primary is obeyed on the standby from the first call after it was
//   replayed: by a session that had cached the config, inside a REPEATABLE READ transaction
//   whose snapshot predates it, and after that transaction;
// - log => true, record_routing_outcome and the admin functions fail with 25006 and a hint;
// - routing_stats, check_routing_health and routing_status read there as on the primary;
// - conversations logged on the primary continue there: a reply without a cue keeps its
//   conversation's domain and handler.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Checks, connect, freshDatabase, sleep } from './common.mjs';
import { bodyOf, messageOf } from './whatsapp.mjs';

const DB = 'wr_standby';
const SENDERS = Number(process.env.STANDBY_SENDERS || 3000);
const standbyPort = Number(process.env.STANDBY_PORT);
if (!standbyPort) {
  console.error('STANDBY_PORT is not set: run through scripts/test');
  process.exit(2);
}
const checks = new Checks('standby');
const summary = [];

await freshDatabase(DB);
const primary = connect(DB, { max: 2 });
await primary`SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents'], 'standby test')`;
await primary`SELECT update_routing_percentage(30, 'standby test')`;
await primary`SELECT update_routing_percentage(60, 'standby test', 'marketplace')`;

// Wait until the standby has replayed everything the primary wrote so far: up to the insert
// position, since log writes commit asynchronously and may not be written out yet.
async function caughtUp() {
  const [{ lsn }] = await primary`SELECT pg_current_wal_insert_lsn()::text AS lsn`;
  const server = standbyConnect('postgres');
  try {
    for (let i = 0; i < 600; i++) {
      const [{ done }] = await server`SELECT pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn AS done`;
      if (done) return;
      await sleep(50);
    }
    throw new Error(`the standby did not replay up to ${lsn} in 30 s`);
  } finally {
    await server.end();
  }
}
const standbyConnect = (database) => connect(database, { port: standbyPort });
await caughtUp();
const standby = standbyConnect(DB);
const [{ in_recovery }] = await standby`SELECT pg_is_in_recovery() AS in_recovery`;
checks.expect(in_recovery, 'the standby is not in recovery');

// The same decisions: every fixture, then senders of every routable and protected domain.
const fixtures = readdirSync(fileURLToPath(new URL('../fixtures/', import.meta.url)))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/${f}`, import.meta.url)), 'utf8')));
const texts = ['any job vacancy in kigali?', 'I want to buy shoes', 'house for rent near town',
  'talk to the ai assistant', 'I need a taxi', 'update my profile', 'car insurance please'];
const bodies = [...fixtures];
for (let i = 0; i < SENDERS; i++) {
  const from = `2507${String(10000000 + i * 7919).slice(-8)}`;
  bodies.push(bodyOf([messageOf({ kind: 'text', text: texts[i % texts.length] }, from, `wamid.s${i}`)]));
}
const decide = (sql) => sql`
  SELECT d.domain, d.routed_to, d.reason, d.bucket, d.percentage::text AS percentage, d.config_id::text AS config_id
  FROM jsonb_array_elements(${sql.json(bodies)}) WITH ORDINALITY AS m(body, i),
       LATERAL route_decision(m.body, log => false) AS d
  ORDER BY m.i`;
const [onPrimary, onStandby] = [await decide(primary), await decide(standby)];
let differ = 0;
let unifiedCount = 0;
for (let i = 0; i < bodies.length; i++) {
  const [a, b] = [onPrimary[i], onStandby[i]];
  // A message without sender draws its bucket at random: compare everything else.
  const random = a.reason.endsWith('_random');
  const same = a.domain === b.domain && a.reason === b.reason && a.percentage === b.percentage
    && a.config_id === b.config_id && (random || (a.routed_to === b.routed_to && a.bucket === b.bucket));
  if (!same) {
    differ++;
    if (differ <= 5) checks.expect(false, `body ${i}: primary ${JSON.stringify(a)}, standby ${JSON.stringify(b)}`);
  }
  if (b.routed_to === 'unified') unifiedCount++;
}
checks.expect(differ === 0, `${differ} of ${bodies.length} decisions differ between the primary and the standby`);
checks.expect(unifiedCount > SENDERS / 10, `only ${unifiedCount} decisions went to unified on the standby`);
summary.push(`${bodies.length} bodies (${fixtures.length} fixtures, ${SENDERS} senders): ${differ} decisions differ between primary and standby (${unifiedCount} unified)`);

// Writes are refused with 25006 and a hint, not XX000. (A message of its own: one of the bodies
// above, logged below on the primary, would be a re-delivery.)
const jobs = bodyOf([messageOf({ kind: 'text', text: texts[0] }, '250799999999', 'wamid.standby.jobs')]);
async function refusal(query) {
  try {
    await query();
    return { code: 'none' };
  } catch (e) {
    return { code: e.code, hint: e.hint, message: e.message };
  }
}
const refusals = {
  'route_decision(log => true)': await refusal(() => standby`SELECT * FROM route_decision(${standby.json(jobs)})`),
  'route_decision(log => NULL)': await refusal(() => standby`SELECT * FROM route_decision(${standby.json(jobs)}, log => NULL)`),
  record_routing_outcome: await refusal(() => standby`SELECT record_routing_outcome(1::bigint, 'success'::text, 10::numeric)`),
  update_routing_percentage: await refusal(() => standby`SELECT update_routing_percentage(10::numeric, 'on a standby'::text)`),
  set_routing_enabled: await refusal(() => standby`SELECT set_routing_enabled(false, 'on a standby'::text)`),
};
for (const [call, r] of Object.entries(refusals)) {
  checks.expect(r.code === '25006' && r.hint, `${call} on the standby: ${r.code} ${r.message ?? ''} (hint: ${r.hint ?? 'none'})`);
}
summary.push(`writes on the standby: ${Object.entries(refusals).map(([c, r]) => `${c} ${r.code}`).join(', ')}`);

// Read side: traffic with outcomes on the primary, then the same stats on both.
const ids = (await primary`
  SELECT r.decision_id::text AS id
  FROM jsonb_array_elements(${primary.json(bodies.slice(fixtures.length, fixtures.length + 1500))}) AS m(body),
       LATERAL route_decision(m.body) AS r`).map((r) => r.id);
const [{ n }] = await primary`
  SELECT count(record_routing_outcome(id, CASE WHEN id % 97 = 0 THEN 'error' ELSE 'success' END, 100 + id % 400)) AS n
  FROM unnest(${ids}::bigint[]) AS id`;
await caughtUp();
const stats = (sql) => sql`SELECT domain, routed_to, requests::int, errors::int, p95_ms::text FROM routing_stats('1 hour') ORDER BY 1, 2`;
const health = (sql) => sql`SELECT domain, routed_to, check_name, status FROM check_routing_health('1 hour') ORDER BY 1, 2, 3`;
const status = (sql) => sql`SELECT domain, kind, routing, percentage::text FROM routing_status ORDER BY domain`;
for (const [name, read] of [['routing_stats', stats], ['check_routing_health', health], ['routing_status', status]]) {
  const [a, b] = [await read(primary), await read(standby)];
  checks.expect(a.length > 0 && JSON.stringify(a) === JSON.stringify(b),
    `${name} differs: primary ${JSON.stringify(a).slice(0, 300)}, standby ${JSON.stringify(b).slice(0, 300)}`);
  summary.push(`${name}: ${b.length} rows on the standby, the same as on the primary`);
}
checks.expect(Number(n) === 1500, `${n} outcomes recorded on the primary`);

// Conversations: those 1,500 senders' conversations, logged on the primary, continue on the
// standby. A reply without a cue, decided there (log => false), takes its conversation's
// domain and handler.
const openings = await primary`
  SELECT l.domain, l.routed_to, m.i::int AS i
  FROM jsonb_array_elements(${primary.json(bodies.slice(fixtures.length, fixtures.length + 1500))}) WITH ORDINALITY AS m(body, i)
  JOIN webhook_routing_logs AS l
    ON l.message_id = routing_message_key(m.body #>> '{entry,0,changes,0,value,messages,0,id}')
  ORDER BY m.i`;
const replies = openings.map(({ i }) => {
  const from = bodies[fixtures.length + i - 1].entry[0].changes[0].value.messages[0].from;
  return bodyOf([messageOf({ kind: 'text', text: '2' }, from, `wamid.reply.${i}`)]);
});
const followed = await standby`
  SELECT d.domain, d.routed_to, d.reason
  FROM jsonb_array_elements(${standby.json(replies)}) WITH ORDINALITY AS m(body, i),
       LATERAL route_decision(m.body, log => false) AS d
  ORDER BY m.i`;
const kept = followed.filter((d, k) => openings[k].domain !== null
  && d.domain === openings[k].domain && d.routed_to === openings[k].routed_to
  && ['conversation', 'protected_domain'].includes(d.reason)).length;
const withDomain = openings.filter((o) => o.domain !== null).length;
checks.expect(openings.length === 1500 && withDomain > 1000 && kept === withDomain,
  `replies on the standby: ${kept} of ${withDomain} conversations continued (of ${openings.length} openings)`);
summary.push(`conversations logged on the primary, continued on the standby: ${kept} of ${withDomain} replies without a cue kept their conversation's domain and handler`);

// The kill switch, pulled on the primary, obeyed on the standby. Three sessions there: one that
// cached the config, one inside a REPEATABLE READ transaction that took its snapshot before the
// switch, one that connects afterwards.
const cached = standbyConnect(DB);
const rr = standbyConnect(DB);
const call = (sql) => sql`SELECT routed_to, reason FROM route_decision(${sql.json(jobs)}, log => false)`;
const [before] = await call(cached);
await rr`BEGIN ISOLATION LEVEL REPEATABLE READ`;
const [rrBefore] = await call(rr);
await primary`SELECT set_routing_enabled(false, 'kill switch on the primary')`;
await caughtUp();
let stale = 0;
const after = [];
for (let i = 0; i < 50; i++) after.push((await call(cached))[0], (await call(rr))[0]);
await rr`COMMIT`;
for (let i = 0; i < 50; i++) after.push((await call(rr))[0]);
const fresh = standbyConnect(DB);
after.push((await call(fresh))[0]);
for (const d of after) if (d.reason !== 'routing_disabled') stale++;
checks.expect(before.reason !== 'routing_disabled' && rrBefore.reason !== 'routing_disabled',
  `before the kill switch the standby said ${before.reason} and ${rrBefore.reason}`);
checks.expect(stale === 0, `${stale} of ${after.length} standby decisions ignored a replayed kill switch`);
summary.push(`kill switch on the primary: ${stale} of ${after.length} standby decisions after replay ignored it (plain, REPEATABLE READ, new session)`);

for (const s of [primary, standby, cached, rr, fresh]) await s.end();
checks.done(summary);

// Webhooks and day partitions made and dropped at the same time (issue 28 §4). Several
// sessions route and report outcomes, half of them in one transaction (route_decision, then
// record_routing_outcome) and half in two, as an edge function does, while another session
// makes a new day partition and an old one with create_routing_log_partitions and, in turn,
// drops the old one with prune_routing_logs, several times a second. Yesterday has no partition, so
// every decision's retry probe and every outcome reach the default partition, which making a
// day locks; a tenth session reads stats and health. Then:
// - no webhook failed: not one deadlock, lock timeout or any other error on the webhook side,
//   nor on the reader's;
// - maintenance never deadlocked either; a call may give up (55P03, nothing done), and most
//   succeed: the days they made and dropped are there, or gone;
// - every decision is in the log once, with its outcome.
import { Checks, connect, freshDatabase, jobsMessage, randomSender, sleep } from './common.mjs';

const DB = 'wr_partitions';
const SECONDS = Number(process.env.PARTITIONS_SECONDS || 20);
const WEBHOOKS = 8;

await freshDatabase(DB);
const setup = connect(DB);
// Today to a week ahead: decisions go into today's partition, but their windows also reach
// yesterday, which has none (a fresh install), so they read the default partition too.
await setup`SELECT create_routing_log_partitions(7)`;
await setup.end();

const failures = new Map(); // SQLSTATE (or message) -> count, webhook side
const decided = [];
let oneTransaction = 0;
let twoTransactions = 0;

function failed(e, kind) {
  const key = `${e.code ?? '?'} ${e.code ? '' : e.message}`.trim()
    + (kind === 'reader' ? ' (stats or health)' : kind ? ' (one transaction)' : ' (two)');
  failures.set(key, (failures.get(key) ?? 0) + 1);
}

async function webhook(until, together) {
  const sql = connect(DB);
  while (Date.now() < until) {
    const body = sql.json(jobsMessage(randomSender()));
    const status = Math.random() < 0.9 ? 'success' : 'error';
    const ms = Math.floor(Math.random() * 500);
    try {
      if (together) {
        const id = await sql.begin(async (tx) => {
          const [d] = await tx`SELECT decision_id FROM route_decision(${body})`;
          await tx`SELECT record_routing_outcome(${d.decision_id}, ${status}, ${ms})`;
          return d.decision_id;
        });
        decided.push(Number(id));
        oneTransaction++;
      } else {
        const [d] = await sql`SELECT decision_id FROM route_decision(${body})`;
        await sql`SELECT record_routing_outcome(${d.decision_id}, ${status}, ${ms})`;
        decided.push(Number(d.decision_id));
        twoTransactions++;
      }
    } catch (e) {
      failed(e, together);
    }
  }
  await sql.end();
}

// An operator's dashboard too: stats and health read every partition of the window.
let reads = 0;
async function reader(until) {
  const sql = connect(DB);
  while (Date.now() < until) {
    try {
      if (reads % 2 === 0) await sql`SELECT * FROM routing_stats('1 hour')`;
      else await sql`SELECT * FROM check_routing_health('1 hour')`;
      reads++;
    } catch (e) {
      failed(e, 'reader');
    }
    await sleep(50);
  }
  await sql.end();
}

const maintenance = { create: 0, prune: 0, dropped: 0, busy: 0, deadlocks: 0, other: new Map() };
async function maintainer(until) {
  const sql = connect(DB);
  let ahead = 8;
  let back = 3;
  for (let i = 0; Date.now() < until; i++) {
    try {
      if (i % 2 === 0) {
        // One new day each time, the furthest ahead so far plus one, and an old day whose row
        // waits in the default partition (moved into the day's partition as it is made).
        await sql`
          INSERT INTO webhook_routing_logs (webhook_name, routed_to, status, created_at)
          VALUES ('partitions test', 'legacy', 'success', now() - make_interval(days => ${back}))`;
        back = back >= 40 ? 3 : back + 1;
        const [{ made }] = await sql`SELECT create_routing_log_partitions(${ahead}) AS made`;
        if (made > 1) ahead++;
        maintenance.create++;
      } else {
        // Drops that old day: the log to itself for a moment.
        const [{ removed }] = await sql`SELECT prune_routing_logs('2 days') AS removed`;
        maintenance.dropped += Number(removed);
        maintenance.prune++;
      }
    } catch (e) {
      if (e.code === '40P01') maintenance.deadlocks++;
      else if (e.code === '55P03') maintenance.busy++;
      else maintenance.other.set(`${e.code} ${e.message}`, (maintenance.other.get(`${e.code} ${e.message}`) ?? 0) + 1);
    }
    await sleep(100 + Math.random() * 150);
  }
  await sql.end();
}

const until = Date.now() + SECONDS * 1000;
await Promise.all([
  ...Array.from({ length: WEBHOOKS }, (_, i) => webhook(until, i % 2 === 0)),
  reader(until),
  maintainer(until),
]);

const sql = connect(DB);
const checks = new Checks('partitions');
const webhookFailures = [...failures.values()].reduce((a, b) => a + b, 0);
const webhookDeadlocks = [...failures].filter(([k]) => k.startsWith('40P01')).reduce((a, [, n]) => a + n, 0);
checks.expect(webhookFailures === 0,
  `${webhookFailures} webhook transactions or reads failed: ${[...failures].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
checks.expect(maintenance.deadlocks === 0, `${maintenance.deadlocks} maintenance calls died in a deadlock`);
checks.expect(maintenance.other.size === 0,
  `maintenance failed otherwise: ${[...maintenance.other].map(([k, n]) => `${k} ×${n}`).join('; ')}`);
const calls = maintenance.create + maintenance.prune;
checks.expect(maintenance.dropped >= maintenance.prune / 2, `${maintenance.prune} prunes removed only ${maintenance.dropped} old rows`);
checks.expect(calls >= 10 && maintenance.busy <= calls / 2,
  `maintenance made too little progress to prove anything: ${calls} calls succeeded, ${maintenance.busy} gave up`);
checks.expect(decided.length >= 100, `only ${decided.length} webhooks completed`);

// Every decision is in the log once, with its outcome; the old days prune made are gone.
const [{ logged, completed, pending }] = await sql`
  SELECT count(*)::int AS logged,
         count(*) FILTER (WHERE status <> 'pending')::int AS completed,
         count(*) FILTER (WHERE status = 'pending')::int AS pending
  FROM webhook_routing_logs WHERE id = ANY(${decided}::int8[])`;
checks.expect(logged === decided.length, `${decided.length} decisions returned, ${logged} logged`);
checks.expect(completed === decided.length, `${pending} decisions left pending although their outcome returned`);
const [{ old }] = await sql`
  SELECT count(*)::int AS old FROM webhook_routing_logs
  WHERE webhook_name = 'partitions test' AND created_at < now() - interval '2 days'`;
checks.expect(old <= 1, `${old} old rows outlived the prune that followed them`);
const [{ days }] = await sql`
  SELECT count(*)::int AS days FROM pg_inherits WHERE inhparent = 'webhook_routing_logs'::regclass`;
await sql.end();

checks.done([
  `${WEBHOOKS} sessions routing and reporting and one reading stats and health for ${SECONDS} s, `
    + 'while another makes and drops day partitions',
  `webhooks completed: ${decided.length} (${oneTransaction} in one transaction, ${twoTransactions} in two), `
    + `stats and health read ${reads} times; failed: ${webhookFailures} (deadlocks: ${webhookDeadlocks})`,
  `maintenance: ${maintenance.create} create_routing_log_partitions and ${maintenance.prune} prune_routing_logs `
    + `succeeded (${maintenance.dropped} old rows dropped with their days), ${maintenance.busy} gave up busy (55P03), `
    + `${maintenance.deadlocks} deadlocked; `
    + `the log has ${days} partitions`,
]);

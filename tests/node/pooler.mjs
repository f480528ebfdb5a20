// Through a transaction pooler: Debian's pgbouncer in pool_mode=transaction (BOUNCER_PORT,
// started by scripts/test in front of the cluster at PGPORT), as Supabase's Supavisor runs on
// port 6543: no session state survives a transaction, no protocol-level prepared statements.
// Edge functions connect as a login role holding webhook_routing_caller, with postgres.js and
// prepare: false, many clients sharing a few server connections. Checks:
// - concurrent decisions and outcomes: 0 errors, every decision gets its outcome;
// - a kill switch pulled halfway (through the pooler, as operators' psql does) is obeyed by
//   every call sent after it returned, on every pooled server connection, including the one
//   that served a REPEATABLE READ transaction whose snapshot predates the switch;
// - SET LOCAL webhook_routing.log_synchronous_commit, the README's advice behind a pooler,
//   holds for its transaction only: no other client's transaction sees it.
import { Checks, connect, freshDatabase, jobsMessage, randomSender, sleep } from './common.mjs';

const DB = 'wr_pooler';
const CLIENTS = 12;
const SECONDS = Number(process.env.POOLER_SECONDS || 6);
const bouncerPort = Number(process.env.BOUNCER_PORT);
if (!bouncerPort) {
  console.error('BOUNCER_PORT is not set: run through scripts/test');
  process.exit(2);
}
const checks = new Checks('pooler');

await freshDatabase(DB);
const direct = connect(DB);
await direct.unsafe(`DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edge_function') THEN CREATE ROLE edge_function LOGIN; END IF;
END $$`);
await direct`GRANT webhook_routing_caller TO edge_function`;
await direct`SELECT update_routing_percentage(100, 'pooler test')`;

const viaPooler = (user, options = {}) => connect(DB, { port: bouncerPort, user, prepare: false, max: 2, ...options });

let clock = 0;
let killAcked = Infinity;
const decisions = [];
const errors = [];
const settingSeen = [];
let localTransactions = 0;

async function edgeFunction(sql, until) {
  while (Date.now() < until) {
    try {
      const sent = ++clock;
      const r = Math.random();
      let d;
      if (r < 0.1) {
        // The README's way to make one transaction's log writes synchronous behind a pooler.
        d = await sql.begin(async (tx) => {
          await tx`SET LOCAL webhook_routing.log_synchronous_commit = on`;
          const [row] = await tx`SELECT decision_id, routed_to, reason FROM route_decision(${tx.json(jobsMessage(randomSender()))}, 'whatsapp'::text)`;
          return row;
        });
        localTransactions++;
      } else {
        [d] = await sql`SELECT decision_id, routed_to, reason FROM route_decision(${sql.json(jobsMessage(randomSender()))}, 'whatsapp'::text)`;
      }
      decisions.push({ sent, ...d, id: String(d.decision_id) });
      await sql`SELECT record_routing_outcome(${d.decision_id}::bigint, 'success'::text, ${5 + Math.random() * 50}::numeric)`;
      if (r > 0.95) {
        const [{ v }] = await sql`SELECT current_setting('webhook_routing.log_synchronous_commit', true) AS v`;
        settingSeen.push(v);
      }
    } catch (e) {
      errors.push(`${e.code ?? ''} ${e.message}`);
    }
  }
}

// A client whose REPEATABLE READ transaction takes its snapshot before the kill switch and
// routes after it; its server connection then serves everyone else.
async function repeatableReader(sql) {
  return sql.begin('isolation level repeatable read', async (tx) => {
    await tx`SELECT count(*) FROM pg_class`;
    while (killAcked === Infinity) await sleep(5);
    const [d] = await tx`SELECT routed_to, reason FROM route_decision(${tx.json(jobsMessage(randomSender()))}, log => false)`;
    return d;
  });
}

const clients = Array.from({ length: CLIENTS }, () => viaPooler('edge_function'));
const operator = viaPooler('postgres', { max: 1 });
const reader = viaPooler('edge_function', { max: 1 });
const until = Date.now() + SECONDS * 1000;
const work = clients.map((c) => edgeFunction(c, until));
const rrResult = repeatableReader(reader);
await sleep((SECONDS * 1000) / 2);
await operator`SELECT set_routing_enabled(false, 'kill switch through the pooler')`;
killAcked = ++clock;
const inRR = await rrResult;
await Promise.all(work);
for (const c of [...clients, operator, reader]) await c.end();

// Every decision sent after the kill switch returned goes to legacy because of it.
const after = decisions.filter((d) => d.sent > killAcked);
const before = decisions.filter((d) => d.sent < killAcked);
const stale = after.filter((d) => d.reason !== 'routing_disabled');
checks.expect(errors.length === 0, `${errors.length} errors through the pooler, e.g. ${errors.slice(0, 3).join(' | ')}`);
checks.expect(before.length > 100 && after.length > 100, `${before.length} decisions before the kill switch, ${after.length} after`);
checks.expect(before.some((d) => d.routed_to === 'unified'), 'no decision went to unified before the kill switch');
checks.expect(stale.length === 0, `${stale.length} of ${after.length} decisions after the kill switch ignored it, e.g. ${JSON.stringify(stale[0])}`);
checks.expect(inRR.reason === 'routing_disabled', `inside the REPEATABLE READ transaction: ${inRR.reason}`);

// Every decision is logged with its outcome.
const ids = decisions.map((d) => d.id);
const [log] = await direct`
  SELECT count(*)::int AS found,
         count(*) FILTER (WHERE status = 'pending')::int AS pending,
         count(DISTINCT id)::int AS distinct_ids
  FROM webhook_routing_logs WHERE id = ANY(${ids}::bigint[])`;
checks.expect(log.found === ids.length && log.distinct_ids === ids.length, `${log.found} of ${ids.length} decisions found in the log`);
checks.expect(log.pending === 0, `${log.pending} decisions still pending after their outcome returned`);

const leaked = settingSeen.filter((v) => v === 'on').length;
checks.expect(localTransactions > 0 && settingSeen.length > 0, `${localTransactions} SET LOCAL transactions, ${settingSeen.length} readings`);
checks.expect(leaked === 0, `${leaked} of ${settingSeen.length} other transactions saw a SET LOCAL of another client`);
await direct.end();

checks.done([
  `${CLIENTS} edge-function clients through pgbouncer (transaction mode, 4 server connections, prepare: false): ${decisions.length} decisions with outcomes, ${errors.length} errors, ${log.pending} left pending`,
  `kill switch: ${stale.length} of ${after.length} later decisions ignored it; the REPEATABLE READ transaction said ${inRR.reason}`,
  `SET LOCAL webhook_routing.log_synchronous_commit: ${localTransactions} transactions, seen by ${leaked} of ${settingSeen.length} other transactions`,
]);

// kill -9 of the whole cluster (postmaster and every backend) in the middle of decision load,
// then recovery, several times. After each restart:
// - the config in force is the last committed change (config changes commit synchronously):
//   every acknowledged change is there, and nothing newer than what was sent;
// - the log holds every decision and outcome acknowledged before the documented loss window
//   (3 × wal_writer_delay: log writes commit asynchronously); those lost inside it are counted;
// - the sketches agree with the log: an outcome and its sketch update commit together;
// - decision ids never repeat: no decision made after recovery gets an id handed out before a
//   crash (its row may be lost, its id not), and a late outcome for a lost decision completes
//   nothing;
// - a surviving decision still holds its sender's conversation, a lost one none.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Checks, connect, freshDatabase, jobsMessage, randomSender, sleep } from './common.mjs';
import { bodyOf, messageOf } from './whatsapp.mjs';

const DB = 'wr_crash';
const RUNS = Number(process.env.CRASH_RUNS || 3);
const LOAD_MS = Number(process.env.CRASH_LOAD_MS || 2500);
const DECIDERS = 4;
const QUIET_MS = 700;
const clusterDir = process.env.WR_CLUSTER_DIR;
if (!clusterDir) {
  console.error('WR_CLUSTER_DIR is not set: run through scripts/test');
  process.exit(2);
}
const lib = fileURLToPath(new URL('../../scripts/lib.sh', import.meta.url));
const cluster = (fn) => execFileSync('bash', ['-c', `. "${lib}"; ${fn} "$1"`, 'cluster', clusterDir],
  { stdio: 'inherit', env: process.env });

await freshDatabase(DB);
const checks = new Checks('crash');
const summary = [];
let windowMs;
const issued = new Set();  // every decision id acknowledged, over all runs

for (let run = 1; run <= RUNS; run++) {
  const setup = connect(DB);
  if (windowMs === undefined) {
    const [{ ms }] = await setup`SELECT 3 * setting::int AS ms FROM pg_settings WHERE name = 'wal_writer_delay'`;
    windowMs = ms;
  }
  await setup.end();

  let stop = false;
  const decided = [];   // { id, at }: decision logged, acknowledged at `at`
  const reported = [];  // { id, status, at }: outcome recorded
  const changed = [];   // { id, bp, at }: config change committed
  const sent = [];      // bp of every change sent, acknowledged or not

  const decider = async () => {
    const sql = connect(DB);
    try {
      while (!stop) {
        const sender = randomSender();
        const [d] = await sql`SELECT decision_id, routed_to FROM route_decision(${sql.json(jobsMessage(sender))})`;
        const id = Number(d.decision_id);
        decided.push({ id, at: performance.now(), sender, routed_to: d.routed_to });
        if (id % 2 === 0) {
          const status = id % 10 === 0 ? 'error' : 'success';
          await sql`SELECT record_routing_outcome(${id}, ${status}, ${50 + (id % 700)})`;
          reported.push({ id, status, at: performance.now() });
        }
      }
    } catch { /* the crash */ }
    sql.end({ timeout: 0 }).catch(() => {});
  };
  // The changer stops a little before the crash: its synchronous commits flush all WAL, and
  // without them the last moments before the crash are only asynchronous log writes, as on a
  // quiet afternoon, so that the crash loses some (and ids, if they were not safe).
  const changerUntil = performance.now() + LOAD_MS - QUIET_MS;
  const changer = async () => {
    const sql = connect(DB);
    try {
      while (!stop && performance.now() < changerUntil) {
        const bp = Math.floor(Math.random() * 10001);
        sent.push(bp);
        const [{ id }] = await sql`
          SELECT update_routing_percentage(${(bp / 100).toFixed(2)}::numeric, 'crash test') AS id`;
        changed.push({ id: Number(id), bp, at: performance.now() });
        await sleep(20);
      }
    } catch { /* the crash */ }
    sql.end({ timeout: 0 }).catch(() => {});
  };

  const load = [...Array.from({ length: DECIDERS }, decider), changer()];
  await sleep(LOAD_MS);
  const crashAt = performance.now();
  cluster('cluster_crash');
  stop = true;
  await Promise.allSettled(load);
  cluster('cluster_restart');

  for (const d of decided) issued.add(d.id);
  const sql = connect(DB);
  // Config: every acknowledged change survived, and the one in force is the newest of them
  // (or a change sent just before the crash whose acknowledgement was lost on the way).
  const history = await sql`SELECT id::int8 AS id, (percentage * 100)::int AS bp FROM webhook_routing_config`;
  const ids = new Set(history.map((r) => Number(r.id)));
  const lostChanges = changed.filter((c) => !ids.has(c.id)).length;
  checks.expect(lostChanges === 0, `run ${run}: ${lostChanges} acknowledged config changes lost`);
  const lastAcked = changed.reduce((a, c) => (c.id > a.id ? c : a), { id: 0 });
  const [inForce] = await sql`
    SELECT id::int8 AS id, (percentage * 100)::int AS bp FROM webhook_routing_config ORDER BY id DESC LIMIT 1`;
  const inForceId = Number(inForce.id);
  checks.expect(inForceId === lastAcked.id ? inForce.bp === lastAcked.bp : inForceId > lastAcked.id && sent.includes(inForce.bp),
    `run ${run}: config in force is ${inForceId} (${inForce.bp} bp), last acknowledged ${lastAcked.id} (${lastAcked.bp} bp)`);

  // Log: decisions and outcomes acknowledged before the window survived.
  const logged = await sql`SELECT id::int8 AS id, status FROM webhook_routing_logs`;
  const status = new Map(logged.map((l) => [Number(l.id), l.status]));
  const before = (x) => x.at < crashAt - windowMs;
  const lostDecisions = decided.filter((d) => !status.has(d.id));
  const lostOutcomes = reported.filter((o) => status.get(o.id) !== o.status);
  const lostBeyond = lostDecisions.filter(before).length + lostOutcomes.filter(before).length;
  checks.expect(lostBeyond === 0, `run ${run}: ${lostBeyond} acknowledged log writes older than ${windowMs} ms lost`);

  // Sketches agree with the log's outcomes: written in the same transactions.
  const [agree] = await sql`
    SELECT (SELECT count(*)::int FROM webhook_routing_logs WHERE status <> 'pending') AS outcomes,
           (SELECT coalesce(sum(completed), 0)::int FROM webhook_routing_sketches) AS sketched,
           (SELECT count(*)::int FROM webhook_routing_logs WHERE status = 'error') AS errors,
           (SELECT coalesce(sum(errors), 0)::int FROM webhook_routing_sketches) AS sketched_errors`;
  checks.expect(agree.outcomes === agree.sketched && agree.errors === agree.sketched_errors,
    `run ${run}: sketches count ${agree.sketched} outcomes (${agree.sketched_errors} errors), `
    + `the log ${agree.outcomes} (${agree.errors})`);
  // And the router works after recovery.
  const [after] = await sql`SELECT reason FROM route_decision(${sql.json(jobsMessage(randomSender()))}, log => false)`;
  checks.expect(['in_rollout', 'not_in_rollout'].includes(after.reason), `run ${run}: after recovery: ${after.reason}`);

  // Conversations: a decision that survived still holds its sender's conversation (a reply
  // without a cue follows it: its handler, or legacy where a decrease since moved it); one the
  // crash lost holds none (the reply opens anew, on its own cues: none, so unknown_domain).
  const reply = (sender) => bodyOf([messageOf({ kind: 'text', text: '2' }, sender, `wamid.reply.${sender}`)]);
  let kept = 0;
  let keptOf = 0;
  let opened = 0;
  const survived = decided.filter((d) => status.has(d.id)).slice(-200);
  for (const d of [...survived, ...lostDecisions]) {
    const [r] = await sql`SELECT domain, routed_to, reason FROM route_decision(${sql.json(reply(d.sender))}, log => false)`;
    if (status.has(d.id)) {
      keptOf++;
      if (r.domain === 'jobs' && (r.reason === 'conversation' ? r.routed_to === d.routed_to
                                                             : r.reason === 'not_in_rollout' && r.routed_to === 'legacy')) kept++;
    } else if (r.reason === 'unknown_domain') {
      opened++;
    }
  }
  checks.expect(kept === keptOf && opened === lostDecisions.length,
    `run ${run}: replies after recovery: ${kept} of ${keptOf} surviving conversations followed, `
    + `${opened} of ${lostDecisions.length} lost ones opened anew`);

  // Late outcomes for the decisions the crash lost find nothing to complete.
  let lateCompleted = 0;
  for (const d of lostDecisions) {
    try {
      await sql`SELECT record_routing_outcome(${d.id}::bigint, 'success'::text, 10::numeric)`;
      lateCompleted++;
    } catch (e) {
      checks.expect(e.code === 'P0002', `run ${run}: a late outcome for lost decision ${d.id}: ${e.code} ${e.message}`);
    }
  }
  checks.expect(lateCompleted === 0, `run ${run}: ${lateCompleted} late outcomes of lost decisions completed a decision made since`);
  await sql.end();
  // New decisions, from new backends, never take an id handed out before.
  let reused = 0;
  let fresh = 0;
  await Promise.all(Array.from({ length: DECIDERS }, async () => {
    const c = connect(DB);
    for (let i = 0; i < 250; i++) {
      const [d] = await c`SELECT decision_id FROM route_decision(${c.json(jobsMessage(randomSender()))})`;
      fresh++;
      if (issued.has(Number(d.decision_id))) reused++;
      issued.add(Number(d.decision_id));
    }
    await c.end();
  }));
  checks.expect(reused === 0, `run ${run}: ${reused} of ${fresh} decisions after recovery reused an id handed out before the crash`);

  summary.push(`run ${run}: ${decided.length} decisions and ${reported.length} outcomes acknowledged, `
    + `${changed.length} config changes; lost inside the ${windowMs} ms window: `
    + `${lostDecisions.length} decisions, ${lostOutcomes.length} outcomes; lost beyond it: ${lostBeyond}; `
    + `config changes lost: ${lostChanges}; ids reused after recovery: ${reused} of ${fresh}; `
    + `conversations after recovery: ${kept} of ${keptOf} surviving followed, ${opened} of ${lostDecisions.length} lost opened anew; `
    + `late outcomes of lost decisions that completed another: ${lateCompleted}`);
}

checks.done(summary);

// Privacy: no phone number can be recovered from what a caller or reader reads, and an admin
// reads none but the testers' and denied numbers admins type in.
//
// 300 senders of one number range (250788000000 to 250788999999) write to two domains through
// route_decision as the caller role, with message ids made the way WhatsApp makes them (their
// base64 holds the sender's number), and their outcomes are reported; some are testers, some
// denied. Then, as each of the extension's roles, an attacker:
//   1. reads every column the role may read of every table and view of the extension, every
//      statistic pg_stats shows it, and what stats, health, sessions, the report and the
//      metrics (routing_metrics) return,
//      and looks in all of it for a sender's number: as digits (international or national
//      form), or inside any base64 or hex it finds;
//   2. runs the brute force a reader could run on 0.6.0: link each sender's rows by
//      sender_key, take its bucket in both domains, hash the whole range with routing_bucket,
//      and keep the senders that one number fits; and reads the split's bucket sets and the
//      testers and denied lists.
// Expected: no number found, each of those reads refused (42501, so nothing is recovered), and
// stats, health, sessions, the report and the metrics still answered for the reader.
import { Checks, connect, freshDatabase } from './common.mjs';
import { bodyOf, messageOf } from './whatsapp.mjs';

const DB = 'wr_privacy';
const checks = new Checks('privacy');
await freshDatabase(DB);
const owner = connect(DB);

// 300 distinct numbers of the range.
const senders = new Set();
while (senders.size < 300) senders.add(String(250788000000 + Math.floor(Math.random() * 1e6)));
const numbers = [...senders];
const testers = numbers.slice(0, 5);
const denied = numbers.slice(5, 10);
await owner`SELECT set_routing_testers('jobs', ${testers}, 'privacy test')`;
await owner`SELECT set_routing_denied('property', ${denied}, 'privacy test')`;

// A message id as WhatsApp makes one: "wamid." and the base64 of a record holding the number.
function wamid(number) {
  const random = [...Array(20)].map(() => '0123456789ABCDEF'[Math.floor(Math.random() * 16)]).join('');
  const bytes = Buffer.concat([Buffer.from([0x1c, 0x18, number.length]), Buffer.from(number),
                               Buffer.from([0x15, 0x02, 0x00, 0x12, 0x18, 0x14]), Buffer.from(random),
                               Buffer.from([0x00])]);
  return `wamid.${bytes.toString('base64')}`;
}

const caller = connect(DB);
await caller`SET ROLE webhook_routing_caller`;
const texts = ['looking for a job in kigali, any vacancy?',
               'I want to rent a house, apartment for rent in Kigali, house for sale'];
for (const number of numbers) {
  for (const text of texts) {
    const body = bodyOf([messageOf({ kind: 'text', text }, number, wamid(number))]);
    const [d] = await caller`SELECT decision_id FROM route_decision(${caller.json(body)})`;
    await caller`SELECT record_routing_outcome(${d.decision_id}, 'success', ${50 + Math.random() * 100})`;
  }
}
await caller.end();
await owner`ANALYZE webhook_routing_logs`;
await owner`ANALYZE webhook_routing_config`;
await owner`ANALYZE webhook_routing_sketches`;
const [both] = await owner`
  SELECT count(*)::int AS n FROM (
    SELECT sender_key FROM webhook_routing_logs WHERE sender_key IS NOT NULL
    GROUP BY sender_key HAVING count(DISTINCT domain) = 2) AS s`;
checks.expect(both.n >= 250, `senders with rows in both domains (the attack's material): ${both.n} of 300`);

// Where a number may hide in text: as digits, or inside base64 or hex.
function numbersIn(text, wanted) {
  const found = new Set();
  const look = (haystack) => {
    for (const n of wanted) if (haystack.includes(n) || haystack.includes(`0${n.slice(3)}`)) found.add(n);
  };
  look(text);
  for (const token of text.match(/[A-Za-z0-9+/_-]{12,}={0,2}/g) ?? []) {
    look(Buffer.from(token, 'base64').toString('latin1'));
    look(Buffer.from(token.replace(/^wamid\./, ''), 'base64').toString('latin1'));
  }
  for (const token of text.match(/[0-9a-fA-F]{12,}/g) ?? []) {
    look(Buffer.from(token.length % 2 ? token.slice(1) : token, 'hex').toString('latin1'));
  }
  return found;
}

const summary = [];
for (const role of ['webhook_routing_caller', 'webhook_routing_reader', 'webhook_routing_admin']) {
  const sql = connect(DB);
  await sql.unsafe(`SET ROLE ${role}`);
  const seen = [];
  // 1. Everything the role may read.
  const relations = await sql`
    SELECT c.relname, array_agg(quote_ident(a.attname) ORDER BY a.attnum) AS columns
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relnamespace = 'webhook_routing'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
      AND has_column_privilege(c.oid, a.attnum, 'SELECT')
    GROUP BY c.relname ORDER BY c.relname`;
  for (const r of relations) {
    const rows = await sql.unsafe(
      `SELECT to_jsonb(t)::text AS j FROM (SELECT ${r.columns.join(', ')} FROM webhook_routing.${r.relname}) AS t`);
    seen.push(...rows.map((x) => x.j));
  }
  seen.push(...(await sql`SELECT to_jsonb(s)::text AS j FROM pg_stats AS s WHERE s.schemaname = 'webhook_routing'`)
    .map((x) => x.j));
  const answers = {};
  for (const [name, call] of [
    ['routing_stats', `SELECT to_jsonb(t)::text AS j FROM webhook_routing.routing_stats('1 day') AS t`],
    ['check_routing_health', `SELECT to_jsonb(t)::text AS j FROM webhook_routing.check_routing_health('1 day') AS t`],
    ['routing_sessions', `SELECT to_jsonb(t)::text AS j FROM webhook_routing.routing_sessions('1 day') AS t`],
    ['routing_report', `SELECT to_jsonb(webhook_routing.routing_report(NULL, now() - interval '1 day', f))::text AS j
                        FROM unnest(ARRAY['text', 'markdown', 'html']) AS f`],
    ['routing_metrics', `SELECT webhook_routing.routing_metrics() AS j`],
  ]) {
    const [may] = await sql`SELECT has_function_privilege(${`webhook_routing.${name}`}::regproc::oid, 'EXECUTE') AS ok`;
    if (!may.ok) continue;
    const rows = await sql.unsafe(call);
    answers[name] = rows;
    seen.push(...rows.map((x) => x.j));
  }
  const found = numbersIn(seen.join('\n'), numbers);
  const allowed = role === 'webhook_routing_admin' ? new Set([...testers, ...denied]) : new Set();
  const leaked = [...found].filter((n) => !allowed.has(n));
  checks.expect(leaked.length === 0, `${role} reads ${leaked.length} senders' numbers, e.g. ${leaked.slice(0, 3)}`);
  if (role === 'webhook_routing_admin') {
    checks.expect(found.size === allowed.size, `the admin reads the testers and denied numbers: ${found.size}`);
  }

  // 2. The brute force, and the reads it needs.
  let recovered = 0;
  const refused = [];
  try {
    const pinned = await sql`
      WITH s AS (
          SELECT sender_key, max(bucket) FILTER (WHERE domain = 'jobs') AS bj,
                 max(bucket) FILTER (WHERE domain = 'property') AS bp
          FROM webhook_routing_logs WHERE sender_key IS NOT NULL GROUP BY sender_key),
      c AS (
          SELECT n::text AS num, routing_bucket('jobs', n::text) AS bj, routing_bucket('property', n::text) AS bp
          FROM generate_series(250788000000, 250788999999) AS n)
      SELECT s.sender_key, min(c.num) AS num FROM s JOIN c USING (bj, bp)
      GROUP BY s.sender_key HAVING count(*) = 1`;
    recovered = pinned.filter((p) => senders.has(p.num)).length;
  } catch (e) {
    refused.push(e.code);
  }
  for (const read of [
    'SELECT split_buckets FROM webhook_routing_sketches',
    'SELECT testers, denied FROM webhook_routing_config',
  ]) {
    try {
      const rows = await sql.unsafe(read);
      if (!(role === 'webhook_routing_admin' && read.includes('testers'))) {
        checks.expect(false, `${role} may run ${read} (${rows.length} rows)`);
      }
    } catch (e) {
      refused.push(e.code);
    }
  }
  checks.expect(recovered === 0, `${role} recovered ${recovered} of 300 numbers by brute force`);
  checks.expect(refused[0] === '42501', `${role}: the brute force's read is refused: ${refused[0] ?? 'it ran'}`);
  checks.expect(refused.every((c) => c === '42501'), `${role}: refusals ${refused}`);

  // What the role needs still works.
  if (role !== 'webhook_routing_caller') {
    const ratio = answers.check_routing_health.map((x) => JSON.parse(x.j))
      .find((h) => h.check_name === 'sample_ratio' && h.domain === 'jobs');
    const sessions = answers.routing_sessions.map((x) => JSON.parse(x.j));
    checks.expect(ratio && Number(ratio.samples) > 0, `${role}: the sample ratio check sees buckets: ${JSON.stringify(ratio)}`);
    checks.expect(sessions.some((s) => s.domain === 'jobs' && Number(s.sessions) >= 250),
      `${role}: sessions ${JSON.stringify(sessions)}`);
    const metrics = answers.routing_metrics[0].j;
    checks.expect(/^webhook_routing_outcomes_total\{domain="jobs",routed_to="(unified|legacy)",status="ok"\} [1-9]/m.test(metrics),
      `${role}: routing_metrics counts the outcomes: ${metrics.slice(0, 200)}`);
    const status = await sql`SELECT domain, testers, denied FROM routing_status WHERE domain IN ('jobs', 'property')`;
    const lists = status.flatMap((s) => [...(s.testers ?? []), ...(s.denied ?? [])]);
    checks.expect(role === 'webhook_routing_admin' ? lists.length === 10 : lists.length === 0,
      `${role}: routing_status lists ${lists.length} testers and denied numbers`);
  }
  summary.push(`${role}: ${seen.length} values read, ${leaked.length} senders' numbers found`
    + `${allowed.size ? ` (and the ${found.size} testers and denied it manages)` : ''}, ${recovered} recovered `
    + `by brute force (reads refused: ${refused.join(', ') || 'none'})`);
  await sql.end();
}

await owner.end();
checks.done(summary);

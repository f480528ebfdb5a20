// Session continuity on the conversations of tests/conversations/conversations.jsonl: each is
// one user's session with the bot (an opening, then replies to menus, bare texts, media,
// locations, reactions, re-deliveries, and requests for another domain, marked "switch"), in
// the four languages. Routed at 0%, 25% and 100% of every routable domain, twice: message by
// message with route_decision, then two conversations at a time, their messages batched two
// per body, with route_messages.
//
// A session (a conversation, or its part from a "switch" on) breaks when its messages reach
// more than one handler: unified, the legacy handler of the domain decided, or the caller's
// default handler for a message without a domain. Greetings before the session's first
// decision with a domain go to the default handler, as before any rollout, and do not count.
// Also checked: every re-delivery gets its first decision back and writes no row, no message
// of a protected domain's session reaches unified, and routing_sessions() counts the breaks
// the log shows. With --assert, fails above 0.5% broken sessions (the runbook's bar).
//
//   node tests/conversations/run.mjs [--assert]       (PGPORT of a running cluster)
import { readFileSync } from 'node:fs';
import { Checks, connect, freshDatabase } from '../node/common.mjs';
import { bodyOf, messageOf, statusOf } from '../node/whatsapp.mjs';

const assert = process.argv.includes('--assert');
const verbose = process.argv.includes('--verbose');
const named = process.argv.slice(2).find((a) => !a.startsWith('--'));
const file = named ?? new URL('./conversations.jsonl', import.meta.url);
const conversations = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const ROUTABLE = ['jobs', 'marketplace', 'property', 'ai_agents'];
const PROTECTED = ['mobility', 'profile', 'insurance'];
const BAR = 0.5;

const db = 'wr_conversations';
await freshDatabase(db);
const sql = connect(db);
await sql`SELECT set_routing_domains(${ROUTABLE}, 'continuity')`;
await sql`SELECT set_routing_enabled(true, 'continuity')`;
const checks = new Checks('conversations');
const summary = [];

const handler = (d) => (d.routed_to === 'unified' ? 'unified' : `legacy:${d.domain ?? 'default'}`);

// The sessions of one conversation: its messages cut at each "switch", each with the domain
// it is about.
function sessionsOf(conv) {
  const sessions = [{ domain: conv.domain, messages: [] }];
  for (const m of conv.messages) {
    if (m.switch) sessions.push({ domain: m.switch, messages: [] });
    sessions.at(-1).messages.push(m);
  }
  return sessions;
}

async function run(percentage, mode) {
  await sql`SELECT update_routing_percentage(${percentage}, 'continuity')`;
  const tag = `${mode === 'batched' ? 9 : 8}${String(percentage).padStart(3, '0')}`;
  const senderOf = (c) => `2507${tag}${String(c).padStart(4, '0')}`;
  // decided[c][i]: the decision of message i of conversation c
  const decided = conversations.map(() => []);
  const retries = { n: 0, wrong: [] };
  const firstId = new Map();
  const note = (c, i, d) => {
    const m = conversations[c].messages[i];
    decided[c][i] = d;
    const key = `${c}/${m.mid}`;
    if (m.retry) {
      retries.n += 1;
      const first = firstId.get(key);
      if (d.reason !== 'retry' || String(d.decision_id) !== String(first)) {
        retries.wrong.push(`${conversations[c].id} ${m.mid}: ${d.reason} id ${d.decision_id}, first ${first}`);
      }
    } else {
      firstId.set(key, d.decision_id);
    }
  };
  const before = Number((await sql`SELECT count(*) AS n FROM webhook_routing_logs`)[0].n);
  if (mode === 'single') {
    for (const [c, conv] of conversations.entries()) {
      for (const [i, m] of conv.messages.entries()) {
        const body = bodyOf([messageOf(m, senderOf(c), `wamid.${conv.id}.${m.mid}`)]);
        const [d] = await sql`SELECT decision_id, domain, routed_to, reason FROM route_decision(${sql.json(body)})`;
        note(c, i, d);
      }
    }
  } else {
    // Conversations 2k and 2k+1 side by side: their i-th messages in one body, with a status
    // of the bot's last answer to each sender, which must follow that sender's conversation.
    for (let c = 0; c < conversations.length; c += 2) {
      const pair = [c, c + 1].filter((x) => x < conversations.length);
      const longest = Math.max(...pair.map((x) => conversations[x].messages.length));
      for (let i = 0; i < longest; i += 1) {
        const at = pair.filter((x) => i < conversations[x].messages.length);
        const messages = at.map((x) => messageOf(conversations[x].messages[i], senderOf(x),
          `wamid.${conversations[x].id}.${conversations[x].messages[i].mid}`));
        const statuses = i > 0 ? at.map((x) => statusOf(senderOf(x), `wamid.bot.${x}.${i}`)) : [];
        const rows = await sql`SELECT * FROM route_messages(${sql.json(bodyOf(messages, statuses))})`;
        const byKind = (k) => rows.filter((r) => r.kind === k);
        checks.expect(byKind('message').length === at.length && byKind('status').length === statuses.length,
          `at ${percentage}%: a body of ${at.length} messages and ${statuses.length} statuses got ${rows.length} rows`);
        for (const [k, x] of at.entries()) {
          const d = byKind('message')[k];
          checks.expect(d.sender === senderOf(x), `row ${d.position} is not its sender's`);
          note(x, i, d);
        }
        // A status follows the sender's newest conversation: its newest decision with a domain
        // (a re-delivery adds none).
        for (const [k, x] of (i > 0 ? at : []).entries()) {
          const s = byKind('status')[k];
          const last = decided[x].slice(0, i + 1).filter((d) => d.domain !== null && d.reason !== 'retry').at(-1);
          const expected = last ? last.routed_to : 'legacy';
          checks.expect(s.routed_to === expected && s.conversation_id === (last ? last.conversation_id : null),
            `status to ${senderOf(x)} went ${s.routed_to} (${s.reason}, conversation ${s.conversation_id}), ` +
            `its conversation ${last?.conversation_id} ${expected}`);
        }
      }
    }
  }
  const after = Number((await sql`SELECT count(*) AS n FROM webhook_routing_logs`)[0].n);
  const messages = conversations.reduce((n, conv) => n + conv.messages.length, 0);
  checks.expect(after - before === messages - retries.n,
    `at ${percentage}% (${mode}): ${after - before} rows for ${messages} messages with ${retries.n} re-deliveries`);
  for (const w of retries.wrong.slice(0, 5)) checks.expect(false, `re-delivery not answered with its first decision: ${w}`);

  let sessions = 0;
  let broken = 0;
  // Protected sessions that reached unified: opened by a message detected in a routable
  // domain (detection's error, measured by tests/detection), or by a request mid-conversation
  // that the conversation kept on unified (this module's, never allowed).
  let protectedOpening = 0;
  let protectedMidway = 0;
  let wrongDomain = 0;
  // Requests for another domain mid-conversation, and those that opened a conversation there.
  let requests = 0;
  let greeted = 0;
  let handedOff = 0;
  let honoured = 0;
  const causes = new Map();
  for (const [c, conv] of conversations.entries()) {
    let i = 0;
    for (const [s, session] of sessionsOf(conv).entries()) {
      const ds = session.messages.map((m, k) => ({ m, d: decided[c][i + k] }));
      i += session.messages.length;
      const from = ds.findIndex((x) => x.d.domain !== null);
      // A greeting first: the caller's default handler answers it (with its menu); the pick
      // that names a domain hands the session to that domain's handler (README, Conversations).
      if (from > 0) {
        greeted += 1;
        if (ds[from].d.domain === session.domain) handedOff += 1;
      }
      const counted = from < 0 ? ds : ds.slice(from);
      sessions += 1;
      const first = handler(counted[0].d);
      if (new Set(counted.map((x) => handler(x.d))).size > 1) {
        broken += 1;
        if (verbose) {
          console.log(`  broken at ${percentage}% (${mode}): ${conv.id} session ${s} (${session.domain}): ` +
            counted.map((x) => `${x.m.mid} ${x.d.domain ?? '-'}/${handler(x.d)}/${x.d.reason}`).join(', '));
        }
        for (const x of counted.filter((y) => handler(y.d) !== first)) {
          const cause = `${x.m.kind} → ${x.d.reason}`;
          causes.set(cause, (causes.get(cause) ?? 0) + 1);
        }
      }
      if (counted[0].d.domain !== session.domain) {
        wrongDomain += 1;
        if (verbose && mode === 'single' && percentage === 100) {
          console.log(`  domain: ${conv.id} session ${s} asked ${session.domain}, opened ${counted[0].d.domain} (${counted[0].m.mid})`);
        }
      }
      if (s > 0) {
        requests += 1;
        if (ds[0].d.domain === session.domain) honoured += 1;
      }
      if (PROTECTED.includes(session.domain) && ds.some((x) => x.d.routed_to === 'unified')) {
        if (s > 0) protectedMidway += 1; else protectedOpening += 1;
        if (verbose) {
          console.log(`  protected at ${percentage}% (${mode}): ${conv.id} session ${s} (${session.domain}) reached unified: ` +
            ds.map((x) => `${x.m.mid} ${x.d.domain ?? '-'}/${handler(x.d)}/${x.d.reason}`).join(', '));
        }
      }
    }
  }
  const top = [...causes].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${k} ${n}`).join(', ');
  const pct = (100 * broken) / sessions;
  summary.push(`at ${String(percentage).padStart(3)}% (${mode}): ${sessions} sessions, ${messages} messages, ` +
    `broken ${broken} (${pct.toFixed(2)}%)${top ? `: ${top}` : ''}; session domain not the one asked for ${wrongDomain}; ` +
    `requests for another domain that opened a conversation there ${honoured} of ${requests}; ` +
    `sessions opened by a greeting ${greeted}, handed to the domain picked ${handedOff}; ` +
    `protected sessions reaching unified ${protectedOpening} by their opening's detection, ${protectedMidway} mid-conversation`);
  checks.expect(protectedMidway === 0, `at ${percentage}% (${mode}): ${protectedMidway} requests for a protected domain mid-conversation reached unified`);
  if (assert) checks.expect(pct <= BAR, `at ${percentage}% (${mode}): ${pct.toFixed(2)}% of sessions broke (bar ${BAR}%)`);

  // The log's own count: the senders of this run, by routing_sessions' rule.
  const [logged] = await sql`
    SELECT coalesce(sum(sessions), 0)::int AS sessions, coalesce(sum(broken), 0)::int AS broken
    FROM routing_sessions('1 hour')`;
  return { logged, broken };
}

let previous = { sessions: 0, broken: 0 };
let expectedBroken = 0;
for (const mode of ['single', 'batched']) {
  for (const percentage of [0, 25, 100]) {
    const { logged, broken } = await run(percentage, mode);
    expectedBroken += broken;
    checks.expect(logged.sessions > previous.sessions, `routing_sessions saw no new session at ${percentage}% (${mode})`);
    previous = logged;
  }
}
summary.push(`routing_sessions over all runs: ${previous.sessions} sessions, ${previous.broken} broken ` +
  `(the runs' own count: ${expectedBroken})`);
checks.expect(previous.broken <= expectedBroken,
  `routing_sessions counts ${previous.broken} broken sessions, the runs ${expectedBroken}`);
checks.done(summary);
await sql.end();

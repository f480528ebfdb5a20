// Session continuity of the conversations in tests/conversations/conversations.jsonl: each
// conversation is one user's session with the bot (an opening, then replies to menus, bare
// texts, media, locations, reactions, re-deliveries), routed message by message with
// route_decision at 0%, 25% and 100% of every routable domain. A conversation (or the part of
// one after a request for another domain, marked "switch") breaks when its messages reach more
// than one handler: unified, or the legacy handler of the domain detected, or the caller's
// default handler for a message without a domain. The runbook rolls back above 0.5% broken
// sessions.
//
//   node bench/conversations.mjs          (PGPORT of a running cluster with the extension)
import { readFileSync } from 'node:fs';
import { connect, freshDatabase } from '../tests/node/common.mjs';
import { bodyOf, messageOf } from '../tests/node/whatsapp.mjs';

const file = new URL('../tests/conversations/conversations.jsonl', import.meta.url);
const conversations = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const ROUTABLE = ['jobs', 'marketplace', 'property', 'ai_agents'];

const db = 'wr_conversations';
await freshDatabase(db);
const sql = connect(db);
await sql`SELECT set_routing_domains(${ROUTABLE}, 'continuity')`;
await sql`SELECT set_routing_enabled(true, 'continuity')`;

const handler = (d) => (d.routed_to === 'unified' ? 'unified' : `legacy:${d.domain ?? 'default'}`);
for (const percentage of [0, 25, 100]) {
  await sql`SELECT update_routing_percentage(${percentage}, 'continuity')`;
  let sessions = 0;
  let broken = 0;
  let messages = 0;
  const causes = new Map();
  for (const [c, conv] of conversations.entries()) {
    const sender = `2507885${String(c).padStart(5, '0')}`;
    let seen = [];
    const close = () => {
      if (!seen.length) return;
      sessions += 1;
      const handlers = new Set(seen.map((s) => s.handler));
      if (handlers.size > 1) {
        broken += 1;
        const first = seen[0].handler;
        for (const s of seen.filter((x) => x.handler !== first)) {
          const cause = `${s.kind} → ${s.reason}`;
          causes.set(cause, (causes.get(cause) ?? 0) + 1);
        }
      }
      seen = [];
    };
    for (const m of conv.messages) {
      if (m.switch) close();
      const body = bodyOf([messageOf(m, sender, `wamid.${conv.id}.${m.mid}`)]);
      const [d] = await sql`SELECT domain, routed_to, reason FROM route_decision(${sql.json(body)}, log => false)`;
      seen.push({ handler: handler(d), kind: m.kind, reason: d.reason });
      messages += 1;
    }
    close();
  }
  const top = [...causes].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`at ${String(percentage).padStart(3)}%: ${sessions} sessions, ${messages} messages, ` +
    `broken ${broken} (${(100 * broken / sessions).toFixed(1)}%); messages off their session's first handler: ${top}`);
}
await sql.end();

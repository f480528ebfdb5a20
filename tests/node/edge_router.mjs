// End to end: examples/edge-router/router.ts, compiled by TypeScript and run under Node, in
// front of two small HTTP handlers on 127.0.0.1 (legacy, unified), with the postgres driver
// against the throwaway cluster. WhatsApp bodies from tests/fixtures, each sender several
// times. Checks the split, that each sender stays with one handler, that the stats count what
// the handlers saw, the health verdicts with a healthy and then a failing unified handler, a
// batched body of two senders on two handlers (split, with their statuses) and its
// re-delivery, the signature check, the subscription check, and a body that is not JSON.
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Checks, connect, freshDatabase } from './common.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const DB = 'wr_edge';
const SENDERS = 120;
const MESSAGES_PER_SENDER = 4;
const PERCENTAGE = 30;

// router.ts → JavaScript, type-checked against the DOM's Request/Response.
const out = mkdtempSync(join(tmpdir(), 'edge-router-'));
execFileSync(here('node_modules/.bin/tsc'), [
  '--strict', '--target', 'es2022', '--module', 'es2022', '--moduleResolution', 'bundler',
  '--lib', 'es2022,dom', '--skipLibCheck', '--outDir', out, here('../../examples/edge-router/router.ts'),
], { stdio: 'inherit' });
const { createRouter } = await import(pathToFileURL(join(out, 'router.js')).href);

// Two handlers that remember what they were sent. unified.mode: ok, fail (HTTP 500) or slow.
function handler(name) {
  const h = { name, received: [], mode: 'ok' };
  h.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      h.received.push({ path: req.url, body, decision: req.headers['x-routing-decision'] });
      const answer = () => {
        res.writeHead(h.mode === 'fail' ? 500 : 200, { 'content-type': 'text/plain' });
        res.end(h.mode === 'fail' ? 'unified handler is broken' : 'ok');
      };
      if (h.mode === 'slow') setTimeout(answer, 50); else answer();
    });
  });
  return new Promise((resolve) => h.server.listen(0, '127.0.0.1', () => {
    h.url = `http://127.0.0.1:${h.server.address().port}`;
    resolve(h);
  }));
}
const legacy = await handler('legacy');
const unified = await handler('unified');

await freshDatabase(DB);
const sql = connect(DB, { max: 4 });
await sql`SELECT update_routing_percentage(${PERCENTAGE}, 'edge router test')`;

const route = createRouter({
  sql,
  verifyToken: 'verify-me',
  unifiedUrl: `${unified.url}/unified`,
  legacyUrls: { jobs: `${legacy.url}/jobs`, property: `${legacy.url}/property`, marketplace: `${legacy.url}/marketplace`,
                mobility: `${legacy.url}/mobility`, insurance: `${legacy.url}/insurance` },
  defaultLegacyUrl: `${legacy.url}/default`,
});
// The router as an HTTP server, as Deno.serve would run it.
const router = createServer(async (req, res) => {
  let body = '';
  for await (const c of req) body += c;
  const request = new Request(`http://127.0.0.1${req.url}`, {
    method: req.method, headers: req.headers, body: req.method === 'POST' ? body : undefined,
  });
  const response = await route(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(await response.text());
});
await new Promise((resolve) => router.listen(0, '127.0.0.1', resolve));
const routerUrl = `http://127.0.0.1:${router.address().port}/whatsapp`;

// The fixtures, each sender sending one kind of message several times.
const fixtures = readdirSync(here('../fixtures')).filter((f) => f.endsWith('.json')).sort()
  .map((f) => ({ name: f.replace('.json', ''), body: JSON.parse(readFileSync(here(`../fixtures/${f}`), 'utf8')) }));
const withSender = (body, sender, n) => {
  const copy = structuredClone(body);
  const value = copy.entry?.[0]?.changes?.[0]?.value;
  for (const m of value?.messages ?? []) { m.from = sender; m.id = `wamid.${sender}.${n}`; }
  for (const st of value?.statuses ?? []) st.recipient_id = sender;
  for (const c of value?.contacts ?? []) c.wa_id = sender;
  return copy;
};
async function post(body) {
  const res = await fetch(routerUrl, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
                                       headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=test' } });
  return { status: res.status, text: await res.text() };
}
const sent = [];
// Round `round`'s senders, each sending MESSAGES_PER_SENDER messages (new ones for each `batch`:
// the same ids again would be re-deliveries).
async function load(round, senders, batch = 0) {
  const jobs = [];
  for (let s = 0; s < senders; s++) {
    const fixture = fixtures[s % fixtures.length];
    const sender = `2507${String(10_000_000 + round * 100_000 + s).slice(-8)}`;
    for (let n = 0; n < MESSAGES_PER_SENDER; n++) jobs.push({ fixture, sender, n: batch * 100 + n });
  }
  const results = [];
  for (let i = 0; i < jobs.length; i += 8) {
    results.push(...await Promise.all(jobs.slice(i, i + 8).map(async (j) => {
      const r = await post(withSender(j.fixture.body, j.sender, j.n));
      sent.push({ ...j, status: r.status });
      return r;
    })));
  }
  return results;
}

const checks = new Checks('edge router');
const summary = [];

// Subscription check.
const verify = await fetch(`${routerUrl}?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=12345`);
checks.expect(verify.status === 200 && await verify.text() === '12345', 'GET with the right token answers the challenge');
const wrong = await fetch(`${routerUrl}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`);
checks.expect(wrong.status === 403, `GET with a wrong token: ${wrong.status}`);

// Round 1: unified healthy.
const r1 = await load(1, SENDERS);
checks.expect(r1.every((r) => r.status === 200), `round 1: ${r1.filter((r) => r.status !== 200).length} webhooks not answered 200`);
const decisionOf = (h) => h.received.map((r) => ({ ...r, sender: JSON.parse(r.body).entry?.[0]?.changes?.[0]?.value?.messages?.[0]?.from }));
const seen = [...decisionOf(legacy).map((r) => ({ ...r, to: 'legacy' })), ...decisionOf(unified).map((r) => ({ ...r, to: 'unified' }))];
checks.expect(seen.length === sent.length, `handlers received ${seen.length} webhooks for ${sent.length} sent`);

// Stickiness: every sender's messages went to one handler.
const bySender = new Map();
for (const r of seen) if (r.sender) bySender.set(r.sender, (bySender.get(r.sender) ?? new Set()).add(r.to));
const split = [...bySender.values()].filter((targets) => targets.size > 1).length;
checks.expect(split === 0, `${split} senders reached both handlers`);

// The split: among senders of routable domains, about PERCENTAGE% on unified; protected domains
// and delivery statuses never.
const routable = new Set(['text_jobs', 'list_reply_jobs', 'text_property', 'button_reply_marketplace', 'image_caption_marketplace']);
const senderFixture = new Map(sent.map((s) => [s.sender, s.fixture.name]));
const routableSenders = [...bySender.keys()].filter((s) => routable.has(senderFixture.get(s)));
const unifiedSenders = routableSenders.filter((s) => bySender.get(s).has('unified')).length;
const share = 100 * unifiedSenders / routableSenders.length;
checks.expect(share > PERCENTAGE - 15 && share < PERCENTAGE + 15, `unified share of routable senders ${share.toFixed(1)}%`);
const protectedOnUnified = seen.filter((r) => r.to === 'unified' && !routable.has(senderFixture.get(r.sender))).length;
checks.expect(protectedOnUnified === 0, `${protectedOnUnified} protected-domain or status webhooks reached unified`);
const wrongLegacy = decisionOf(legacy).filter((r) => {
  const f = senderFixture.get(r.sender) ?? '';
  const domain = ['jobs', 'property', 'marketplace', 'mobility', 'insurance'].find((d) => f.endsWith(d));
  return domain ? r.path !== `/${domain}` : r.path !== '/default';
}).length;
checks.expect(wrongLegacy === 0, `${wrongLegacy} legacy webhooks went to another domain's legacy handler`);
summary.push(`round 1: ${sent.length} webhooks from ${bySender.size} senders; unified ${unified.received.length}, `
  + `legacy ${legacy.received.length}; routable senders on unified ${share.toFixed(1)}% (configured ${PERCENTAGE}%); `
  + `senders on both handlers: ${split}`);

// Stats count what the handlers saw; nothing left pending.
const stats = await sql`SELECT routed_to, sum(requests)::int AS requests, sum(pending)::int AS pending, sum(errors)::int AS errors
                        FROM webhook_routing_stats GROUP BY 1 ORDER BY 1`;
const count = (t) => stats.find((s) => s.routed_to === t) ?? { requests: 0, pending: 0, errors: 0 };
// Statuses are forwarded, not decided: the stats count the bodies with messages.
const decided = (h) => h.received.filter((r) => (JSON.parse(r.body).entry?.[0]?.changes?.[0]?.value?.messages ?? []).length > 0).length;
checks.expect(count('unified').requests === decided(unified) && count('legacy').requests === decided(legacy),
  `stats ${JSON.stringify(stats)} against handlers unified ${decided(unified)}, legacy ${decided(legacy)} bodies with messages`);
checks.expect(stats.every((s) => s.pending === 0 && s.errors === 0), `pending or errors after a healthy round: ${JSON.stringify(stats)}`);
const healthy = await sql`SELECT domain, check_name, status FROM check_routing_health()
                          WHERE routed_to = 'unified' AND status IN ('warning', 'critical')`;
checks.expect(healthy.length === 0, `unified not healthy after round 1: ${JSON.stringify(healthy)}`);

// Round 2: the unified handler fails. WhatsApp gets the handler's 500 (and will retry), the
// outcomes are errors, and health says roll back.
unified.mode = 'fail';
const before = unified.received.length;
const r2 = await load(1, SENDERS, 1); // the same senders, new messages: the same handlers
const failed = r2.filter((r) => r.status === 500).length;
checks.expect(failed === unified.received.length - before, `round 2: ${failed} answered 500, unified received ${unified.received.length - before}`);
const verdict = await sql`SELECT domain, value::float8 AS error_pct, status, recommendation, samples::int
                          FROM check_routing_health()
                          WHERE routed_to = 'unified' AND check_name = 'error_rate' AND samples > 0 ORDER BY domain`;
// Domains with enough outcomes for a verdict (100 by default) must say roll back.
const judged = verdict.filter((v) => v.status !== 'insufficient_data');
checks.expect(judged.length > 0 && judged.every((v) => v.status === 'critical' && v.recommendation === 'rollback'),
  `health with a failing unified handler: ${JSON.stringify(verdict)}`);
const errors = await sql`SELECT count(*)::int AS n FROM webhook_routing_logs WHERE status = 'error' AND error_message LIKE 'HTTP 500%'`;
checks.expect(errors[0].n === failed, `${errors[0].n} logged errors for ${failed} failed webhooks`);
summary.push(`round 2 (unified failing): ${failed} webhooks answered 500 and logged as errors; unified error_rate `
  + verdict.map((v) => `${v.domain} ${v.error_pct}% of ${v.samples} ${v.status} (${v.recommendation})`).join(', '));

unified.mode = 'ok';

// A batched body: a follow-up from a sender on unified and one from a sender on legacy, with a
// status of the bot's last message to each. Split: each handler gets its sender's message, its
// status and its contact, and nothing else; each decision gets its handler's outcome.
const onUnified = routableSenders.find((x) => bySender.get(x).has('unified'));
const onLegacy = routableSenders.find((x) => !bySender.get(x).has('unified'));
const legacyPath = `/${['jobs', 'property', 'marketplace'].find((d) => senderFixture.get(onLegacy).endsWith(d))}`;
const batched = {
  object: 'whatsapp_business_account',
  entry: [{ id: '1', changes: [{ field: 'messages', value: {
    messaging_product: 'whatsapp',
    contacts: [{ wa_id: onUnified, profile: { name: 'U' } }, { wa_id: onLegacy, profile: { name: 'L' } }],
    messages: [
      { from: onUnified, id: `wamid.batch.${onUnified}`, type: 'text', text: { body: 'yes, tomorrow' } },
      { from: onLegacy, id: `wamid.batch.${onLegacy}`, type: 'interactive',
        interactive: { type: 'list_reply', list_reply: { id: 'opt_2', title: 'Kicukiro' } } },
    ],
    statuses: [
      { id: 'wamid.bot.u', status: 'read', recipient_id: onUnified },
      { id: 'wamid.bot.l', status: 'delivered', recipient_id: onLegacy },
    ],
  } }] }],
};
const [u0, l0] = [unified.received.length, legacy.received.length];
const rowsBefore = (await sql`SELECT count(*)::int AS n FROM webhook_routing_logs`)[0].n;
const split1 = await post(batched);
const toUnified = unified.received.slice(u0).map((r) => ({ ...r, value: JSON.parse(r.body).entry[0].changes[0].value }));
const toLegacy = legacy.received.slice(l0).map((r) => ({ ...r, value: JSON.parse(r.body).entry[0].changes[0].value }));
const only = (parts, sender) => parts.length === 1
  && parts[0].value.messages?.length === 1 && parts[0].value.messages[0].from === sender
  && parts[0].value.statuses?.length === 1 && parts[0].value.statuses[0].recipient_id === sender
  && parts[0].value.contacts?.length === 1 && parts[0].value.contacts[0].wa_id === sender;
checks.expect(split1.status === 200 && only(toUnified, onUnified) && only(toLegacy, onLegacy)
  && toLegacy[0].path === legacyPath,
  `a batched body of a unified and a legacy sender: ${split1.status}, unified got ${JSON.stringify(toUnified.map((r) => r.value))}, `
  + `legacy got ${JSON.stringify(toLegacy.map((r) => [r.path, r.value]))}`);
const batchRows = await sql`SELECT routed_to, reason, status FROM webhook_routing_logs
                            WHERE message_id IN (routing_message_key(${`wamid.batch.${onUnified}`}),
                                                 routing_message_key(${`wamid.batch.${onLegacy}`}))
                            ORDER BY routed_to`;
checks.expect(batchRows.length === 2 && batchRows.every((r) => r.reason === 'conversation' && r.status === 'success'),
  `the batched messages' decisions: ${JSON.stringify(batchRows)}`);
// WhatsApp re-delivers it: the same handlers, reason retry, no new row.
const [u1, l1] = [unified.received.length, legacy.received.length];
const split2 = await post(batched);
const again = [...unified.received.slice(u1), ...legacy.received.slice(l1)];
const rowsAfter = (await sql`SELECT count(*)::int AS n FROM webhook_routing_logs`)[0].n;
checks.expect(split2.status === 200 && unified.received.length === u1 + 1 && legacy.received.length === l1 + 1
  && again.every((r) => /reason=retry/.test(r.decision)) && rowsAfter === rowsBefore + 2,
  `the batched body re-delivered: ${split2.status}, ${again.map((r) => r.decision).join(' | ')}, rows ${rowsBefore} → ${rowsAfter}`);
summary.push(`a batched body of two senders on two handlers: split into ${toUnified.length} + ${toLegacy.length} parts, `
  + `each with its message, status and contact; re-delivered: the same handlers, reason retry, no new row`);

// The signature check, when the router has the app secret.
const signed = createRouter({ sql, verifyToken: 'v', unifiedUrl: `${unified.url}/unified`, legacyUrls: {},
                              defaultLegacyUrl: `${legacy.url}/default`, appSecret: 'app-secret' });
const bodyText = JSON.stringify(withSender(fixtures[0].body, '250700000001', 1));
const mac = createHmac('sha256', 'app-secret').update(bodyText).digest('hex');
const request = (signature) => new Request('http://127.0.0.1/whatsapp', { method: 'POST', body: bodyText,
  headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature } });
const good = await signed(request(`sha256=${mac}`));
const bad = await signed(request('sha256=0000'));
checks.expect(good.status === 200 && bad.status === 401, `signature check: right ${good.status}, wrong ${bad.status}`);

// Not JSON: answered, by the default legacy handler, logged as not_a_webhook.
const junk = await post('this is not json');
// (Ids are handed out in blocks per connection: the newest row is the newest by time.)
const [last] = await sql`SELECT routed_to, reason FROM webhook_routing_logs ORDER BY created_at DESC, id DESC LIMIT 1`;
checks.expect(junk.status === 200 && last.reason === 'not_a_webhook' && legacy.received.at(-1).path === '/default',
  `a body that is not JSON: ${junk.status}, ${last.reason}, ${legacy.received.at(-1).path}`);

await sql.end();
for (const s of [router, legacy.server, unified.server]) s.close();
checks.done(summary);

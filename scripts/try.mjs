// The world around the edge router for scripts/try: two handlers (the unified one and the
// legacy ones, one path per domain) and WhatsApp, which sends the conversations of
// tests/conversations/conversations.jsonl through the router, each from a sender of its own,
// a few sessions at a time, a message every second or two per session, with a delivery status
// of the bot's answer now and then. Runs until stopped (SIGTERM), writing what it has sent and
// what the handlers received to STATE_FILE every second.
//
//   ROUTER_URL=http://127.0.0.1:8787/ STATE_FILE=... PORTS_FILE=... node scripts/try.mjs
//
// The handlers listen on free ports, written to PORTS_FILE as soon as they do (the router's
// configuration needs them). The unified handler answers in 40-160 ms and fails
// UNIFIED_ERRORS of its requests (default 0.005); a legacy one answers in 80-240 ms and fails
// 0.2%. SESSIONS (default 6) sessions run at once.
import { createServer } from 'node:http';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { bodyOf, messageOf, statusOf } from '../tests/node/whatsapp.mjs';

const env = (name, fallback) => process.env[name] ?? fallback;
const routerUrl = env('ROUTER_URL');
const stateFile = env('STATE_FILE');
const portsFile = env('PORTS_FILE');
if (!routerUrl || !stateFile || !portsFile) {
  console.error('usage: ROUTER_URL=... STATE_FILE=... PORTS_FILE=... node scripts/try.mjs');
  process.exit(2);
}
const unifiedErrors = Number(env('UNIFIED_ERRORS', '0.005'));
const sessions = Number(env('SESSIONS', '6'));

const conversations = readFileSync(new URL('../tests/conversations/conversations.jsonl', import.meta.url), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

const state = { sent: 0, answered_2xx: 0, answered_other: 0, unified: 0, legacy: {}, sessions_done: 0 };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (lo, hi) => lo + Math.random() * (hi - lo);

// A handler answers with its name and the router's decision (x-routing-decision), so that
// whoever posts a webhook through the router sees where it went.
function handler(name, onRequest) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      const failed = await onRequest(req.url);
      const where = name === 'legacy' ? `the legacy handler ${req.url}` : 'the unified handler';
      res.writeHead(failed ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(`${where} ${failed ? 'failed' : 'took it'}: ${req.headers['x-routing-decision'] ?? ''}\n`);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const unified = await handler('unified', async () => {
  state.unified += 1;
  await sleep(between(40, 160));
  return Math.random() < unifiedErrors;
});
const legacy = await handler('legacy', async (path) => {
  const domain = path.replace(/^\/+/, '') || 'default';
  state.legacy[domain] = (state.legacy[domain] ?? 0) + 1;
  await sleep(between(80, 240));
  return Math.random() < 0.002;
});
writeFileSync(portsFile, JSON.stringify({ unified: unified.address().port, legacy: legacy.address().port }));

async function post(body) {
  state.sent += 1;
  try {
    const res = await fetch(routerUrl, {
      method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' },
    });
    await res.arrayBuffer();
    if (res.ok) state.answered_2xx += 1; else state.answered_other += 1;
  } catch {
    state.answered_other += 1;
  }
}

let running = true;
let next = Math.floor(Math.random() * conversations.length);
let senderSeq = Math.floor(Math.random() * 1e6);
async function session() {
  while (running) {
    const conversation = conversations[next++ % conversations.length];
    const sender = `25078${String(1_000_000 + senderSeq++ % 8_999_999).padStart(7, '0')}`;
    const started = Date.now();
    for (const [i, item] of conversation.messages.entries()) {
      if (!running) return;
      // (A message marked retry is a re-delivery of the one before with its id.)
      const id = `wamid.try.${sender}.${started}.${item.mid}`;
      await post(bodyOf([messageOf(item, sender, id)]));
      if (Math.random() < 0.3) await post(bodyOf([], [statusOf(sender, `wamid.bot.${sender}.${i}`)]));
      await sleep(between(800, 2000));
    }
    state.sessions_done += 1;
  }
}

const save = () => {
  writeFileSync(`${stateFile}.new`, JSON.stringify(state));
  renameSync(`${stateFile}.new`, stateFile);
};
const saver = setInterval(save, 1000);
// The router may start after this: wait (a minute at most) until it answers anything.
for (let i = 0; i < 600; i++) {
  try {
    await (await fetch(routerUrl)).arrayBuffer();
    break;
  } catch {
    await sleep(100);
  }
}
const workers = Array.from({ length: sessions }, async (_, i) => {
  await sleep(i * 300);
  await session();
});
const stop = async () => {
  running = false;
  clearInterval(saver);
  await Promise.race([Promise.all(workers), sleep(3000)]);
  save();
  unified.close();
  legacy.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

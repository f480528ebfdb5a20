// Detection against labelled messages: each line of a set (JSONL) is a message as a user sends
// it (a text, a caption, a document, a button or list pick, an ad click, an order) and the
// domain the user means ("none" for greetings and bare replies). Each is made into a WhatsApp
// webhook body and routed by route_decision(..., log => false) with the seeded rules and the
// default config (mobility, profile, insurance protected). Prints accuracy overall, per
// language and per domain, the confusion matrix, and the misses.
//
//   node tests/detection/run.mjs SET.jsonl [--assert] [--quiet]
//
// --assert: fail unless overall >= 95%, every language >= 90%, and no message of a protected
// domain is detected as a routable one (the unsafe direction).
import { readFileSync } from 'node:fs';
import { connect, freshDatabase } from '../node/common.mjs';
import { bodyOf, messageOf } from '../node/whatsapp.mjs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const enforce = args.includes('--assert');
const quiet = args.includes('--quiet');
if (!file) {
  console.error('usage: node tests/detection/run.mjs SET.jsonl [--assert] [--quiet]');
  process.exit(2);
}

const PROTECTED = ['mobility', 'profile', 'insurance'];
const ROUTABLE = ['jobs', 'marketplace', 'property', 'ai_agents'];
const DOMAINS = [...ROUTABLE, ...PROTECTED, 'none'];

const items = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
  try {
    return JSON.parse(l);
  } catch (e) {
    console.error(`${file}:${i + 1}: not JSON: ${e.message}`);
    process.exit(2);
  }
});

function body(item, n) {
  return bodyOf([messageOf(item, `25078${String(1000000 + n).slice(-7)}`, `wamid.detect.${n}`)]);
}

const db = 'wr_detection';
await freshDatabase(db);
const sql = connect(db);
const bodies = items.map((item, n) => body(item, n));
const rows = await sql.unsafe(
  `SELECT b.n, (route_decision(b.body, log => false)).domain
   FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS b(body, n) ORDER BY b.n`,
  [JSON.stringify(bodies)],
);
// Which messages a typo (a word one edit from a pattern's) counted for, and whether right.
const typoRows = await sql.unsafe(
  `SELECT b.n FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS b(body, n)
   WHERE EXISTS (SELECT 1 FROM explain_route(b.body) AS e
                 WHERE e.step = 'match' AND e.note = 'counted' AND e.matched LIKE '%(one edit from the pattern)')`,
  [JSON.stringify(bodies)],
);
await sql.end();
const typoAt = typoRows.map((r) => Number(r.n) - 1);

const got = rows.map((r) => r.domain ?? 'none');
const pct = (a, b) => (b ? (100 * a / b).toFixed(1) : '-');
const tally = (key) => {
  const t = new Map();
  items.forEach((item, i) => {
    const k = key(item);
    const e = t.get(k) ?? { n: 0, ok: 0 };
    e.n += 1;
    if (got[i] === item.domain) e.ok += 1;
    t.set(k, e);
  });
  return t;
};
const ok = items.filter((item, i) => got[i] === item.domain).length;
const unsafe = items.filter((item, i) => PROTECTED.includes(item.domain) && ROUTABLE.includes(got[i]));

console.log(`detection on ${file}: ${items.length} messages, ${pct(ok, items.length)}% correct`);
const byLang = tally((item) => item.lang);
console.log('  by language: ' + [...byLang].sort().map(([k, e]) => `${k} ${pct(e.ok, e.n)}% of ${e.n}`).join(', '));
const byDomain = tally((item) => item.domain);
console.log('  by domain:   ' + DOMAINS.filter((d) => byDomain.has(d))
  .map((d) => `${d} ${pct(byDomain.get(d).ok, byDomain.get(d).n)}%`).join(', '));
const byKind = tally((item) => item.kind);
console.log('  by kind:     ' + [...byKind].sort().map(([k, e]) => `${k} ${pct(e.ok, e.n)}% of ${e.n}`).join(', '));
console.log(`  protected domain detected as a routable one: ${unsafe.length}`);
console.log(`  a typo counted in ${typoAt.length} messages, ${typoAt.filter((i) => got[i] === items[i].domain).length} of them detected right`);
console.log('  confusion (rows: meant, columns: detected)');
const short = (d) => d.slice(0, 9).padStart(9);
console.log('  ' + ''.padStart(12) + DOMAINS.map(short).join(' '));
for (const meant of DOMAINS) {
  const line = DOMAINS.map((d) => String(items.filter((item, i) => item.domain === meant && got[i] === d).length).padStart(9));
  console.log('  ' + meant.padStart(12) + line.join(' '));
}
if (!quiet) {
  const misses = items.map((item, i) => [item, got[i]]).filter(([item, g]) => g !== item.domain);
  for (const [item, g] of misses.slice(0, 200)) {
    const text = [item.text, item.caption, item.filename, item.title, item.description, item.headline, item.body]
      .filter(Boolean).join(' | ');
    console.log(`  miss ${item.id} ${item.lang} meant ${item.domain}, detected ${g}: ${text}`);
  }
}

if (enforce) {
  const failures = [];
  if (ok / items.length < 0.95) failures.push(`overall ${pct(ok, items.length)}% < 95%`);
  for (const [lang, e] of byLang) {
    if (e.ok / e.n < 0.90) failures.push(`${lang} ${pct(e.ok, e.n)}% < 90%`);
  }
  if (unsafe.length) failures.push(`${unsafe.length} protected messages detected as routable: ${unsafe.map((i) => i.id).join(', ')}`);
  if (failures.length) {
    console.log(`detection: FAILED: ${failures.join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log('detection: ok');
  }
}

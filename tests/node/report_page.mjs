// The migration report's page in a real browser: a rollout of jobs over the last three hours
// (raises, a kill switch, routing on again, a rollback; outcomes with errors and latencies),
// rendered by routing_report(..., 'html') as the reader role and opened by Debian's headless
// Chromium (scripts/test passes its path in CHROMIUM). What the browser rendered must hold the
// charts (a step line per step, a mark per step's end, of the right kinds), the text report's
// numbers, and the operator's reason with a <script> in it as text, never run (it would change
// the page's title). The Markdown's tables must have as many cells in every row as in their
// header. With REPORT_PNG set, the browser's screenshot is kept there (docs/src/operations/report.png).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checks, connect, freshDatabase, jobsMessage, randomSender } from './common.mjs';

const CHROMIUM = process.env.CHROMIUM;
if (!CHROMIUM) {
  console.error('CHROMIUM is not set: run through scripts/test (scripts/lib.sh, ensure_chromium)');
  process.exit(2);
}
const DB = 'wr_report_page';
const SCRIPT_REASON = '<script>document.title = "owned"</script> kill switch: unified errors at 4%';
const checks = new Checks('report_page');
await freshDatabase(DB);
const owner = connect(DB);

// The history, written with its times (an admin function stamps now): minutes before now.
const history = [
  [190, false, 0, 'set_enabled', 'before the rollout: routing off'],
  [175, true, 5, 'rollout_start', 'jobs: start at 5%'],
  [140, true, 10, 'set_percentage', 'raise to 10% | error rate and p95 met'],
  [110, true, 25, 'set_percentage', 'raise to 25%'],
  [80, false, 25, 'set_enabled', SCRIPT_REASON],
  [65, true, 25, 'set_enabled', 'fix deployed, routing on again'],
  [40, true, 10, 'rollback', 'rollback 25% → 10%: p95 over the gate'],
];
await owner`UPDATE webhook_routing_config SET created_at = now() - interval '1 day'`;
for (const [ago, enabled, pct, action, reason] of history) {
  await owner`
    INSERT INTO webhook_routing_config (percentage, enabled, domain_percentages, action, reason, created_at)
    VALUES (0, ${enabled}, ${owner.json({ jobs: pct })}, ${action}, ${reason}, now() - make_interval(mins => ${ago}))`;
}
// Outcomes every minute from 3 hours ago: 40 requests a minute, the step's share to unified
// (none while routing is off); unified slower and failing more at 25%, legacy steady.
await owner`
  WITH minutes AS (
    SELECT m, now() - make_interval(mins => m) + interval '10 seconds' AS at,
           CASE WHEN m > 175 THEN 0 WHEN m > 140 THEN 5 WHEN m > 110 THEN 10 WHEN m > 80 THEN 25
                WHEN m > 65 THEN 0 WHEN m > 40 THEN 25 ELSE 10 END AS pct
    FROM generate_series(1, 180) AS m
  )
  INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
  SELECT 'whatsapp', 'jobs', t.target,
         CASE WHEN t.target = 'unified' AND n.pct = 25 AND (n.m + g) % 25 = 0 THEN 'error'
              WHEN (n.m * 7 + g) % 211 = 0 THEN 'error' ELSE 'success' END,
         CASE WHEN t.target = 'unified' THEN 380 + (g * 37 + n.m) % 160 + CASE WHEN n.pct = 25 THEN 1200 + (g * 53) % 1400 ELSE 0 END
              ELSE 520 + (g * 41 + n.m * 3) % 300 END,
         n.at
  FROM minutes AS n,
       LATERAL (SELECT 'unified' AS target, round(40 * n.pct / 100.0)::int AS k
                UNION ALL SELECT 'legacy', 40 - round(40 * n.pct / 100.0)::int) AS t,
       generate_series(1, t.k) AS g`;
// And the step in progress through route_decision, as the caller role.
const caller = connect(DB);
await caller`SET ROLE webhook_routing_caller`;
for (let i = 0; i < 60; i++) {
  const [d] = await caller`SELECT decision_id FROM route_decision(${caller.json(jobsMessage(randomSender()))})`;
  await caller`SELECT record_routing_outcome(${d.decision_id}, ${i % 30 === 0 ? 'error' : 'success'}, ${300 + (i * 13) % 400})`;
}
await caller.end();
await owner.end();

const reader = connect(DB);
await reader`SET ROLE webhook_routing_reader`;
const since = await reader`SELECT now() - interval '3 hours' AS since`;
const render = async (format) =>
  (await reader`SELECT routing_report('jobs', ${since[0].since}, ${format}) AS r`)[0].r;
const text = await render('text');
const markdown = await render('markdown');
const html = await render('html');
await reader.end();

// The text report's steps: number, unified and legacy (requests, error rate, p95), decision.
const steps = [];
for (const line of text.split('\n')) {
  let m = line.match(/^Step (\d+): /);
  if (m) { steps.push({ step: m[1], targets: {} }); continue; }
  m = line.match(/^ {2}(unified|legacy)\s+(\d+) requests {3}error rate (.*?) {3}p95 (.*)$/);
  if (m) steps.at(-1).targets[m[1]] = { requests: m[2], error: m[3], p95: m[4] };
  m = line.match(/^ {2}Decision: (complete|in progress|routing on|roll back \(routing off\)|roll back|proceed|hold)/);
  if (m) steps.at(-1).decision = m[1];
}
checks.expect(steps.length === 7, `the text report has ${steps.length} steps, not 7: ${text}`);

// The browser: the DOM after load, and a screenshot.
const dir = mkdtempSync(join(tmpdir(), 'report-page-'));
const page = join(dir, 'report.html');
writeFileSync(page, html);
const browser = (args) => spawnSync(CHROMIUM, [
  '--headless', '--disable-gpu', '--no-sandbox', '--hide-scrollbars', `--user-data-dir=${join(dir, 'profile')}`,
  ...args, `file://${page}`,
], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
const dumped = browser(['--dump-dom']);
checks.expect(dumped.status === 0, `chromium --dump-dom exited ${dumped.status}: ${dumped.stderr}`);
const dom = dumped.stdout ?? '';
const png = join(dir, 'report.png');
const shot = browser([`--screenshot=${png}`, '--window-size=1200,1500']);
checks.expect(shot.status === 0, `chromium --screenshot exited ${shot.status}: ${shot.stderr}`);

const count = (re) => (dom.match(re) ?? []).length;
const title = dom.match(/<title>([^<]*)<\/title>/)?.[1];
checks.expect(title === 'Migration report: jobs', `the page's title is ${title}`);
checks.expect(count(/<script\b/gi) === 0, 'the rendered page has a script element');
checks.expect(dom.includes('&lt;script&gt;document.title = "owned"&lt;/script&gt; kill switch: unified errors at 4%'),
  "the reason with a <script> is not on the page as text");
checks.expect(count(/<svg\b/g) === 3, `${count(/<svg\b/g)} charts, not 3`);
const stepLines = count(/<line class="step(?: off)?" data-step="\d+"/g);
checks.expect(stepLines === steps.length, `${stepLines} step lines for ${steps.length} steps`);
const marks = [...dom.matchAll(/<g class="mark ([a-z-]+)" data-step="(\d+)"/g)].map((m) => m[1]);
const expectedMarks = ['routing-on', 'advance', 'advance', 'routing-off', 'routing-on', 'rollback'];
checks.expect(JSON.stringify(marks) === JSON.stringify(expectedMarks), `marks ${marks.join(', ')}`);
for (const chart of ['error-rate', 'p95']) {
  const svg = dom.match(new RegExp(`<svg class="chart ${chart}"[\\s\\S]*?</svg>`))?.[0] ?? '';
  for (const target of ['unified', 'legacy']) {
    const d = svg.match(new RegExp(`<path class="series ${target}" d="([^"]*)"`))?.[1] ?? '';
    checks.expect((d.match(/[ML]/g) ?? []).length >= 30, `the ${chart} chart's ${target} line has few points: ${d.slice(0, 80)}`);
  }
  checks.expect(svg.includes('class="gate"'), `the ${chart} chart has no gate line`);
}
// The table's numbers are the text's.
for (const s of steps) {
  const row = dom.match(new RegExp(`<tr data-step="${s.step}">([\\s\\S]*?)</tr>`))?.[1] ?? '';
  for (const target of ['unified', 'legacy']) {
    const cell = (kind) => row.match(new RegExp(`class="num ${target} ${kind}">([^<]*)<`))?.[1];
    const want = s.targets[target];
    const got = { requests: cell('requests'), error: cell('error-rate'), p95: cell('p95') };
    checks.expect(want && JSON.stringify(got) === JSON.stringify(want),
      `step ${s.step} ${target}: page ${JSON.stringify(got)}, text ${JSON.stringify(want)}`);
  }
  const decision = row.match(/class="decision">([^<]*)</)?.[1];
  checks.expect(decision === s.decision, `step ${s.step}: page says ${decision}, text ${s.decision}`);
}
// The screenshot is a PNG of the window's size, not blank.
const image = readFileSync(png);
checks.expect(image.subarray(1, 4).toString() === 'PNG', 'the screenshot is not a PNG');
const [width, height] = [image.readUInt32BE(16), image.readUInt32BE(20)];
checks.expect(width === 1200 && height === 1500, `the screenshot is ${width}x${height}`);
checks.expect(statSync(png).size > 30_000, `the screenshot has ${statSync(png).size} bytes: blank?`);
if (process.env.REPORT_PNG) copyFileSync(png, process.env.REPORT_PNG);

// The Markdown: every table row has its header's cells (a separator is a pipe not backslashed),
// and the steps' table says what the text says.
const tables = [];
for (const line of markdown.split('\n')) {
  if (!line.startsWith('|')) { tables.push(null); continue; }
  if (tables.at(-1) == null) tables.push([]);
  tables.at(-1).push(line.replace(/\\\|/g, '').split('|').slice(1, -1).map((c) => c.trim()));
}
const mdTables = tables.filter(Boolean);
checks.expect(mdTables.length >= 1, 'the Markdown has no table');
for (const t of mdTables) {
  const widths = t.map((r) => r.length);
  checks.expect(widths.every((w) => w === widths[0]), `a Markdown table's rows have ${widths.join(', ')} cells`);
  checks.expect(t[1]?.every((c) => /^:?-+:?$/.test(c)), `a Markdown table's second row is no separator: ${t[1]}`);
}
const mdSteps = mdTables[0].slice(2);
checks.expect(mdSteps.length === steps.length, `${mdSteps.length} steps in the Markdown, ${steps.length} in the text`);
for (const [i, r] of mdSteps.entries()) {
  const s = steps[i];
  const got = [r[4], r[5], r[6], r[7], r[8], r[9], r[10]];
  const want = [s.targets.unified?.requests, s.targets.unified?.error, s.targets.unified?.p95,
                s.targets.legacy?.requests, s.targets.legacy?.error, s.targets.legacy?.p95, s.decision];
  checks.expect(JSON.stringify(got) === JSON.stringify(want), `Markdown step ${i + 1}: ${got} vs ${want}`);
}
checks.expect(markdown.includes('&lt;script&gt;') && !markdown.includes('<script'), 'the Markdown carries the <script> unescaped');
checks.expect(markdown.includes('raise to 10% \\| error rate and p95 met'), 'the pipe in a reason is not backslashed');

checks.done([
  `${steps.length} steps, marks ${marks.join(', ')}; page ${html.length} bytes, screenshot ${width}x${height}`,
  `markdown: ${mdTables.length} tables, ${markdown.length} bytes`,
]);

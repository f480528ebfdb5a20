// The router under Node, for a local run (scripts/try starts it): what main.ts is under Deno,
// configured by the same variables, with DATABASE_URL for Supabase's SUPABASE_DB_URL and PORT
// (default 8787) and HOST (default 127.0.0.1) for where it listens.
//
//   DATABASE_URL=postgres://edge_function@127.0.0.1:5432/db WHATSAPP_VERIFY_TOKEN=... \
//   UNIFIED_WEBHOOK_URL=... LEGACY_WEBHOOK_URLS='{"jobs": "..."}' DEFAULT_LEGACY_WEBHOOK_URL=... \
//   node examples/edge-router/node.mjs
//
// router.ts is turned into JavaScript when this starts (TypeScript's transpileModule: types
// removed, nothing checked; tests/node/edge_router.mjs type-checks it). The postgres driver
// and TypeScript come from tests/node (npm ci there; scripts/test and scripts/try run it).
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(new URL('../../tests/node/package.json', import.meta.url));
const postgres = require('postgres');
const ts = require('typescript');

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return value;
};

const source = readFileSync(new URL('./router.ts', import.meta.url), 'utf8');
const { outputText } = ts.transpileModule(source, {
  compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
});
const dir = mkdtempSync(join(tmpdir(), 'edge-router-'));
writeFileSync(join(dir, 'router.mjs'), outputText);
const { createRouter } = await import(pathToFileURL(join(dir, 'router.mjs')).href);
rmSync(dir, { recursive: true, force: true });

// prepare: false, as through Supabase's pooler in transaction mode.
const sql = postgres(env('DATABASE_URL'), { prepare: false, max: 4, onnotice: () => {} });
const route = createRouter({
  sql,
  verifyToken: env('WHATSAPP_VERIFY_TOKEN'),
  unifiedUrl: env('UNIFIED_WEBHOOK_URL'),
  legacyUrls: JSON.parse(env('LEGACY_WEBHOOK_URLS')),
  defaultLegacyUrl: env('DEFAULT_LEGACY_WEBHOOK_URL'),
  appSecret: process.env.WHATSAPP_APP_SECRET || undefined,
});

// Node's request as a web Request, the router's Response back as Node's answer.
const server = createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await route(new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
    }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (e) {
    console.error('edge router:', e instanceof Error ? e.message : String(e));
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('router error\n');
  }
});
const port = Number(env('PORT', '8787'));
const host = env('HOST', '127.0.0.1');
server.listen(port, host, () => console.log(`edge router listening on http://${host}:${port}/`));
const stop = () => server.close(() => sql.end({ timeout: 5 }).then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

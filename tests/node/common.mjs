// Shared by the client tests: connections to the throwaway cluster scripts/test started
// (PGPORT, on 127.0.0.1), a fresh database per test, and the checks' bookkeeping.
import postgres from 'postgres';
import { bodyOf, messageOf } from './whatsapp.mjs';

export const port = Number(process.env.PGPORT);
if (!port) {
  console.error('PGPORT is not set: run through scripts/test');
  process.exit(2);
}

export function connect(database, options = {}) {
  return postgres({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database,
    max: 1,
    idle_timeout: 0,
    connect_timeout: 10,
    onnotice: () => {},
    ...options,
  });
}

// Drop and create `name`, install the extension, route jobs at 50%.
export async function freshDatabase(name) {
  const server = connect('postgres');
  await server.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await server.unsafe(`CREATE DATABASE ${name}`);
  await server.end();
  const sql = connect(name);
  await sql`CREATE EXTENSION webhook_routing`;
  await sql`SELECT set_routing_enabled(true, 'test setup')`;
  await sql`SELECT update_routing_percentage(50, 'test setup')`;
  await sql.end();
}

// A WhatsApp text message from `sender` that the seeded rules put in the jobs domain (an
// object: pass it as sql.json(...), which the driver sends as jsonb text once).
export function jobsMessage(sender) {
  return bodyOf([messageOf({ kind: 'text', text: 'looking for a job in kigali, any vacancy?' }, sender,
                           `wamid.${sender}.${Math.random().toString(36).slice(2)}`)]);
}

// A sender never seen before in this process: a random start, then the next number each time.
// (Drawn independently, two of a test's thousands of senders would share a number now and
// then, and the second would follow the first one's conversation, not the percentage.)
const senderStart = Math.floor(Math.random() * 1e8);
let sendersDrawn = 0;
export function randomSender() {
  return '2507' + String((senderStart + sendersDrawn++) % 1e8).padStart(8, '0');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Collects failed checks; `done` prints them and sets the exit code.
export class Checks {
  constructor(name) { this.name = name; this.failures = []; }
  expect(ok, message) { if (!ok) this.failures.push(message); }
  done(summary) {
    for (const line of summary) console.log(`  ${line}`);
    if (this.failures.length) {
      console.log(`${this.name}: FAILED`);
      for (const f of this.failures.slice(0, 20)) console.log(`  - ${f}`);
      process.exitCode = 1;
    } else {
      console.log(`${this.name}: ok`);
    }
  }
}

// A WhatsApp webhook router for a Supabase edge function, on webhook_routing.
//
// For every POST it asks the database where each message and status of the body goes
// (route_messages: one call, which also logs each message's decision and keeps each sender's
// conversation on its handler), forwards the body to the handlers, and reports how each did
// (record_routing_outcome). A body whose elements all go to one handler is forwarded unchanged;
// a batched body whose senders go to different handlers is split into one body per handler,
// each with its own messages, statuses and contacts. Statuses of the bot's own messages go to
// the handler of their recipient's conversation. GET answers WhatsApp's subscription check.
// Only web-standard APIs (Request, Response, fetch, AbortController, crypto.subtle,
// performance): the same code runs under Deno (main.ts) and Node (the end-to-end test,
// tests/node/edge_router.mjs).
//
// WhatsApp re-delivers a body that was not answered 2xx. The router answers 2xx only when every
// part was; a re-delivery gets each message's first decision back (reason retry), so every
// message goes to the handler it went to the first time, and handlers see a message again only
// when they, or another part of its body, failed. Handlers should ignore a message id they
// have already handled, as WhatsApp asks of any webhook.

/** The slice of a postgres.js client the router uses: tagged-template queries and json(). */
export interface Sql {
  <T = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
  json(value: unknown): unknown;
}

export interface RouterOptions {
  sql: Sql;
  /** The token configured in Meta's app dashboard for the subscription check. */
  verifyToken: string;
  /** The one new handler. */
  unifiedUrl: string;
  /** The legacy handler of each domain, e.g. { jobs: "https://.../jobs-webhook" }. */
  legacyUrls: Record<string, string>;
  /** Where everything else goes: no domain, statuses of no conversation, the database unreachable. */
  defaultLegacyUrl: string;
  /**
   * The app secret: when given, a POST whose X-Hub-Signature-256 is not the body's HMAC is
   * refused (401). A split part is not the body Meta signed: it is forwarded without the
   * signature, with `x-routing-verified: sha256` when the router checked the original.
   */
  appSecret?: string;
  /** Give up on a handler after this long (ms); the outcome is an error. Default 10,000. */
  timeoutMs?: number;
  /** Passed to route_messages as webhook_name. Default "whatsapp". */
  webhookName?: string;
  fetch?: typeof fetch;
}

/** A row of route_messages. */
interface Routed {
  position: number;
  kind: "message" | "status" | "body";
  message_id: string | null;
  sender: string | null;
  domain: string | null;
  routed_to: "unified" | "legacy";
  reason: string;
  decision_id: string | null;
  retry: boolean;
}

/** Headers worth passing on to the handlers (the signature lets them verify the body). */
const FORWARDED = ["content-type", "x-hub-signature", "x-hub-signature-256", "user-agent"];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The key of a message or status: its kind, its id and its user. */
const key = (kind: string, id: unknown, user: unknown) => `${kind}\u0000${String(id ?? "")}\u0000${String(user ?? "")}`;

/** A body element's key, as route_messages reports the element (message_id, sender). */
function keyOf(kind: "message" | "status", element: unknown): string | null {
  if (!isObject(element)) return null;
  return key(kind, element.id, kind === "message" ? element.from : element.recipient_id);
}

/** The body with only the elements `keep` says yes to (and the contacts of their senders). */
function partOf(body: Json, keep: (kind: "message" | "status", element: unknown) => boolean): Json {
  const entry = list(body.entry).map((e) => {
    if (!isObject(e)) return e;
    const changes = list(e.changes).map((c) => {
      if (!isObject(c) || !isObject(c.value)) return c;
      const value = c.value;
      const messages = list(value.messages).filter((m) => keep("message", m));
      const statuses = list(value.statuses).filter((s) => keep("status", s));
      const senders = new Set(messages.map((m) => (isObject(m) ? m.from : undefined)));
      const contacts = list(value.contacts).filter((k) => isObject(k) && senders.has(k.wa_id));
      const out: Json = { ...value };
      for (const [name, items] of [["messages", messages], ["statuses", statuses], ["contacts", contacts]] as const) {
        if (items.length) out[name] = items;
        else delete out[name];
      }
      return { ...c, value: out };
    });
    return { ...e, changes };
  });
  return { ...body, entry };
}

async function hmacHex(secret: string, text: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function createRouter(options: RouterOptions): (req: Request) => Promise<Response> {
  const { sql, verifyToken, unifiedUrl, legacyUrls, defaultLegacyUrl } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const webhookName = options.webhookName ?? "whatsapp";
  const send = options.fetch ?? fetch;

  async function decide(body: unknown): Promise<Routed[]> {
    try {
      return await sql<Routed>`
        SELECT position, kind, message_id, sender, domain, routed_to, reason, decision_id, retry
        FROM webhook_routing.route_messages(${body === undefined ? null : sql.json(body)}::jsonb, ${webhookName}::text)`;
    } catch (e) {
      // The router must answer even when the database does not: legacy, unlogged.
      console.error("route_messages failed, sending to legacy:", e);
      return [{ position: 1, kind: "body", message_id: null, sender: null, domain: null, routed_to: "legacy",
                reason: "database_unavailable", decision_id: null, retry: false }];
    }
  }

  async function report(id: string, status: "success" | "error", ms: number, error: string | null) {
    try {
      await sql`SELECT webhook_routing.record_routing_outcome(${id}::bigint, ${status}::text, ${Math.round(ms * 10) / 10}::numeric, ${error}::text)`;
    } catch (e) {
      console.error("record_routing_outcome failed:", e);
    }
  }

  const targetOf = (r: Routed) =>
    r.routed_to === "unified" ? unifiedUrl : (r.domain && legacyUrls[r.domain]) || defaultLegacyUrl;

  /** POST one part to its handler; the outcome of each of its decisions is reported. */
  async function forward(target: string, raw: string, headers: Headers, rows: Routed[]) {
    const started = performance.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let status = 502;
    let text = "Bad Gateway";
    let error: string | null = null;
    try {
      const upstream = await send(target, { method: "POST", body: raw, headers, signal: abort.signal });
      text = await upstream.text();
      status = upstream.status;
      if (!upstream.ok) error = `HTTP ${upstream.status}: ${text.slice(0, 200)}`;
    } catch (e) {
      error = abort.signal.aborted ? `timeout after ${timeoutMs} ms` : String(e);
    } finally {
      clearTimeout(timer);
    }
    const ms = performance.now() - started;
    const ids = new Set(rows.map((r) => r.decision_id).filter((id): id is string => id !== null));
    await Promise.all([...ids].map((id) => report(id, error === null ? "success" : "error", ms, error)));
    return { status, text };
  }

  return async function route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (req.method === "GET") {
      const ok = url.searchParams.get("hub.mode") === "subscribe" &&
        url.searchParams.get("hub.verify_token") === verifyToken;
      return ok
        ? new Response(url.searchParams.get("hub.challenge") ?? "", { status: 200 })
        : new Response("Forbidden", { status: 403 });
    }
    if (req.method !== "POST") {
      return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, POST" } });
    }

    const raw = await req.text();
    if (options.appSecret !== undefined) {
      const given = req.headers.get("x-hub-signature-256") ?? "";
      if (given !== `sha256=${await hmacHex(options.appSecret, raw)}`) {
        return new Response("Unauthorized", { status: 401 });
      }
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined; // not JSON: route_messages answers NULL with not_a_webhook
    }
    const rows = await decide(body);

    // The handler of each element, by its id and user; the parts, one per handler.
    const parts = new Map<string, Routed[]>();
    const handlerOf = new Map<string, string>();
    for (const r of rows) {
      const target = targetOf(r);
      parts.set(target, [...(parts.get(target) ?? []), r]);
      if (r.kind !== "body") handlerOf.set(key(r.kind, r.message_id, r.sender), target);
    }

    const headers = new Headers();
    for (const name of FORWARDED) {
      const value = req.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    const describe = (part: Routed[]) =>
      part.map((r) => `${r.routed_to}; reason=${r.reason}; id=${r.decision_id ?? "none"}`).join(", ");

    let answers: { status: number; text: string }[];
    if (parts.size <= 1 || !isObject(body)) {
      // One handler (or nothing to split): the body as WhatsApp sent it, signature and all.
      const [target, part] = [...parts][0] ?? [defaultLegacyUrl, []];
      headers.set("x-routing-decision", describe(part));
      answers = [await forward(target, raw, headers, part)];
    } else {
      // Elements route_messages does not read as a message or a status (junk in the arrays)
      // are left out of the parts.
      const handler = (kind: "message" | "status", element: unknown) =>
        handlerOf.get(keyOf(kind, element) ?? "");
      headers.delete("x-hub-signature");
      headers.delete("x-hub-signature-256");
      if (options.appSecret !== undefined) headers.set("x-routing-verified", "sha256");
      headers.set("x-routing-split", String(parts.size));
      answers = await Promise.all([...parts].map(([target, part]) => {
        const partHeaders = new Headers(headers);
        partHeaders.set("x-routing-decision", describe(part));
        const text = JSON.stringify(partOf(body as Json, (kind, element) => handler(kind, element) === target));
        return forward(target, text, partHeaders, part);
      }));
    }
    // WhatsApp retries what is not 2xx: the first failure's answer, else the handlers' own.
    const failed = answers.find((a) => a.status < 200 || a.status > 299);
    const answer = failed ?? answers[0];
    return new Response(answer.text, { status: answer.status });
  };
}

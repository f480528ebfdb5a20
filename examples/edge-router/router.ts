// A WhatsApp webhook router for a Supabase edge function, on webhook_routing.
//
// For every POST it asks the database where the webhook goes (route_decision: one call, which
// also logs the decision), forwards the body unchanged to the unified handler or to the
// domain's legacy handler, and reports how the handler did (record_routing_outcome). GET
// answers WhatsApp's subscription check. Only web-standard APIs (Request, Response, fetch,
// AbortController, performance): the same code runs under Deno (main.ts) and Node (the
// end-to-end test, tests/node/edge_router.mjs).

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
  /** Where everything else goes: no domain, delivery statuses, the database unreachable. */
  defaultLegacyUrl: string;
  /** Give up on a handler after this long (ms); the outcome is an error. Default 10,000. */
  timeoutMs?: number;
  /** Passed to route_decision as webhook_name. Default "whatsapp". */
  webhookName?: string;
  fetch?: typeof fetch;
}

interface Decision {
  decision_id: string | null;
  domain: string | null;
  routed_to: "unified" | "legacy";
  reason: string;
}

/** Headers worth passing on to the handlers (the signature lets them verify the body). */
const FORWARDED = ["content-type", "x-hub-signature", "x-hub-signature-256", "user-agent"];

export function createRouter(options: RouterOptions): (req: Request) => Promise<Response> {
  const { sql, verifyToken, unifiedUrl, legacyUrls, defaultLegacyUrl } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const webhookName = options.webhookName ?? "whatsapp";
  const send = options.fetch ?? fetch;

  async function decide(body: unknown): Promise<Decision> {
    try {
      const [d] = await sql<Decision>`
        SELECT decision_id, domain, routed_to, reason
        FROM route_decision(${body === undefined ? null : sql.json(body)}::jsonb, ${webhookName}::text)`;
      return d;
    } catch (e) {
      // The router must answer even when the database does not: legacy, unlogged.
      console.error("route_decision failed, sending to legacy:", e);
      return { decision_id: null, domain: null, routed_to: "legacy", reason: "database_unavailable" };
    }
  }

  async function report(id: string, status: "success" | "error", ms: number, error: string | null) {
    try {
      await sql`SELECT record_routing_outcome(${id}::bigint, ${status}::text, ${Math.round(ms * 10) / 10}::numeric, ${error}::text)`;
    } catch (e) {
      console.error("record_routing_outcome failed:", e);
    }
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
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined; // not JSON: route_decision answers NULL with not_a_webhook
    }
    const d = await decide(body);
    const target = d.routed_to === "unified"
      ? unifiedUrl
      : (d.domain && legacyUrls[d.domain]) || defaultLegacyUrl;

    const headers = new Headers();
    for (const name of FORWARDED) {
      const value = req.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    headers.set("x-routing-decision", `${d.routed_to}; reason=${d.reason}; id=${d.decision_id ?? "none"}`);

    const started = performance.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let response: Response;
    let error: string | null = null;
    try {
      const upstream = await send(target, { method: "POST", body: raw, headers, signal: abort.signal });
      const text = await upstream.text();
      if (!upstream.ok) error = `HTTP ${upstream.status}: ${text.slice(0, 200)}`;
      // WhatsApp retries what is not 2xx: pass the handler's answer on.
      response = new Response(text, { status: upstream.status });
    } catch (e) {
      error = abort.signal.aborted ? `timeout after ${timeoutMs} ms` : String(e);
      response = new Response("Bad Gateway", { status: 502 });
    } finally {
      clearTimeout(timer);
    }
    if (d.decision_id !== null) {
      await report(d.decision_id, error === null ? "success" : "error", performance.now() - started, error);
    }
    return response;
  };
}

// A Prometheus exporter for webhook_routing: GET /metrics answers with routing_metrics(), the
// text exposition format, read through the pooler as a role with webhook_routing_reader (never
// the webhooks' caller role). Web-standard APIs only: main.ts serves it as a Supabase edge
// function; tests/node/metrics.mjs runs it under Node.

/** The slice of a postgres.js client the exporter uses: tagged-template queries. */
export interface Sql {
  <T = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
}

export interface ExporterOptions {
  sql: Sql;
  /**
   * When given, a scrape must send `Authorization: Bearer <token>` (Prometheus:
   * `authorization: { credentials: ... }`); anything else gets 401.
   */
  token?: string;
}

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Compares in time independent of where the strings differ. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export function createExporter(options: ExporterOptions): (req: Request) => Promise<Response> {
  return async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (!path.endsWith("/metrics")) {
      return new Response("not found: scrape /metrics\n", { status: 404 });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (options.token !== undefined) {
      const given = req.headers.get("authorization") ?? "";
      if (!sameSecret(given, `Bearer ${options.token}`)) {
        return new Response("unauthorized\n", { status: 401, headers: { "www-authenticate": "Bearer" } });
      }
    }
    try {
      const [row] = await options.sql<{ metrics: string }>`SELECT webhook_routing.routing_metrics() AS metrics`;
      return new Response(req.method === "HEAD" ? null : row.metrics, {
        status: 200,
        headers: { "content-type": CONTENT_TYPE, "cache-control": "no-store" },
      });
    } catch (e) {
      // Prometheus marks the target down (up == 0): the alert on that says the database or
      // the pooler does not answer. The error's text stays in the function's logs.
      console.error("routing_metrics failed:", e instanceof Error ? e.message : String(e));
      return new Response("routing_metrics failed\n", { status: 503 });
    }
  };
}

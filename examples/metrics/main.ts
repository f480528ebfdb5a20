// The Supabase edge function: `supabase functions deploy routing-metrics --no-verify-jwt`, with
// the secrets below set (`supabase secrets set ...`). METRICS_DB_URL connects through the pooler
// (port 6543) as a login role that has webhook_routing_reader and nothing else, e.g.
//   CREATE ROLE metrics_reader LOGIN PASSWORD '...' IN ROLE webhook_routing_reader;
// prepare: false because the pooler runs in transaction mode. METRICS_TOKEN is the bearer token
// Prometheus sends (the function is deployed without Supabase's JWT check).
import postgres from "npm:postgres@3.4.9";
import { createExporter } from "./exporter.ts";

const env = (name: string): string => {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const sql = postgres(env("METRICS_DB_URL"), { prepare: false, max: 1 });

Deno.serve(createExporter({ sql, token: env("METRICS_TOKEN") }));

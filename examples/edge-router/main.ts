// The Supabase edge function: `supabase functions deploy whatsapp-router`, with the secrets
// below set (`supabase secrets set ...`). SUPABASE_DB_URL is provided by Supabase; the role it
// connects as needs webhook_routing_caller (GRANT webhook_routing_caller TO postgres, or use a
// dedicated login role). prepare: false because the pooler runs in transaction mode.
import postgres from "npm:postgres@3.4.9";
import { createRouter } from "./router.ts";

const env = (name: string): string => {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const sql = postgres(env("SUPABASE_DB_URL"), { prepare: false, max: 4 });

Deno.serve(createRouter({
  sql,
  verifyToken: env("WHATSAPP_VERIFY_TOKEN"),
  unifiedUrl: env("UNIFIED_WEBHOOK_URL"),
  legacyUrls: JSON.parse(env("LEGACY_WEBHOOK_URLS")), // {"jobs": "https://...", ...}
  defaultLegacyUrl: env("DEFAULT_LEGACY_WEBHOOK_URL"),
  // Optional: verify Meta's X-Hub-Signature-256 here (split parts are forwarded unsigned).
  appSecret: Deno.env.get("WHATSAPP_APP_SECRET") || undefined,
}));

// A client generated from src/openapi.json, against a running worker: the
// types come from openapi-typescript (scripts/openapi-client.sh generates
// them and type-checks this file), the calls go through openapi-fetch, and
// every live response body is validated (Ajv, JSON Schema 2020-12) against
// the schema the document gives for that operation, status and media type.
// A status the operation does not document, or a body that does not match,
// fails the test.
//
// Usage: bash scripts/openapi-client.sh (with LINKCREDIT_BASE_URL and the
// LINKCREDIT_*_TOKEN variables scripts/e2e.sh exports).
import createClient from "openapi-fetch";
import type { paths } from "linkcredit-openapi";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";

const env = (name: string, fallback: string) => process.env[name] || fallback;
const baseUrl = env("LINKCREDIT_BASE_URL", "http://127.0.0.1:8787");
const bearer = (token: string) => ({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
const admin = createClient<paths>(bearer(env("LINKCREDIT_ADMIN_TOKEN", "dev-admin-token")));
const ingest = createClient<paths>(bearer(env("LINKCREDIT_INGEST_TOKEN", "dev-ingest-token")));
const reports = createClient<paths>(bearer(env("LINKCREDIT_REPORTS_TOKEN", "dev-reports-token")));
const anonymous = createClient<paths>({ baseUrl });

const specFile = env("OPENAPI", "src/openapi.json");
const spec = JSON.parse(readFileSync(specFile, "utf8"));
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
ajv.addVocabulary(Object.keys(spec));
ajv.addSchema(spec, "openapi.json");

const escape = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
let passed = 0;
const failures: string[] = [];
const report = (ok: boolean, what: string) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (ok) passed += 1;
  else failures.push(what);
};

type Result = { data?: unknown; error?: unknown; response: Response };

/** Checks one live response against the document: its status is one the
 * operation documents (and one of `expected`), and its body matches the
 * schema of that status and media type. Returns the body. */
async function check<R extends Result>(method: string, path: string, expected: number[], call: Promise<R>): Promise<R> {
  const r = await call;
  const status = String(r.response.status);
  const what = `${method.toUpperCase()} ${path} → ${status}`;
  let documented = spec.paths[path]?.[method]?.responses?.[status];
  let at = `#/paths/${escape(path)}/${method}/responses/${status}`;
  if (documented?.$ref) {
    at = documented.$ref;
    documented = documented.$ref.slice(2).split("/").reduce((o: any, k: string) => o[k], spec);
  }
  if (!documented || !expected.includes(r.response.status)) {
    report(false, `${what}: expected ${expected.join(" or ")}, documented ${Object.keys(spec.paths[path]?.[method]?.responses ?? {})}; body ${JSON.stringify(r.data ?? r.error)}`);
    return r;
  }
  const media = (r.response.headers.get("Content-Type") || "").split(";")[0].trim();
  const body = r.data ?? r.error;
  if (!documented.content) {
    report(body === undefined, `${what} has no body, as documented`);
    return r;
  }
  if (!documented.content[media]) {
    report(false, `${what}: media type ${media} is not documented (${Object.keys(documented.content)})`);
    return r;
  }
  const validate = ajv.getSchema(`openapi.json${at}/content/${escape(media)}/schema`)!;
  const ok = validate(body) === true;
  report(ok, ok ? `${what} matches its schema` : `${what} does not match its schema: ${ajv.errorsText(validate.errors)}; body ${JSON.stringify(body)}`);
  return r;
}

const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const handle = `oa-${run}`;
const campaign = `oa-camp-${run}`;

// The worker serves this very document.
{
  const r = await check("get", "/openapi.json", [200], anonymous.GET("/openapi.json"));
  report(isDeepStrictEqual(r.data, spec), `GET /openapi.json is ${specFile}`);
}
await check("get", "/healthz", [200], anonymous.GET("/healthz"));

// The roster.
await check("post", "/api/v1/influencers", [201], admin.POST("/api/v1/influencers", {
  body: { handle, name: "OpenAPI Tester", primary_platform: "tiktok", follower_count: 42_000, base_fee: "100.00", revenue_share_pct: 5, contract_start: "2026-01-01" },
}));
await check("post", "/api/v1/influencers", [409], admin.POST("/api/v1/influencers", { body: { handle } }));
await check("get", "/api/v1/influencers/{handle}", [200], admin.GET("/api/v1/influencers/{handle}", { params: { path: { handle } } }));
await check("get", "/api/v1/influencers", [401], anonymous.GET("/api/v1/influencers"));
await check("post", "/api/v1/campaigns", [201], admin.POST("/api/v1/campaigns", { body: { slug: campaign, name: "OpenAPI", discount_style: "query", discount_param: "promo" } }));
await check("patch", "/api/v1/campaigns/{slug}", [200], admin.PATCH("/api/v1/campaigns/{slug}", { params: { path: { slug: campaign } }, body: { target_cpa: "10.00", min_roas: 2 } }));

// Links: create, list, read, change; the errors.
const created = await check("post", "/api/v1/links", [201], admin.POST("/api/v1/links", {
  body: {
    destination: "https://shop.example/products/serum?ref=oa", influencer: handle, campaign, content: "Spring Reel",
    platform: "tiktok", format: "reel", tags: ["openapi"], max_clicks: 1000,
    rules: [{ when: { os: ["ios"], country: ["DE"] }, destination: "https://shop.example/de" }],
  },
}));
const slug = created.data?.slug ?? "missing";
await check("get", "/api/v1/links", [200], admin.GET("/api/v1/links", { params: { query: { limit: 5, tag: "openapi" } } }));
await check("get", "/api/v1/links/{slug}", [200], admin.GET("/api/v1/links/{slug}", { params: { path: { slug } } }));
await check("get", "/api/v1/links/{slug}", [404], admin.GET("/api/v1/links/{slug}", { params: { path: { slug: `no-such-${run}` } } }));
await check("post", "/api/v1/links", [400], admin.POST("/api/v1/links", { body: { destination: "ftp://shop.example", influencer: handle, campaign } }));
await check("patch", "/api/v1/links/{slug}", [200], admin.PATCH("/api/v1/links/{slug}", {
  params: { path: { slug } }, body: { variants: [{ destination: "https://shop.example/a", weight: 50 }, { destination: "https://shop.example/b", weight: 50 }] },
}));
await check("post", "/api/v1/codes", [201], admin.POST("/api/v1/codes", { body: { code: `OA${run}`.slice(0, 32), influencer: handle, link: slug } }));
await check("get", "/api/v1/codes", [200], admin.GET("/api/v1/codes", { params: { query: { limit: 2 } } }));

// A click, and the order it brought.
const click = await fetch(`${baseUrl}/${slug}`, {
  redirect: "manual",
  headers: { "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" },
});
const clickId = new URL(click.headers.get("Location") || "http://x/").searchParams.get("lc_cid") ?? undefined;
report(click.status === 302 && clickId !== undefined, `GET /{slug} → ${click.status} with lc_cid`);
await check("get", "/api/v1/links/{slug}/stats", [200], admin.GET("/api/v1/links/{slug}/stats", { params: { path: { slug } } }));
const order = { order_id: `oa-${run}`, occurred_at: new Date().toISOString(), revenue: "59.90", currency: "USD", click_id: clickId };
await check("post", "/api/v1/conversions", [201], ingest.POST("/api/v1/conversions", { body: order }));
await check("post", "/api/v1/conversions", [200], ingest.POST("/api/v1/conversions", { body: order }));
await check("post", "/api/v1/conversions", [415], ingest.POST("/api/v1/conversions", {
  body: order, bodySerializer: (b) => JSON.stringify(b), headers: { "Content-Type": "text/plain" },
}));
await check("get", "/api/v1/conversions/{order_id}", [200], admin.GET("/api/v1/conversions/{order_id}", { params: { path: { order_id: order.order_id } } }));

// Attribution, then the reports.
await check("post", "/api/v1/attribution/run", [200, 409], admin.POST("/api/v1/attribution/run"));
await check("get", "/api/v1/attribution", [200], admin.GET("/api/v1/attribution"));
await check("get", "/api/v1/journeys/{order_id}", [200], admin.GET("/api/v1/journeys/{order_id}", { params: { path: { order_id: order.order_id } } }));
await check("get", "/api/v1/reports", [200], reports.GET("/api/v1/reports", { params: { query: { group_by: ["influencer", "day"] } } }));
await check("get", "/api/v1/reports", [200], reports.GET("/api/v1/reports", { params: { query: { model: "all", group_by: ["campaign"] } } }));
await check("get", "/api/v1/reports", [400], reports.GET("/api/v1/reports", { params: { query: { model: "best" as "all" } } }));
await check("get", "/api/v1/reports/ranking", [200], reports.GET("/api/v1/reports/ranking"));
await check("get", "/api/v1/reports/ltv", [200], reports.GET("/api/v1/reports/ltv", { params: { query: { group_by: "tier", horizon: 30 } } }));
await check("get", "/api/v1/quality", [200], admin.GET("/api/v1/quality"));
await check("post", "/api/v1/import", [400], admin.POST("/api/v1/import", {
  body: `handle,campaign,destination\n${handle},${campaign},not-a-url\n`, bodySerializer: (b) => b, headers: { "Content-Type": "text/csv" },
}));

console.log(`openapi_client: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);

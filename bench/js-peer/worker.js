// bench/js-peer — the JavaScript peer linkcredit's redirect is measured
// against: the same job written the way a competent JS worker would.
//
// GET /{slug}: KV lookup of the link (`link:{slug}` → JSON), UTM merge into
// the destination (existing keys replaced, others kept), a fresh click id,
// the visitor cookie, a 302, and the click inserted into D1 in waitUntil.
// `/healthz` answers 200 for the harness.

const UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];
const BOTS = /bot|crawl|spider|facebookexternalhit|slurp|preview/i;

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const slug = url.pathname.slice(1);
    if (slug === "healthz") return new Response("ok");
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(slug)) return new Response("not found", { status: 404 });
    const link = await env.LINKS.get(`link:${slug}`, "json");
    if (!link) return new Response("not found", { status: 404 });

    const target = new URL(link.destination);
    for (const key of UTM) {
      if (link[key]) target.searchParams.set(key, link[key]);
    }
    const clickId = crypto.randomUUID().replaceAll("-", "");
    target.searchParams.set("lc_cid", clickId);
    let location = target.toString();
    if (link.code) {
      location = `${target.origin}/discount/${encodeURIComponent(link.code)}?redirect=${encodeURIComponent(
        target.pathname + target.search + target.hash,
      )}`;
    }

    const ua = request.headers.get("User-Agent") || "";
    const cookie = request.headers.get("Cookie") || "";
    const known = /(?:^|;\s*)lc_vid=([A-Za-z0-9_-]+)/.exec(cookie);
    const visitor = known ? known[1] : crypto.randomUUID().replaceAll("-", "");
    const headers = new Headers({
      Location: location,
      "Cache-Control": "private, no-store",
      "Referrer-Policy": "strict-origin-when-cross-origin",
    });
    if (!known) {
      headers.set("Set-Cookie", `lc_vid=${visitor}; Path=/; Max-Age=34560000; Secure; HttpOnly; SameSite=Lax`);
    }
    ctx.waitUntil(
      env.DB.prepare(
        "INSERT INTO clicks (id, link_id, ts, visitor_id, user_agent, is_bot, country) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      )
        .bind(clickId, link.id, Date.now(), visitor, ua.slice(0, 256), BOTS.test(ua) ? 1 : 0, request.cf?.country ?? null)
        .run()
        .catch((e) => console.error(`click ${clickId} was not recorded: ${e}`)),
    );
    return new Response(null, { status: 302, headers });
  },
};

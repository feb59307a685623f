// Runs /t.js the way a shop's theme does, in headless Chromium
// (playwright-core): a product page at http://shop.test (served by the
// page's own route handler, so it is a real cross-origin page) loads
// <worker>/t.js, lands with ?lc_cid=<click id>, clicks an add-to-cart button
// that calls linkcredit.track('add_to_cart'), then opens the cart page,
// whose URL has no lc_cid. The events go to the real worker by
// navigator.sendBeacon; the e2e test then reads them from D1.
//
// Usage: node tests/snippet.mjs <worker base URL> <click id>
// Prints {"cookies": n, "stored_click_id": ..., "beacons": n} and exits 0.
import { chromium } from "playwright-core";

const [base, cid] = process.argv.slice(2);
if (!base || !cid) {
  console.error("usage: node tests/snippet.mjs <worker base URL> <click id>");
  process.exit(1);
}

const page_html = (title, body) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<script src="${base}/t.js" defer></script></head><body>${body}</body></html>`;

let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           // The shop page is "public" and the worker is on 127.0.0.1: let
           // the page reach it, as a real shop reaches go.brand.com.
           "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks"],
  });
  // A visitor's browser (Instagram's in-app browser on an iPhone): headless
  // Chromium's own user agent says HeadlessChrome, which is a bot.
  const context = await browser.newContext({
    userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 335.0.0.0.0",
  });
  await context.route("http://shop.test/**", (route) => {
    const url = new URL(route.request().url());
    const html = url.pathname.startsWith("/products/")
      ? page_html("Serum", `<button id="add" onclick="linkcredit.track('add_to_cart')">Add to cart</button>`)
      : page_html("Cart", "<p>Your cart</p>");
    return route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html });
  });
  let beacons = 0;
  const answered = [];
  context.on("requestfinished", async (req) => {
    if (req.url().endsWith("/api/v1/events")) {
      beacons += 1;
      const resp = await req.response();
      if (resp) answered.push(`${resp.status()} ${await resp.text().catch(() => "")}`);
    }
  });
  const page = await context.newPage();
  const settle = async (n) => {
    const deadline = Date.now() + 10000;
    while (beacons < n && Date.now() < deadline) await page.waitForTimeout(50);
  };
  await page.goto(`http://shop.test/products/serum?lc_cid=${cid}`, { waitUntil: "load" });
  await page.waitForFunction(() => window.linkcredit && window.linkcredit.clickId);
  await settle(2); // page_view, product_view
  await page.click("#add");
  await settle(3);
  await page.goto("http://shop.test/cart", { waitUntil: "load" });
  await page.waitForFunction(() => window.linkcredit && window.linkcredit.clickId);
  await settle(4);
  const stored = await page.evaluate(() => window.linkcredit.clickId());
  const cookies = (await context.cookies()).length;
  console.log(JSON.stringify({ cookies, stored_click_id: stored, beacons, answered }));
} catch (e) {
  console.error(String(e && e.stack || e));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
}

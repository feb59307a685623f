// The dashboard in a real headless browser (Debian's Chromium, driven by
// playwright-core): signs in through the form, checks that the page renders
// its charts with the seeded data, logs no console errors and fetches
// nothing but its own origin, and keeps a screenshot as a test artifact.
//
// Usage: BASE=http://127.0.0.1:PORT TOKEN=... OUT=target/dashboard.png node tests/dashboard.mjs
import { chromium } from "playwright-core";

const base = process.env.BASE;
const token = process.env.TOKEN;
const out = process.env.OUT || "target/dashboard.png";
const failures = [];
let checks = 0;
const check = (ok, what) => { checks += 1; console.log(`${ok ? "ok  " : "FAIL"} ${what}`); if (!ok) failures.push(what); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  // A phone-sized viewport: the page must read well there.
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  const errors = [];
  const external = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });

  const login = await page.goto(`${base}/dashboard`);
  check(login.status() === 401, `without a session, /dashboard is the login form (status ${login.status()})`);
  await page.fill("#token", token);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  check(page.url() === `${base}/dashboard`, `signing in lands on the dashboard (${page.url()})`);
  // The login form is served with 401, which the browser logs; from here on
  // the dashboard itself must log nothing.
  errors.length = 0;
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "lc_session");
  check(session && session.httpOnly, "the session cookie is HttpOnly");

  const from = new Date(Date.now() - 60 * 86400000).toISOString().slice(0, 10);
  const resp = await page.goto(`${base}/dashboard?model=linear&from=${from}`);
  check(resp.status() === 200, `the dashboard answers 200 (got ${resp.status()})`);
  const svgs = await page.locator("svg").count();
  check(svgs >= 4, `it draws its charts (${svgs} SVGs)`);
  const bars = await page.locator("#revenue svg rect").count();
  check(bars > 0, `the revenue chart has bars (${bars})`);
  const tableRows = await page.locator("#models tbody tr").count();
  check(tableRows > 0, `the model comparison has rows (${tableRows})`);
  const engaged = await page.locator("#engagement tbody tr").count();
  check(engaged > 0, `the engagement table has rows (${engaged})`);
  for (const id of ["kpis", "revenue", "roi", "cpa", "models", "apps", "quality", "engagement", "cohorts", "checks"]) {
    check(await page.locator(`#${id}`).isVisible(), `section #${id} is visible`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `no horizontal scrolling on a phone (overflow ${overflow}px)`);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`screenshot: ${out}`);
  check(errors.length === 0, `no console errors (${JSON.stringify(errors)})`);
  check(external.length === 0, `nothing fetched from elsewhere (${JSON.stringify(external)})`);
} finally {
  await browser.close();
}
console.log(`dashboard: ${checks - failures.length} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);

// Decodes the QR code in an SVG or PNG file (as the worker serves them) with
// a real decoder: headless Chromium (playwright-core) draws the file as an
// <img> on a <canvas>, and jsQR, injected into the page, reads the canvas's
// pixels. The browser, not our own code, rasterises the image, so this
// checks what a phone's camera would see.
//
// Usage: node tests/qr_decode.mjs <file.svg|file.png>
// Prints exactly the decoded text (no trailing newline) and exits 0, or
// prints a message on stderr and exits 1.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  console.error("usage: node tests/qr_decode.mjs <file.svg|file.png>");
  process.exit(1);
}

let browser;
try {
  const bytes = readFileSync(file);
  const isPng = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const isSvg = !isPng && /^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(bytes.subarray(0, 512).toString("utf8"));
  if (!isPng && !isSvg) throw new Error(`${file} is neither a PNG nor an SVG`);
  const src = `data:${isPng ? "image/png" : "image/svg+xml"};base64,${bytes.toString("base64")}`;
  const jsqr = readFileSync(createRequire(import.meta.url).resolve("jsqr"), "utf8");

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  await page.addScriptTag({ content: jsqr });
  const result = await page.evaluate(async (src) => {
    const img = new Image();
    img.src = src;
    try { await img.decode(); } catch (e) { return { error: `the browser cannot load the image: ${e}` }; }
    const w = img.naturalWidth, h = img.naturalHeight;
    if (!w || !h) return { error: "the image has no size" };
    // A white border, so a code drawn without a quiet zone decodes too.
    const pad = 16;
    const canvas = document.createElement("canvas");
    canvas.width = w + 2 * pad;
    canvas.height = h + 2 * pad;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, pad, pad, w, h);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const code = window.jsQR(data, canvas.width, canvas.height, { inversionAttempts: "dontInvert" });
    return code ? { text: code.data } : { error: `no QR code found in the ${w}x${h} image` };
  }, src);
  if (result.error) throw new Error(result.error);
  process.stdout.write(result.text);
} catch (e) {
  console.error(`qr_decode: ${e.message || e}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
}

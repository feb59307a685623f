// The part of a cold start that grows with the wasm: compiling the module.
// Compiles each given .wasm 15 times in V8 (headless Chromium's, as recent
// as workerd's; Node's V8 lacks the exception-handling opcodes the build
// uses) and prints the median per file as JSON {file: {bytes, compile_ms}}.
// Usage: node bench/wasm_compile.mjs build/index_bg.wasm build-redirect/index_bg.wasm
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
});
try {
  const page = await browser.newPage();
  const out = {};
  for (const file of process.argv.slice(2)) {
    const b64 = readFileSync(file).toString("base64");
    out[file] = await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const times = [];
      for (let i = 0; i < 15; i++) {
        const t = performance.now();
        await WebAssembly.compile(bytes);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return { bytes: bytes.length, compile_ms: Math.round(times[7] * 10) / 10 };
    }, b64);
  }
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}

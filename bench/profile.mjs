// bench/profile.mjs — a CPU profile of a running `wrangler dev` worker
// through its inspector (the breakdown in issue notes and docs/scaling.md).
//
//   node bench/profile.mjs INSPECTOR_PORT SECONDS > profile-summary.json
//
// Starts the V8 profiler, waits SECONDS (run load meanwhile), stops it and
// prints self time grouped by where it was spent: the worker's wasm, its JS
// glue (build/index.js), the runtime's JS, the garbage collector, idle.
import WebSocket from "ws";

const [port, seconds] = [process.argv[2], Number(process.argv[3] || 8)];
const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((ok, fail) => { ws.once("open", ok); ws.once("error", fail); });
let id = 0;
const pending = new Map();
ws.on("message", (m) => {
  const msg = JSON.parse(m);
  if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
});
const send = (method, params = {}) => new Promise((ok) => {
  const n = ++id;
  pending.set(n, ok);
  ws.send(JSON.stringify({ id: n, method, params }));
});
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 200 });
await send("Profiler.start");
process.stderr.write(`profiling ${target.title ?? target.url} for ${seconds} s\n`);
await new Promise((ok) => setTimeout(ok, seconds * 1000));
const { result } = await send("Profiler.stop");
ws.close();

const { nodes, samples, timeDeltas } = result.profile;
const byId = new Map(nodes.map((n) => [n.id, n]));
const self = new Map();
samples.forEach((s, i) => self.set(s, (self.get(s) || 0) + (timeDeltas[i] || 0)));
const groups = {};
const fns = {};
let total = 0;
for (const [nodeId, us] of self) {
  const f = byId.get(nodeId).callFrame;
  const name = f.functionName || "(anonymous)";
  let group;
  if (name === "(idle)") group = "idle";
  else if (name === "(garbage collector)") group = "garbage collector";
  else if (name === "(program)") group = "runtime (native)";
  else if (f.url.startsWith("wasm://") || name.startsWith("$") || /wasm-function/.test(name)) group = "worker wasm";
  else if (/index\.js|shim\.mjs/.test(f.url)) group = "worker JS glue";
  else group = "runtime JS";
  groups[group] = (groups[group] || 0) + us;
  const key = `${group}: ${name}`;
  fns[key] = (fns[key] || 0) + us;
  total += us;
}
const pct = (us) => Math.round((1000 * us) / total) / 10;
console.log(JSON.stringify({
  seconds,
  groups: Object.fromEntries(Object.entries(groups).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, pct(v)])),
  top: Object.entries(fns).sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => [k, pct(v)]),
}, null, 1));

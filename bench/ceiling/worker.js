// bench/ceiling — the runtime's ceiling for `make bench`: a constant 302,
// no KV, no D1. Nothing a redirect worker does can be faster than this in
// the same harness. `/healthz` answers 200 for the harness.
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/healthz") return new Response("ok");
    return new Response(null, { status: 302, headers: { Location: "https://shop.example/" } });
  },
};

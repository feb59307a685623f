"""Merges the benchmark outputs of one `make bench` run into
bench/results.json: core.json (native core), redirect.json (redirect vs
the JS peer and the ceiling, cold start, wasm size), wasm.json (what the
wasm is made of), cron.json (attribution
in wasm) and reports.json (reports on the large seed), whichever exist.
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
merged = {}
for name in ["core", "redirect", "profile", "wasm", "cron", "reports"]:
    path = os.path.join(HERE, f"{name}.json")
    if os.path.exists(path):
        merged[name] = json.load(open(path))
with open(os.path.join(HERE, "results.json"), "w") as f:
    json.dump(merged, f, indent=1)
    f.write("\n")
print(f"bench: wrote bench/results.json ({', '.join(merged)})")

#!/usr/bin/env python3
"""tests/deploy/check.py — the assertions of scripts/deploy-test.sh that read
TOML and JSON. Each prints what is wrong (exit 1) or a short summary (exit 0).

  ids STATE CONFIG...          every D1 database_id and KV id in the CONFIGs
                               is the fake account's (by name; the KV
                               namespace titled <worker>-<binding>), none a
                               placeholder; prints "d1 <name>=<id> kv ..."
  vars CONFIG SOURCE           CONFIG's [vars] are exactly SOURCE's
  redirect OUT TEMPLATE SOURCE OUT is TEMPLATE plus SOURCE's [vars], nothing
                               else; the vars' comments came along
  get STATE EXPR               prints EXPR evaluated with s = the state
"""

import json
import re
import sys
import tomllib
from pathlib import Path


def toml(path):
    return tomllib.loads(Path(path).read_text())


def fail(message):
    print(message)
    sys.exit(1)


def ids(state_path, *configs):
    state = json.loads(Path(state_path).read_text())
    full_name = toml(configs[0])["name"]
    seen = []
    for path in configs:
        c = toml(path)
        for d in c.get("d1_databases", []):
            want = [x["uuid"] for x in state["d1"] if x["name"] == d["database_name"]]
            if re.fullmatch(r"[0-]+", d.get("database_id", "0")) or [d.get("database_id")] != want:
                fail(f"{path}: D1 {d['database_name']} has database_id {d.get('database_id')!r}, the account {want}")
            seen.append(f"d1 {d['database_name']}={d['database_id']}")
        for k in c.get("kv_namespaces", []):
            title = f"{full_name}-{k['binding']}"
            want = [x["id"] for x in state["kv"] if x["title"] == title]
            if re.fullmatch(r"0+", k.get("id", "0")) or [k.get("id")] != want:
                fail(f"{path}: KV {k['binding']} has id {k.get('id')!r}, the account's {title} {want}")
            seen.append(f"kv {k['binding']}={k['id']}")
    if not seen:
        fail("no ids in " + " ".join(configs))
    print(" ".join(dict.fromkeys(seen)))


def vars_(config, source):
    got, want = toml(config).get("vars"), toml(source).get("vars")
    if got != want or not want:
        fail(f"{config}: vars {got!r}, want {source}'s {want!r}")
    print(f"{len(want)} vars")


def redirect(out, template, source):
    generated, tmpl = toml(out), toml(template)
    vars_(out, source)
    rest = {k: v for k, v in generated.items() if k != "vars"}
    if rest != tmpl:
        fail(f"{out} differs from {template} beyond [vars]: {rest!r}")
    text = Path(out).read_text()
    comments = [l for l in Path(source).read_text().split("[vars]", 1)[1].splitlines() if l.startswith("#")]
    missing = [c for c in comments[:3] if c not in text]
    if missing:
        fail(f"{out} lost the vars' comments: {missing}")


def get(state_path, expr):
    s = json.loads(Path(state_path).read_text())
    print(eval(expr, {"len": len, "sorted": sorted}, {"s": s}))


COMMANDS = {"ids": ids, "vars": vars_, "redirect": redirect, "get": get}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])

"""What the worker's wasm is made of (part of `make bench`, bench/redirect.sh).

Reads a wasm module that still has its `name` section (built by
bench/wasm-size.sh with `strip = false`), and prints the code bytes per
crate (from the Rust symbol names), the biggest functions, and the data
segments. Pure Python: no wasm tooling needed. With --json, prints JSON.
"""
import json, re, sys
from collections import Counter


def leb(buf, i):
    result = shift = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def sections(buf):
    assert buf[:4] == b"\0asm", "not a wasm module"
    i = 8
    while i < len(buf):
        sid = buf[i]
        size, j = leb(buf, i + 1)
        yield sid, buf[j:j + size]
        i = j + size


def name_of(payload):
    n, i = leb(payload, 0)
    return payload[i:i + n].decode(), payload[i + n:]


def demangle_escapes(s):
    for a, b in [("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"), ("$C$", ","), ("..", "::")]:
        s = s.replace(a, b)
    return s


def crate_of(sym):
    """The first path component of a Rust symbol (legacy or v0 mangling);
    for `<T as Trait>` impls, the crate of T."""
    m = re.match(r"_ZN(\d+)", sym)
    if m:
        n = int(m.group(1))
        start = m.end()
        first = sym[start:start + n]
        if first.startswith("_$LT$"):
            return crate_of(demangle_escapes(first[1:]))
        return first
    m = re.match(r"_R.*?C(?:s[0-9a-zA-Z_]*_)?(\d+)", sym)
    if m:
        n = int(m.group(1))
        return sym[m.end():m.end() + n]
    if sym.startswith("<"):
        inner = re.match(r"<+&?(?:mut )?(?:dyn )?([a-zA-Z_][a-zA-Z0-9_]*)", sym)
        if inner:
            return inner.group(1)
    head = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)::", sym)
    return head.group(1) if head else "(other)"


def analyse(path):
    buf = open(path, "rb").read()
    imported = 0
    bodies, names, data = [], {}, 0
    for sid, payload in sections(buf):
        if sid == 2:  # imports: count function imports (they come first in the index space)
            count, i = leb(payload, 0)
            for _ in range(count):
                for _ in range(2):
                    n, i = leb(payload, i)
                    i += n
                kind = payload[i]
                i += 1
                if kind == 0:
                    imported += 1
                    _, i = leb(payload, i)
                elif kind == 1:
                    i += 1
                    flags, i = leb(payload, i)
                    _, i = leb(payload, i)
                    if flags & 1:
                        _, i = leb(payload, i)
                elif kind == 2:
                    flags, i = leb(payload, i)
                    _, i = leb(payload, i)
                    if flags & 1:
                        _, i = leb(payload, i)
                elif kind == 3:
                    i += 2
                elif kind == 4:
                    i += 1
                    _, i = leb(payload, i)
        elif sid == 10:  # code
            count, i = leb(payload, 0)
            for _ in range(count):
                size, j = leb(payload, i)
                bodies.append(size + (j - i))
                i = j + size
        elif sid == 11:
            data += len(payload)
        elif sid == 0:
            name, rest = name_of(payload)
            if name == "name":
                i = 0
                while i < len(rest):
                    sub = rest[i]
                    size, j = leb(rest, i + 1)
                    if sub == 1:
                        count, k = leb(rest, j)
                        for _ in range(count):
                            idx, k = leb(rest, k)
                            n, k = leb(rest, k)
                            names[idx] = rest[k:k + n].decode(errors="replace")
                            k += n
                    i = j + size
    by_crate, funcs = Counter(), []
    for n, size in enumerate(bodies):
        sym = names.get(imported + n, f"func[{imported + n}]")
        by_crate[crate_of(sym)] += size
        funcs.append((size, sym))
    funcs.sort(reverse=True)
    return {"total_bytes": len(buf), "code_bytes": sum(bodies), "data_bytes": data, "functions": len(bodies),
            "by_crate": by_crate.most_common(25), "largest_functions": [[s, f[:140]] for s, f in funcs[:20]]}


if __name__ == "__main__":
    r = analyse(sys.argv[1])
    if "--json" in sys.argv:
        print(json.dumps(r))
        sys.exit()
    print(f"wasm {r['total_bytes']} B: code {r['code_bytes']} B in {r['functions']} functions, data {r['data_bytes']} B")
    print("code by crate:")
    for crate, size in r["by_crate"]:
        print(f"  {size:>8}  {100 * size / r['code_bytes']:5.1f}%  {crate}")
    print("largest functions:")
    for size, f in r["largest_functions"]:
        print(f"  {size:>8}  {f}")

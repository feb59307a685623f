"""The local worker's state, read and changed the way tests must: through
the project's pinned wrangler (`--local --persist-to STATE`), shared by
tests/load/load.py and tests/load/queue_faults.py.
"""
import json, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wrangler(state, *args, config=None):
    """Runs `wrangler <args>` against the local state; stdout, or exits."""
    extra = ["--config", config] if config else []
    out = subprocess.run(["bash", f"{ROOT}/scripts/wrangler.sh", *args, "--local", "--persist-to", state, *extra],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"wrangler {' '.join(args[:3])} failed: {out.stdout}{out.stderr}")
    return out.stdout


def d1(state, sql, config=None):
    """The result rows of `sql` on the local D1, retried while the worker
    holds the write lock."""
    for _ in range(40):
        try:
            return json.loads(wrangler(state, "d1", "execute", "DB", "--json", "--command", sql,
                                       config=config))[0]["results"]
        except RuntimeError as e:
            if "SQLITE_BUSY" not in str(e):
                sys.exit(f"d1: {e}")
            time.sleep(0.25)
    sys.exit("d1: D1 stayed busy")

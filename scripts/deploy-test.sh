#!/usr/bin/env bash
#! scripts/deploy-test.sh — `make test`'s check of `make deploy`, without
#! reaching Cloudflare.
#!
#! `make deploy` runs against tests/deploy/fake-wrangler: a stand-in wrangler
#! that records every command and answers like wrangler 4.86 for a made-up
#! account (tests/deploy/fake-wrangler says what it models). The smoke test
#! at the end of each deploy talks to the real workers under `wrangler dev`
#! on loopback: the redirect worker in front of the full one (one process,
#! as in e2e) and the full worker alone (its own /healthz); the fake's
#! `deploy` reports those two addresses as the workers' URLs.
#!
#!   generator   .wrangler-redirect.toml is wrangler.redirect.toml plus
#!               wrangler.toml's [vars] (with their comments), and a template
#!               with vars of its own is refused
#!   secrets     every secret name the worker's code reads is in
#!               .dev.vars.example (the list deploy asks from)
#!   dry run     on an empty account: only whoami and the lists run, then
#!               the real `wrangler deploy --dry-run --outdir` for both
#!               workers; the account is unchanged
#!   run 1       an empty account: everything created, the 4 secrets read
#!               from stdin and put, migrations, both deploys in order, the
#!               smoke link created; the exact command sequence, the ids in
#!               both deploy configs, the secrets' values, the vars; then the
#!               real `wrangler deploy --dry-run` on both generated configs
#!               shows those ids and bindings
#!   run 2       the same account: nothing created, nothing asked (stdin is
#!               /dev/null), the same configs byte for byte, the smoke link
#!               followed as it is
#!   refusals    a missing secret with stdin not a terminal (an error naming
#!               it, nothing changed), and not logged in
#!   queues      a config with the CLICKS queue (README, "Clicks at scale"):
#!               both queues created once, then only listed
#!   smoke fail  a redirect worker that does not answer: FAIL lines, exit 1
#! Prints a line per check, then "N passed, M failed".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/build-wasm.sh >/dev/null
bash scripts/build-wasm.sh --release --out-dir build-redirect -- --features redirect-only >/dev/null

W="$(mktemp -d -t linkcredit-deploy-test-XXXXXX)"
CONFIG=.wrangler-deploy-test.toml
REDIRECT_CONFIG=.wrangler-deploy-test-redirect.toml
mkdir -p target
# shellcheck source=scripts/local-worker.sh
. scripts/local-worker.sh
trap 'stop_worker; rm -rf "$W"; rm -f .wrangler-deploy-test*.toml' EXIT

PASSED=0 FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "deploy-test: ok    $*"; }
no() { FAILED=$((FAILED + 1)); echo "deploy-test: FAIL  $*"; }
check() { # check NAME COMMAND...: ok when COMMAND succeeds (its output shown on failure)
  local name="$1" got
  shift
  if got="$("$@" 2>&1)"; then ok "$name${got:+: $got}"; else no "$name: $got"; fi
}
has() { grep -qF -- "$1" "$2" || { echo "no '$1' in $2:"; tail -n 30 "$2"; return 1; }; }
lacks() { ! grep -qF -- "$1" "$2" || { echo "'$1' in $2"; return 1; }; }
same() { cmp -s "$1" "$2" || { diff "$1" "$2" | head -n 20; return 1; }; }
equals() { # equals WANT COMMAND...: COMMAND prints exactly WANT
  local want="$1" got
  shift
  got="$("$@")" || return 1
  [ "$got" = "$want" ] || { echo "got $got, want $want"; return 1; }
}
fails() { ! "$@" >/dev/null 2>&1; }
CHECK=(python3 tests/deploy/check.py)
account() { "${CHECK[@]}" get "$FAKE_WRANGLER_STATE" "$1"; } # account EXPR (s: the fake account)
edit_account() { python3 -c "import json, sys; p = sys.argv[1]; s = json.load(open(p)); $1; json.dump(s, open(p, 'w'))" "$FAKE_WRANGLER_STATE"; }

# --- the generator, and the secret names ----------------------------------
python3 scripts/wrangler_config.py redirect --out "$W/redirect.toml" >/dev/null
check "generator: .wrangler-redirect.toml = wrangler.redirect.toml + wrangler.toml's [vars]" \
  "${CHECK[@]}" redirect "$W/redirect.toml" wrangler.redirect.toml wrangler.toml
{ cat wrangler.redirect.toml; printf '[vars]\nDISCOUNT_STYLE = "query"\n'; } >"$W/template-with-vars.toml"
check "generator: refuses a redirect template with vars of its own" \
  fails python3 scripts/wrangler_config.py redirect --template "$W/template-with-vars.toml" --out "$W/x.toml"
# The secrets: the names the shell passes to env.secret / require_bearer.
grep -rhoE '"[A-Z][A-Z0-9_]*_(TOKEN|SECRET)"' src/edge | tr -d '"' | sort -u >"$W/code-secrets"
sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p' .dev.vars.example | sort -u >"$W/example-secrets"
check "secrets: the code reads exactly the names in .dev.vars.example ($(tr '\n' ' ' <"$W/example-secrets"))" \
  same "$W/code-secrets" "$W/example-secrets"

# --- the workers the smoke tests talk to ------------------------------------
# Their own dev registry: no other wrangler dev on this machine can bind to
# them, nor they to it.
export WRANGLER_REGISTRY_PATH="$W/registry"
fresh_state() {
  local dir="$W/state-$1"
  mkdir -p "$dir"
  bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$dir" >"$W/migrate-$1.log" 2>&1 ||
    { cat "$W/migrate-$1.log" >&2; return 1; }
  echo "$dir"
}
FULL_STATE="$(fresh_state full)"
start_worker "$FULL_STATE" "$W/full-wrangler.log" -c wrangler.toml
FULL_BASE="$BASE"
FRONT_STATE="$(fresh_state front)"
start_worker "$FRONT_STATE" "$W/front-wrangler.log" -c "$(python3 scripts/wrangler_config.py redirect)" -c wrangler.toml
FRONT_BASE="$BASE"
echo "deploy-test: local workers: linkcredit at $FULL_BASE, linkcredit-redirect (in front of linkcredit) at $FRONT_BASE"

# --- make deploy against the fake ------------------------------------------
export LINKCREDIT_WRANGLER="$ROOT/tests/deploy/fake-wrangler" FAKE_WRANGLER_REAL="$ROOT/scripts/wrangler.sh"
export FAKE_WRANGLER_STATE="$W/account.json" FAKE_WRANGLER_LOG="$W/commands.log"
export FAKE_WRANGLER_TARGETS="{\"linkcredit\": \"$FULL_BASE\", \"linkcredit-redirect\": \"$FRONT_BASE\"}"
export DEPLOY_CONFIG="$CONFIG" SMOKE_WAIT=5
unset LINKCREDIT_ADMIN_TOKEN SMOKE_SLUG FULL_URL REDIRECT_URL DEPLOY_SOURCE DEPLOY_REDIRECT_SOURCE

# deploy NAME [DEPLOY_ARGS]: `make deploy` with stdin from $W/NAME.in (else
# /dev/null); its output in $W/NAME.out, its status in RC, the commands the
# fake got in $W/NAME.log (temporary paths as TMP/).
deploy() {
  local name="$1" in=/dev/null
  [ ! -f "$W/$1.in" ] || in="$W/$1.in"
  : >"$FAKE_WRANGLER_LOG"
  RC=0
  make --no-print-directory -s deploy DEPLOY_ARGS="${2:-}" <"$in" >"$W/$name.out" 2>&1 || RC=$?
  sed -e "s|$W/|TMP/|g" -e 's|/linkcredit-deploy-[A-Za-z0-9]*/|/…/|g' "$FAKE_WRANGLER_LOG" >"$W/$name.log"
}
expect() { # expect NAME: the recorded commands are exactly stdin's lines
  cat >"$W/$1.want"
  check "$1: the commands wrangler got" same "$W/$1.want" "$W/$1.log"
}
status() { # status NAME ok|fails: how `make deploy` ended
  if { [ "$2" = ok ] && [ "$RC" = 0 ]; } || { [ "$2" = fails ] && [ "$RC" != 0 ]; }; then
    ok "$1: make deploy $([ "$RC" = 0 ] && echo succeeded || echo "failed, exit $RC")"
  else
    no "$1: make deploy exited $RC, want it to $([ "$2" = ok ] && echo succeed || echo fail); its output:"
    tail -n 40 "$W/$1.out"
  fi
}

# A dry run on an empty account: looks, changes nothing.
deploy dry-run --dry-run
status dry-run ok
expect dry-run <<EOF
whoami --json
secret list --format json -c wrangler.toml
d1 list --json -c wrangler.toml
kv namespace list -c wrangler.toml
deploy -c .wrangler-deploy-test-dry-run.toml --dry-run --outdir /tmp/…/full-dry-run
deploy -c .wrangler-deploy-test-dry-run-redirect.toml --dry-run --outdir /tmp/…/redirect-dry-run
EOF
check "dry-run: prints the 9 commands that would change the account" equals 9 \
  grep -c 'would run: wrangler \(d1 create linkcredit\|kv namespace create linkcredit-LINKS\|d1 migrations apply DB --remote\|secret put [A-Z_]*\|deploy\) -c' "$W/dry-run.out"
check "dry-run: the real wrangler bundled both workers" equals 2 grep -c -- '--dry-run: exiting now.' "$W/dry-run.out"
check "dry-run: the account is unchanged, its configs removed" \
  fails ls "$FAKE_WRANGLER_STATE" .wrangler-deploy-test-dry-run.toml .wrangler-deploy-test-dry-run-redirect.toml

# Run 1: an empty account. The admin token is the local workers' (so the
# smoke test can create its link there).
printf '%s\n' "$(devvar ADMIN_TOKEN)" ingest-1 shopify-1 reports-1 >"$W/run-1.in"
deploy run-1 --secrets-from-stdin
status run-1 ok
expect run-1 <<EOF
whoami --json
secret list --format json -c wrangler.toml
d1 list --json -c wrangler.toml
d1 create linkcredit -c wrangler.toml
d1 list --json -c wrangler.toml
kv namespace list -c wrangler.toml
kv namespace create linkcredit-LINKS -c wrangler.toml
kv namespace list -c wrangler.toml
d1 migrations apply DB --remote -c $CONFIG
secret put ADMIN_TOKEN -c $CONFIG
secret put INGEST_TOKEN -c $CONFIG
secret put SHOPIFY_WEBHOOK_SECRET -c $CONFIG
secret put REPORTS_TOKEN -c $CONFIG
deploy -c $CONFIG
deploy -c $REDIRECT_CONFIG
EOF
check "run-1: the account's ids in both deploy configs" "${CHECK[@]}" ids "$FAKE_WRANGLER_STATE" "$CONFIG" "$REDIRECT_CONFIG"
IDS_1="$("${CHECK[@]}" ids "$FAKE_WRANGLER_STATE" "$CONFIG" "$REDIRECT_CONFIG" || true)"
check "run-1: one database, one namespace" equals "(['linkcredit'], ['linkcredit-LINKS'])" \
  account '[d["name"] for d in s["d1"]], [k["title"] for k in s["kv"]]'
check "run-1: the secrets hold what stdin said" \
  equals "[('ADMIN_TOKEN', '$(devvar ADMIN_TOKEN)'), ('INGEST_TOKEN', 'ingest-1'), ('REPORTS_TOKEN', 'reports-1'), ('SHOPIFY_WEBHOOK_SECRET', 'shopify-1')]" \
  account 'sorted(s["workers"]["linkcredit"]["secrets"].items())'
MIGRATIONS=(migrations/*.sql)
check "run-1: every migration applied to that database" equals "${#MIGRATIONS[@]}" \
  account 'len(s["migrations"][s["d1"][0]["uuid"]])'
check "run-1: linkcredit deploys wrangler.toml's vars" "${CHECK[@]}" vars "$CONFIG" wrangler.toml
check "run-1: linkcredit-redirect deploys wrangler.toml's vars" "${CHECK[@]}" vars "$REDIRECT_CONFIG" wrangler.toml
check "run-1: the smoke link was created" has "created the link /deploy-smoke" "$W/run-1.out"
check "run-1: the smoke test passed (both /healthz, the APP binding, the 302)" has "smoke test: 4 passed, 0 failed" "$W/run-1.out"
check "run-1: the 302 went to the smoke link's destination" has "smoke: PASS  HEAD $FRONT_BASE/deploy-smoke: 302 to https://example.com/linkcredit-deploy-smoke" "$W/run-1.out"
cp "$CONFIG" "$W/config-1.toml"
cp "$REDIRECT_CONFIG" "$W/redirect-config-1.toml"
cp "$FAKE_WRANGLER_STATE" "$W/account-1.json"

# The real wrangler on the generated configs: the ids and bindings it would deploy.
kv_id="$(sed -n 's/.*kv LINKS=\([0-9a-f]*\).*/\1/p' <<<"$IDS_1")"
real_dry_run() { # real_dry_run CONFIG OUTDIR: the pinned wrangler bundles it, offline
  if bash scripts/wrangler.sh deploy -c "$1" --dry-run --outdir "$2" </dev/null >"$2.log" 2>&1 &&
    ls "$2"/index.js "$2"/*.wasm >/dev/null; then
    return 0
  fi
  tail -n 20 "$2.log"
  return 1
}
every_var() { # every_var LOG: wrangler shows each of wrangler.toml's vars as a binding
  local v
  for v in $(python3 -c 'import tomllib; print(" ".join(tomllib.load(open("wrangler.toml", "rb"))["vars"]))'); do
    grep -qF "env.$v (" "$1" || { echo "no $v in $1"; return 1; }
  done
}
for c in "$CONFIG" "$REDIRECT_CONFIG"; do
  out="$W/real-dry-run-$(basename "$c" .toml)"
  check "wrangler deploy -c $c --dry-run --outdir: a bundle" real_dry_run "$c" "$out"
  check "  ... bound to the account's KV namespace $kv_id" has "env.LINKS ($kv_id)" "$out.log"
  check "  ... and D1 database" has "env.DB (linkcredit)" "$out.log"
  check "  ... with every var of wrangler.toml" every_var "$out.log"
done
check "  ... and the redirect worker with APP, the full worker" has "env.APP (linkcredit)" "$W/real-dry-run-${REDIRECT_CONFIG%.toml}.log"

# Run 2: the same account, everything exists. Nothing may be asked: stdin
# is /dev/null and there is no --secrets-from-stdin.
deploy run-2
status run-2 ok
expect run-2 <<EOF
whoami --json
secret list --format json -c wrangler.toml
d1 list --json -c wrangler.toml
kv namespace list -c wrangler.toml
d1 migrations apply DB --remote -c $CONFIG
deploy -c $CONFIG
deploy -c $REDIRECT_CONFIG
EOF
check "run-2: the same deploy configs, byte for byte" same "$W/config-1.toml" "$CONFIG"
check "run-2: the same redirect deploy config, byte for byte" same "$W/redirect-config-1.toml" "$REDIRECT_CONFIG"
check "run-2: the same ids" equals "$IDS_1" "${CHECK[@]}" ids "$FAKE_WRANGLER_STATE" "$CONFIG" "$REDIRECT_CONFIG"
what='len(s["d1"]), len(s["kv"]), len(s["queues"]), s["workers"]["linkcredit"]["secrets"]'
check "run-2: nothing created, the secrets unchanged" equals "$("${CHECK[@]}" get "$W/account-1.json" "$what")" account "$what"
check "run-2: each worker deployed a second time" equals "(2, 2)" \
  account 's["workers"]["linkcredit"]["deployments"], s["workers"]["linkcredit-redirect"]["deployments"]'
check "run-2: nothing asked" has "every secret is set; nothing to ask" "$W/run-2.out"
check "run-2: the smoke link followed as it is" has "following /deploy-smoke as it is" "$W/run-2.out"
check "run-2: the smoke test passed" has "smoke test: 4 passed, 0 failed" "$W/run-2.out"
cp "$FAKE_WRANGLER_STATE" "$W/account-2.json"

# A missing secret, stdin not a terminal, no --secrets-from-stdin: a clear
# error before anything changes.
edit_account 'del s["workers"]["linkcredit"]["secrets"]["REPORTS_TOKEN"]'
cp "$FAKE_WRANGLER_STATE" "$W/account-3.json"
deploy missing-secret
status missing-secret fails
expect missing-secret <<EOF
whoami --json
secret list --format json -c wrangler.toml
EOF
check "missing-secret: the error names it and says why" \
  has "ERROR: the worker has no REPORTS_TOKEN and stdin is not a terminal" "$W/missing-secret.out"
check "missing-secret: the account is unchanged" same "$W/account-3.json" "$FAKE_WRANGLER_STATE"
cp "$W/account-2.json" "$FAKE_WRANGLER_STATE"

# Not logged in.
edit_account 's["logged_in"] = False'
deploy logged-out
status logged-out fails
expect logged-out <<EOF
whoami --json
EOF
check "logged-out: says how to log in" has "not logged in to Cloudflare: run \`npx wrangler login\`" "$W/logged-out.out"
cp "$W/account-2.json" "$FAKE_WRANGLER_STATE"

# The queue path: wrangler.toml with the CLICKS queue, as README shows it.
{
  cat wrangler.toml
  cat <<'EOF'

[[queues.producers]]
binding = "CLICKS"
queue = "linkcredit-clicks"

[[queues.consumers]]
queue = "linkcredit-clicks"
max_batch_size = 100
max_batch_timeout = 2
max_retries = 5
dead_letter_queue = "linkcredit-clicks-dlq"

[[queues.consumers]]
queue = "linkcredit-clicks-dlq"
max_batch_size = 100
EOF
} >"$W/wrangler.queue.toml"
DEPLOY_SOURCE="$W/wrangler.queue.toml" deploy queues
status queues ok
expect queues <<EOF
whoami --json
secret list --format json -c TMP/wrangler.queue.toml
d1 list --json -c TMP/wrangler.queue.toml
kv namespace list -c TMP/wrangler.queue.toml
queues list -c TMP/wrangler.queue.toml
queues create linkcredit-clicks -c TMP/wrangler.queue.toml
queues create linkcredit-clicks-dlq -c TMP/wrangler.queue.toml
d1 migrations apply DB --remote -c $CONFIG
deploy -c $CONFIG
deploy -c $REDIRECT_CONFIG
EOF
DEPLOY_SOURCE="$W/wrangler.queue.toml" deploy queues-again
status queues-again ok
expect queues-again <<EOF
whoami --json
secret list --format json -c TMP/wrangler.queue.toml
d1 list --json -c TMP/wrangler.queue.toml
kv namespace list -c TMP/wrangler.queue.toml
queues list -c TMP/wrangler.queue.toml
d1 migrations apply DB --remote -c $CONFIG
deploy -c $CONFIG
deploy -c $REDIRECT_CONFIG
EOF
check "queues: both exist, once" equals "['linkcredit-clicks', 'linkcredit-clicks-dlq']" \
  account 'sorted(q["queue_name"] for q in s["queues"])'
cp "$W/account-2.json" "$FAKE_WRANGLER_STATE"

# A redirect worker that does not answer: the smoke test says so and fails.
dead="$(bash scripts/free-port.sh)"
FAKE_WRANGLER_TARGETS="{\"linkcredit\": \"$FULL_BASE\", \"linkcredit-redirect\": \"http://127.0.0.1:$dead\"}" SMOKE_WAIT=1 deploy smoke-fail
status smoke-fail fails
check "smoke-fail: the full worker passes" has "smoke: PASS  GET $FULL_BASE/healthz" "$W/smoke-fail.out"
check "smoke-fail: the redirect worker fails" has "smoke: FAIL  GET http://127.0.0.1:$dead/healthz" "$W/smoke-fail.out"
check "smoke-fail: the count, and the error" has "smoke test: 1 passed, 3 failed" "$W/smoke-fail.out"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

#!/usr/bin/env bash
#! scripts/deploy.sh — `make deploy`: both workers to Cloudflare in one command.
#!
#! Usage:  make deploy                        (runs scripts/setup.sh first)
#!         make deploy DEPLOY_ARGS=--dry-run
#!         bash scripts/deploy.sh [--dry-run] [--secrets-from-stdin]
#!
#! Re-runnable: it looks first and creates only what is missing, by name.
#!   1. account    `wrangler whoami --json`: logged in (`npx wrangler login`,
#!                 or CLOUDFLARE_API_TOKEN; CLOUDFLARE_ACCOUNT_ID with several
#!                 accounts)
#!   2. secrets    the ones the worker reads (the names in .dev.vars.example)
#!                 that `wrangler secret list` does not show are asked for
#!                 now, before anything changes: hidden input on a terminal;
#!                 with --secrets-from-stdin one line each from stdin, in
#!                 .dev.vars.example's order; otherwise a clear error
#!   3. resources  the D1 database (by database_name), the KV namespace (by
#!                 title, "<worker>-<binding>": linkcredit-LINKS) and every
#!                 queue the configs name: listed, created when missing
#!   4. configs    the deploy configs with those ids: .wrangler-deploy.toml
#!                 (wrangler.toml) and .wrangler-deploy-redirect.toml
#!                 (wrangler.redirect.toml plus wrangler.toml's [vars])
#!   5. migrate    `wrangler d1 migrations apply DB --remote`
#!   6. secrets    `wrangler secret put NAME` for each one asked for in 2
#!   7. deploy     the full worker, then the redirect worker (its APP
#!                 service binding needs the full one)
#!   8. smoke      GET /healthz on both, GET /openapi.json through the
#!                 redirect worker (its APP binding), and one redirect: HEAD
#!                 /deploy-smoke (a bot-classified visit) is a 302 to
#!                 https://example.com/linkcredit-deploy-smoke. That link
#!                 (influencer and campaign "deploy-smoke") is created
#!                 through the admin API when the admin token is at hand:
#!                 asked for in this run, or LINKCREDIT_ADMIN_TOKEN.
#!                 SMOKE_SLUG=<slug> follows one of your links instead.
#! --dry-run: 1-3 only look (whoami and the lists run; every command that
#! would change the account is printed, and nothing is asked), 4 writes
#! .wrangler-deploy-dry-run*.toml (removed at the end), 7 runs
#! `wrangler deploy --dry-run --outdir` for both workers (a local build
#! check), 5, 6 and 8 are printed only.
#!
#! Environment (all optional):
#!   FULL_URL, REDIRECT_URL  where to smoke-test (default: the first URL each
#!                           `wrangler deploy` reports, from its output file)
#!   SMOKE_SLUG              an existing link to follow instead of deploy-smoke
#!   LINKCREDIT_ADMIN_TOKEN  the admin token, to create the smoke link
#!   SMOKE_WAIT              seconds a new workers.dev address may take (60)
#!   LINKCREDIT_WRANGLER     the wrangler to run (default: the pinned one,
#!                           scripts/wrangler.sh; scripts/deploy-test.sh
#!                           passes its stand-in, tests/deploy/fake-wrangler)
#!   DEPLOY_SOURCE, DEPLOY_REDIRECT_SOURCE  the configs (wrangler.toml,
#!                           wrangler.redirect.toml)
#!   DEPLOY_CONFIG           the generated full config (.wrangler-deploy.toml);
#!                           the redirect one is named after it (-redirect)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf 'deploy: %s\n' "$*"; }
step() { printf '\ndeploy: == %s\n' "$*"; }
die() { printf 'deploy: ERROR: %s\n' "$*" >&2; exit 1; }

DRY=0
FROM_STDIN=0
for a in "$@"; do
  case "$a" in
    --dry-run) DRY=1 ;;
    --secrets-from-stdin) FROM_STDIN=1 ;;
    -h | --help) sed -n 's/^#! \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument '$a' (see bash scripts/deploy.sh --help)" ;;
  esac
done

SOURCE="${DEPLOY_SOURCE:-wrangler.toml}"
REDIRECT_SOURCE="${DEPLOY_REDIRECT_SOURCE:-wrangler.redirect.toml}"
CONFIG="${DEPLOY_CONFIG:-.wrangler-deploy.toml}"
[ "$DRY" = 1 ] && CONFIG="${CONFIG%.toml}-dry-run.toml"
REDIRECT_CONFIG="${CONFIG%.toml}-redirect.toml"
SMOKE_DESTINATION="https://example.com/linkcredit-deploy-smoke"
CONF=(python3 "$ROOT/scripts/wrangler_config.py")
if [ -n "${LINKCREDIT_WRANGLER:-}" ]; then
  WRANGLER=("$LINKCREDIT_WRANGLER")
else
  WRANGLER=(bash "$ROOT/scripts/wrangler.sh")
fi

TMP="$(mktemp -d -t linkcredit-deploy-XXXXXX)"
cleanup() {
  rm -rf "$TMP"
  if [ "$DRY" = 1 ]; then rm -f "$CONFIG" "$REDIRECT_CONFIG"; fi
}
trap cleanup EXIT

# look NAME ARGS...: a wrangler command that only reads (run in the dry run
# too). Its stdout goes to $TMP/NAME.out, stderr to $TMP/NAME.err; its
# status is returned. Wrangler never gets the terminal: nothing it would ask
# interactively (a migration's confirmation, a login) stops the run.
look() {
  local name="$1"
  shift
  say "\$ wrangler $*"
  "${WRANGLER[@]}" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err"
}
# change ARGS...: a wrangler command that changes the account: printed, and
# run unless --dry-run, with its output shown.
change() {
  if [ "$DRY" = 1 ]; then
    say "would run: wrangler $*"
    return 0
  fi
  say "\$ wrangler $*"
  "${WRANGLER[@]}" "$@" </dev/null 2>&1 | sed 's/^/    /'
}
failed() { # failed NAME MESSAGE: what wrangler said, then the error
  sed 's/^/    /' "$TMP/$1.out" "$TMP/$1.err" >&2 || true
  die "$2"
}

# --- 1. account ----------------------------------------------------------
step "1/8 account"
look whoami whoami --json ||
  failed whoami "not logged in to Cloudflare: run \`npx wrangler login\` (or set CLOUDFLARE_API_TOKEN)"
say "logged in: $("${CONF[@]}" whoami "$TMP/whoami.out")"

# The names: workers, databases, namespaces, queues.
"${CONF[@]}" redirect --source "$SOURCE" --template "$REDIRECT_SOURCE" --out "$TMP/redirect.toml" >/dev/null
WORKERS=() D1=() KV=() QUEUES=()
while read -r kind a b; do
  case "$kind" in
    worker) WORKERS+=("$a") ;;
    d1) D1+=("$a $b") ;;     # binding name
    kv) KV+=("$a $b") ;;     # binding title
    queue) QUEUES+=("$a") ;;
  esac
done < <("${CONF[@]}" resources "$SOURCE" "$TMP/redirect.toml")
[ "${#WORKERS[@]}" = 2 ] || die "could not read the worker names from $SOURCE and $REDIRECT_SOURCE"
WORKER="${WORKERS[0]}"

# --- 2. secrets: which are missing, and their values -------------------------
step "2/8 secrets of $WORKER"
mapfile -t SECRETS < <(sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p' .dev.vars.example)
[ "${#SECRETS[@]}" -gt 0 ] || die "no secret names in .dev.vars.example"
if look secrets secret list --format json -c "$SOURCE"; then
  HAVE_SECRETS="$("${CONF[@]}" secret-names "$TMP/secrets.out")"
elif grep -qi 'not found' "$TMP/secrets.out" "$TMP/secrets.err"; then
  say "the worker $WORKER does not exist yet: every secret is new"
  HAVE_SECRETS=""
else
  failed secrets "\`wrangler secret list\` failed"
fi
MISSING=()
for s in "${SECRETS[@]}"; do
  if grep -qx "$s" <<<"$HAVE_SECRETS"; then say "$s: set"; else MISSING+=("$s"); fi
done

hint() {
  case "$1" in
    ADMIN_TOKEN) echo "the admin API's token: a long random value, e.g. from \`openssl rand -hex 32\`" ;;
    INGEST_TOKEN) echo "the shop backend's token for conversions: another long random value" ;;
    SHOPIFY_WEBHOOK_SECRET) echo "from the shop's webhook settings" ;;
    REPORTS_TOKEN) echo "read-only, for reports and the dashboard: another long random value" ;;
    *) echo "see .dev.vars.example" ;;
  esac
}
declare -A VALUE=()
if [ "${#MISSING[@]}" -gt 0 ]; then
  if [ "$DRY" = 1 ]; then
    say "would ask for: ${MISSING[*]}"
  elif [ -t 0 ]; then
    say "the worker has no ${MISSING[*]}: enter each one (the input is hidden)"
    for s in "${MISSING[@]}"; do
      v=""
      while [ -z "$v" ]; do
        read -rs -p "deploy: $s ($(hint "$s")): " v
        echo >&2
      done
      VALUE[$s]="$v"
    done
  elif [ "$FROM_STDIN" = 1 ]; then
    for s in "${MISSING[@]}"; do
      IFS= read -r v || die "stdin ended before the value of $s (one line per missing secret: ${MISSING[*]})"
      [ -n "$v" ] || die "an empty line for $s"
      VALUE[$s]="$v"
      say "$s: read from stdin"
    done
  else
    die "the worker has no ${MISSING[*]} and stdin is not a terminal, so nothing can be asked.
  Run \`make deploy\` in a terminal, or pass --secrets-from-stdin with one line
  per secret in this order: ${MISSING[*]}, or set them first (npx wrangler
  secret put NAME). Nothing was changed."
  fi
fi

# --- 3. resources --------------------------------------------------------
step "3/8 D1, KV and queues"
IDS=()
for entry in ${D1[@]+"${D1[@]}"}; do
  read -r binding name <<<"$entry"
  look d1 d1 list --json -c "$SOURCE" || failed d1 "\`wrangler d1 list\` failed"
  id="$("${CONF[@]}" find-id "$TMP/d1.out" d1 "$name")"
  if [ -n "$id" ]; then
    say "D1 database $name ($binding): $id, exists"
  else
    change d1 create "$name" -c "$SOURCE" || die "\`wrangler d1 create $name\` failed"
    if [ "$DRY" = 0 ]; then
      look d1 d1 list --json -c "$SOURCE" || failed d1 "\`wrangler d1 list\` failed"
      id="$("${CONF[@]}" find-id "$TMP/d1.out" d1 "$name")"
      [ -n "$id" ] || failed d1 "D1 database $name was created but is not listed"
      say "D1 database $name ($binding): $id, created"
    fi
  fi
  [ -z "$id" ] || IDS+=(--d1 "$name=$id")
done
for entry in ${KV[@]+"${KV[@]}"}; do
  read -r binding title <<<"$entry"
  look kv kv namespace list -c "$SOURCE" || failed kv "\`wrangler kv namespace list\` failed"
  id="$("${CONF[@]}" find-id "$TMP/kv.out" kv "$title")"
  if [ -n "$id" ]; then
    say "KV namespace $title ($binding): $id, exists"
  else
    change kv namespace create "$title" -c "$SOURCE" || die "\`wrangler kv namespace create $title\` failed"
    if [ "$DRY" = 0 ]; then
      look kv kv namespace list -c "$SOURCE" || failed kv "\`wrangler kv namespace list\` failed"
      id="$("${CONF[@]}" find-id "$TMP/kv.out" kv "$title")"
      [ -n "$id" ] || failed kv "KV namespace $title was created but is not listed"
      say "KV namespace $title ($binding): $id, created"
    fi
  fi
  [ -z "$id" ] || IDS+=(--kv "$binding=$id")
done
if [ "${#QUEUES[@]}" -gt 0 ]; then
  # `queues list` has no --json: its table, a page at a time, until every
  # queue is found or a page is empty.
  declare -A HAVE_QUEUE=()
  page=1
  while :; do
    if [ "$page" = 1 ]; then
      look queues queues list -c "$SOURCE" || failed queues "\`wrangler queues list\` failed"
    else
      look queues queues list --page "$page" -c "$SOURCE" || failed queues "\`wrangler queues list\` failed"
    fi
    all=1
    for q in "${QUEUES[@]}"; do
      if "${CONF[@]}" has-queue "$TMP/queues.out" "$q" 2>"$TMP/rows"; then HAVE_QUEUE[$q]=1; fi
      [ -n "${HAVE_QUEUE[$q]:-}" ] || all=0
    done
    if [ "$all" = 1 ] || [ "$(cat "$TMP/rows")" = 0 ] || [ "$page" -ge 50 ]; then break; fi
    page=$((page + 1))
  done
  for q in "${QUEUES[@]}"; do
    if [ -n "${HAVE_QUEUE[$q]:-}" ]; then
      say "queue $q: exists"
    else
      change queues create "$q" -c "$SOURCE" || die "\`wrangler queues create $q\` failed"
      [ "$DRY" = 1 ] || say "queue $q: created"
    fi
  done
fi

# --- 4. the deploy configs -----------------------------------------------
step "4/8 deploy configs"
PLACEHOLDERS=()
[ "$DRY" = 0 ] || PLACEHOLDERS=(--allow-placeholders)
"${CONF[@]}" write "$SOURCE" "$CONFIG" --from "$SOURCE" ${IDS[@]+"${IDS[@]}"} ${PLACEHOLDERS[@]+"${PLACEHOLDERS[@]}"}
"${CONF[@]}" write "$TMP/redirect.toml" "$REDIRECT_CONFIG" --from "$REDIRECT_SOURCE and the [vars] of $SOURCE" \
  ${IDS[@]+"${IDS[@]}"} ${PLACEHOLDERS[@]+"${PLACEHOLDERS[@]}"}
say "wrote $CONFIG and $REDIRECT_CONFIG with those ids"

# --- 5. migrations -------------------------------------------------------
step "5/8 D1 migrations"
for entry in ${D1[@]+"${D1[@]}"}; do
  read -r binding name <<<"$entry"
  change d1 migrations apply "$binding" --remote -c "$CONFIG" || die "the migrations of $name failed"
done

# --- 6. secrets ----------------------------------------------------------
step "6/8 secrets"
[ "${#MISSING[@]}" -gt 0 ] || say "every secret is set; nothing to ask"
for s in ${MISSING[@]+"${MISSING[@]}"}; do
  if [ "$DRY" = 1 ]; then
    say "would run: wrangler secret put $s -c $CONFIG"
    continue
  fi
  say "\$ wrangler secret put $s -c $CONFIG   (the value on stdin)"
  printf '%s' "${VALUE[$s]}" | "${WRANGLER[@]}" secret put "$s" -c "$CONFIG" 2>&1 | sed 's/^/    /' ||
    die "\`wrangler secret put $s\` failed"
done

# --- 7. deploy -----------------------------------------------------------
step "7/8 deploy: ${WORKERS[0]}, then ${WORKERS[1]}"
deploy() { # deploy LABEL CONFIG: sets URL to the worker's first address
  URL=""
  if [ "$DRY" = 1 ]; then
    say "would run: wrangler deploy -c $2"
    local out="$TMP/$1-dry-run"
    say "\$ wrangler deploy -c $2 --dry-run --outdir $out"
    "${WRANGLER[@]}" deploy -c "$2" --dry-run --outdir "$out" </dev/null 2>&1 | sed 's/^/    /' ||
      die "\`wrangler deploy --dry-run -c $2\` failed"
    return 0
  fi
  say "\$ wrangler deploy -c $2"
  WRANGLER_OUTPUT_FILE_PATH="$TMP/$1.ndjson" "${WRANGLER[@]}" deploy -c "$2" </dev/null 2>&1 | sed 's/^/    /' ||
    die "\`wrangler deploy -c $2\` failed"
  URL="$("${CONF[@]}" targets "$TMP/$1.ndjson" 2>/dev/null | head -n1 || true)"
}
deploy full "$CONFIG"
FULL_TARGET="$URL"
deploy redirect "$REDIRECT_CONFIG"
REDIRECT_TARGET="$URL"

# --- 8. smoke test -------------------------------------------------------
step "8/8 smoke test"
if [ "$DRY" = 1 ]; then
  say "would check: GET /healthz on both workers, GET /openapi.json and HEAD /${SMOKE_SLUG:-deploy-smoke} through ${WORKERS[1]}"
  say "dry run done: nothing was changed"
  exit 0
fi
FULL="${FULL_URL:-$FULL_TARGET}"
FRONT="${REDIRECT_URL:-$REDIRECT_TARGET}"
[ -n "$FULL" ] || die "the deploy of ${WORKERS[0]} reported no URL (no workers.dev address?): set FULL_URL to smoke-test it"
[ -n "$FRONT" ] || die "the deploy of ${WORKERS[1]} reported no URL (no workers.dev address?): set REDIRECT_URL to smoke-test it"
FULL="${FULL%/}" FRONT="${FRONT%/}"

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); say "smoke: PASS  $*"; }
fail() { FAILED=$((FAILED + 1)); say "smoke: FAIL  $*"; }
# http METHOD URL [curl args...]: sets CODE (000: no answer); the body in
# $TMP/body, the headers in $TMP/headers.
http() {
  local method="$1" url="$2"
  shift 2
  local how=(-X "$method")
  [ "$method" != HEAD ] || how=(-I)
  : >"$TMP/body"
  : >"$TMP/headers"
  CODE="$(curl -sS "${how[@]}" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' --max-time 15 "$@" "$url" 2>"$TMP/curl.err")" || CODE=000
}
body() { head -c 300 "$TMP/body" | tr '\n' ' '; }
healthz() { # healthz NAME URL: waits up to SMOKE_WAIT for a new address
  local deadline=$((SECONDS + ${SMOKE_WAIT:-60}))
  while :; do
    http GET "$2/healthz"
    if [ "$CODE" = 200 ] && grep -q '"status": *"ok"' "$TMP/body"; then
      pass "GET $2/healthz ($1): 200 $(body)"
      return
    fi
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 2
  done
  fail "GET $2/healthz ($1): $CODE $(body)$(cat "$TMP/curl.err")"
}
healthz "${WORKERS[0]}" "$FULL"
healthz "${WORKERS[1]}" "$FRONT"
http GET "$FRONT/openapi.json"
if [ "$CODE" = 200 ]; then
  pass "GET $FRONT/openapi.json: 200 (${WORKERS[1]} passes API calls to ${WORKERS[0]})"
else
  fail "GET $FRONT/openapi.json: $CODE (${WORKERS[1]} should pass it to ${WORKERS[0]} through APP) $(body)"
fi

SLUG="${SMOKE_SLUG:-deploy-smoke}"
if [ -z "${SMOKE_SLUG:-}" ]; then
  TOKEN="${VALUE[ADMIN_TOKEN]:-${LINKCREDIT_ADMIN_TOKEN:-}}"
  if [ -n "$TOKEN" ]; then
    printf 'Authorization: Bearer %s\n' "$TOKEN" >"$TMP/auth"
    api() { # api METHOD PATH [JSON]
      local data=()
      [ -z "${3:-}" ] || data=(-H 'Content-Type: application/json' --data "$3")
      http "$1" "$FRONT$2" -H @"$TMP/auth" ${data[@]+"${data[@]}"}
    }
    api GET /api/v1/links/deploy-smoke
    if [ "$CODE" = 200 ]; then
      say "smoke: the link /deploy-smoke exists"
    elif [ "$CODE" = 404 ]; then
      api POST /api/v1/influencers '{"handle": "deploy-smoke", "name": "make deploy smoke test"}'
      [[ "$CODE" =~ ^(201|409)$ ]] || fail "POST /api/v1/influencers: $CODE $(body)"
      api POST /api/v1/campaigns '{"slug": "deploy-smoke", "name": "make deploy smoke test"}'
      [[ "$CODE" =~ ^(201|409)$ ]] || fail "POST /api/v1/campaigns: $CODE $(body)"
      api POST /api/v1/links "{\"slug\": \"deploy-smoke\", \"destination\": \"$SMOKE_DESTINATION\", \"influencer\": \"deploy-smoke\", \"campaign\": \"deploy-smoke\", \"tags\": [\"deploy-smoke\"]}"
      if [ "$CODE" = 201 ]; then
        say "smoke: created the link /deploy-smoke -> $SMOKE_DESTINATION (influencer and campaign deploy-smoke)"
      else
        fail "POST /api/v1/links (the smoke link): $CODE $(body)"
      fi
    else
      fail "GET /api/v1/links/deploy-smoke with the admin token: $CODE $(body)"
    fi
  else
    say "smoke: no admin token at hand (ADMIN_TOKEN was set before this run): following /deploy-smoke as it is"
  fi
fi
http HEAD "$FRONT/$SLUG" -A "linkcredit-deploy-smoke/1 (bot)"
LOCATION="$(sed -n 's/^[Ll]ocation: *//p' "$TMP/headers" | tr -d '\r' | head -n1)"
if [ -n "${SMOKE_SLUG:-}" ]; then WANT='^https?://'; else WANT="^$SMOKE_DESTINATION"; fi
if [ "$CODE" = 302 ] && [[ "$LOCATION" =~ $WANT ]]; then
  pass "HEAD $FRONT/$SLUG: 302 to $LOCATION"
elif [ "$CODE" = 404 ] && [ -z "${SMOKE_SLUG:-}" ]; then
  fail "HEAD $FRONT/$SLUG: 404, there is no smoke link yet: run again with LINKCREDIT_ADMIN_TOKEN=<the admin token> to create it, or SMOKE_SLUG=<one of your links>"
else
  fail "HEAD $FRONT/$SLUG: $CODE, Location '${LOCATION}' (want a 302 to ${WANT#^})"
fi

say "smoke test: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] || die "the smoke test failed (the workers are deployed; see the FAIL lines above)"
say "done: ${WORKERS[0]} at $FULL, ${WORKERS[1]} at $FRONT"

#!/usr/bin/env bash
#! Runs the project's pinned wrangler, offline (no metrics, no cf fetch).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_LOG_PATH="${WRANGLER_LOG_PATH:-$ROOT/target/wrangler-logs}"
exec "$ROOT/node_modules/.bin/wrangler" "$@"

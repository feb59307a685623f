#!/usr/bin/env bash
#! scripts/openapi-client.sh — the generated-client test against a running
#! worker: openapi-typescript turns src/openapi.json into types in a temp
#! dir, tsc type-checks tests/openapi_client.ts (openapi-fetch calls) against
#! them, esbuild bundles it, and node runs it, which validates every live
#! response against its schema. Needs LINKCREDIT_BASE_URL and the
#! LINKCREDIT_*_TOKEN variables (scripts/e2e.sh exports them); part of
#! `make test` through scripts/e2e.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/node_modules/.bin"
TMP="$(mktemp -d -t linkcredit-openapi-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

"$BIN/openapi-typescript" src/openapi.json -o "$TMP/schema.d.ts"
cat >"$TMP/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "strict": true, "noEmit": true, "target": "es2022", "module": "esnext", "moduleResolution": "bundler",
    "esModuleInterop": true, "skipLibCheck": true, "lib": ["es2022", "dom"],
    "types": ["node"], "typeRoots": ["$ROOT/node_modules/@types"],
    "paths": { "linkcredit-openapi": ["$TMP/schema.d.ts"] }
  },
  "files": ["$ROOT/tests/openapi_client.ts"]
}
EOF
"$BIN/tsc" -p "$TMP/tsconfig.json"
"$BIN/esbuild" tests/openapi_client.ts --bundle --platform=node --format=esm --log-level=warning \
  --outfile="$TMP/openapi_client.mjs"
node "$TMP/openapi_client.mjs"

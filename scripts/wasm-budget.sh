#!/usr/bin/env bash
#! scripts/wasm-budget.sh — fails when a worker's wasm is over its budget
#! (gzip -9, what Workers' size limit counts): the redirect worker
#! (build-redirect/, the `redirect-only` build) 200 KB, the full worker
#! (build/) 800 KB. Builds whatever is not up to date first. Part of
#! `make test`; see ARCHITECTURE.md, Decisions.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p target
for args in "--release" "--release --out-dir build-redirect -- --features redirect-only"; do
  # shellcheck disable=SC2086
  bash scripts/build-wasm.sh $args >target/wasm-budget-build.log 2>&1 ||
    { cat target/wasm-budget-build.log; exit 1; }
done
status=0
check() { # check NAME FILE BUDGET_BYTES
  local gz
  gz=$(gzip -9 -c "$2" | wc -c)
  if [ "$gz" -gt "$3" ]; then
    echo "wasm-budget: $1 is $gz bytes gzip, over its budget of $3" >&2
    status=1
  else
    echo "wasm-budget: $1 is $gz bytes gzip (budget $3)"
  fi
}
check "the redirect worker" build-redirect/index_bg.wasm 200000
check "the full worker" build/index_bg.wasm 800000
exit "$status"

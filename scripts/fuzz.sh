#!/usr/bin/env bash
#! scripts/fuzz.sh — run the cargo-fuzz targets in fuzz/ for a bounded time.
#!
#! Usage:  bash scripts/fuzz.sh [target...]      (default: every target)
#!   FUZZ_SECONDS=60       seconds per target (default 60)
#!   FUZZ_SANITIZER=none   address (default when the installed rust-std ships
#!                         the ASan runtime) or none
#!
#! There is no nightly toolchain: RUSTC_BOOTSTRAP=1 lets stable rustc accept
#! the -Z flags cargo-fuzz passes (-Zsanitizer=address, sancov passes).
#! Installs cargo-fuzz if it is missing. Seeds are read from the committed
#! fuzz/corpus/<target>/; new inputs go to fuzz/generated/<target>/, logs to
#! fuzz/generated/logs/, crashes to fuzz/artifacts/<target>/ (all ignored by
#! git). Every target runs even if one fails; the exit status is non-zero if
#! any target found a crash.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"

# Start from the main crate's lock file, so the shared dependencies are the
# versions the worker is built and tested with.
[ -f Cargo.lock ] || cp ../Cargo.lock Cargo.lock

SECONDS_EACH="${FUZZ_SECONDS:-60}"
TARGET_DIR="$ROOT/fuzz/target"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

if [ -z "${FUZZ_SANITIZER:-}" ]; then
  host="$(rustc -vV | sed -n 's/^host: //p')"
  if compgen -G "$(rustc --print sysroot)/lib/rustlib/$host/lib/librustc-*_rt.asan.a" >/dev/null; then
    FUZZ_SANITIZER=address
  else
    FUZZ_SANITIZER=none
  fi
fi

# target, max input length, dictionary
declare -A MAX_LEN=([ua_classify]=12000 [destination_location]=4200 [conversion_json]=16384 [shopify_order]=16384)
declare -A DICT=([ua_classify]=ua [destination_location]=url [conversion_json]=json [shopify_order]=json)

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

FLAGS=(--release --debug-assertions --sanitizer "$FUZZ_SANITIZER" --target-dir "$TARGET_DIR")
echo "fuzz: $(rustc --version), sanitizer $FUZZ_SANITIZER, ${SECONDS_EACH}s per target"
cargo fuzz build "${FLAGS[@]}"

mkdir -p generated/logs
failed=()
for t in "${targets[@]}"; do
  mkdir -p "generated/$t" "corpus/$t"
  log="generated/logs/$t.log"
  echo "fuzz: $t for ${SECONDS_EACH}s (log fuzz/$log)"
  if cargo fuzz run "${FLAGS[@]}" "$t" "generated/$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -max_len="${MAX_LEN[$t]:-4096}" \
    -dict="dict/${DICT[$t]:-json}.dict" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
  fi
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  last() { grep -o "$1" "$log" | tail -1 || true; }
  runs="$(stat number_of_executed_units)"
  speed="$(stat average_exec_per_sec)"
  slow="$(stat slowest_unit_time_sec)"
  cov="$(last 'cov: [0-9]*')"
  corp="$(last 'corp: [0-9]*/[0-9]*[a-zA-Z]*')"
  echo "fuzz: $t $status: ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-cov: ?}, ${corp:-corp: ?}, slowest input ${slow:-?}s"
  if [ "$status" = FAILED ]; then
    grep -E 'panicked|ERROR: |SUMMARY|Test unit written' "$log" | head -20 || tail -30 "$log"
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: failures in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: all targets ran clean"

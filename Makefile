# linkcredit: the two commands are `make dev` and `make test`.
# Every target runs scripts/setup.sh first, which installs whatever is
# missing (npm packages, the wasm32 std, worker-build, wasm-bindgen-cli).

.PHONY: dev test setup build fmt lint test-native test-e2e bench seed-large fuzz clean

## Serve the worker on http://127.0.0.1:8787 with seeded demo data.
dev: setup
	bash scripts/dev.sh

## Everything CI runs: format, clippy (native and wasm32), native tests, e2e.
test: setup
	cargo fmt --all -- --check
	cargo clippy --all-targets --all-features -- -D warnings
	bash scripts/clippy-wasm.sh
	cargo test
	bash scripts/e2e.sh

## Benchmarks: native core (models, data-driven table, journeys) and the
## attribution cron under wrangler dev.
bench: setup
	cargo bench --bench core
	bash bench/cron.sh
	bash bench/reports.sh

## Seed a large local D1 (10M clicks, 1M conversions) and time reports on it.
seed-large: setup
	bash bench/reports.sh

setup:
	bash scripts/setup.sh

## Fuzz every cargo-fuzz target in fuzz/ for FUZZ_SECONDS each (default 60).
## Native only, so no setup; installs cargo-fuzz if missing. Not in `test`.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

## Build the wasm worker into build/.
build: setup
	bash scripts/build-wasm.sh

fmt:
	cargo fmt --all

lint: setup
	cargo clippy --all-targets --all-features -- -D warnings
	bash scripts/clippy-wasm.sh

test-native:
	cargo test

test-e2e: setup
	bash scripts/e2e.sh

clean:
	rm -rf target build .wrangler fuzz/target

# linkcredit: the commands are `make dev`, `make test` and `make deploy`.
# Every target runs scripts/setup.sh first, which installs whatever is
# missing (npm packages, the wasm32 std, worker-build, wasm-bindgen-cli).

.PHONY: dev test deploy setup build fmt lint test-native test-e2e test-deploy test-load bench seed-large fuzz clean

## Serve the worker on http://127.0.0.1:8787 with seeded demo data.
dev: setup
	bash scripts/dev.sh

## Everything CI runs: format, clippy (native and wasm32, both workers), native
## tests, the OpenAPI document's validation, e2e (with fault injection, the
## generated OpenAPI client, and through the redirect worker), `make deploy`
## against a stand-in wrangler, the wasm size budgets, and the
## load/restart/queue tests at a reduced size.
test: setup
	cargo fmt --all -- --check
	cargo clippy --all-targets --all-features -- -D warnings
	bash scripts/clippy-wasm.sh
	bash scripts/clippy-wasm.sh --features redirect-only
	cargo test
	node tests/openapi_lint.mjs
	bash scripts/e2e.sh
	bash scripts/deploy-test.sh
	bash scripts/wasm-budget.sh
	CLICKS=3000 CONVERSIONS=300 bash scripts/load.sh

## Both workers to Cloudflare: finds or creates the D1 database, the KV
## namespace and the queues by name, writes their ids into
## .wrangler-deploy*.toml, applies the migrations, asks for the missing
## secrets, deploys the full worker then the redirect worker, smoke-tests
## both. Re-runnable. `make deploy DEPLOY_ARGS=--dry-run` changes nothing.
DEPLOY_ARGS ?=
deploy: setup
	bash scripts/deploy.sh $(DEPLOY_ARGS)

## Benchmarks, one table each, merged into bench/results.json: native core
## (models, data-driven table, journeys); the redirect against a JS peer and
## the constant-302 ceiling (wrk at c32 and c128), cold start and wasm size;
## the attribution cron under wrangler dev; reports on a large seed.
bench: setup
	cargo bench --bench core
	bash bench/redirect.sh
	bash bench/profile.sh
	bash bench/wasm-size.sh
	python3 bench/sqlite_clicks.py
	N=20000 bash bench/cron.sh
	bash bench/reports.sh
	python3 bench/collect.py

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

## `make deploy` end to end against tests/deploy/fake-wrangler (no Cloudflare).
test-deploy: setup
	bash scripts/deploy-test.sh

## The load test at full size (20000 redirects at c64, 2000 conversions),
## the restart check and the queue path.
test-load: setup
	bash scripts/load.sh

clean:
	rm -rf target build .wrangler fuzz/target

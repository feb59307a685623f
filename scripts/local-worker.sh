# shellcheck shell=bash
#! scripts/local-worker.sh — SOURCE it: the one way scripts run the worker
#! under `wrangler dev` on a free port with local KV and D1.
#!
#!   start_worker STATE LOG [wrangler dev args...]
#!       starts it on 127.0.0.1 with state in STATE (its own process group),
#!       waits for /healthz, and sets PORT, BASE, INSPECTOR_PORT and
#!       WORKER_PID; prints LOG
#!       and fails if the worker exits or never answers (WORKER_LOG_LEVEL,
#!       default warn, sets wrangler's log level). Pass
#!       `--config other/wrangler.toml` to run another worker (the benches'
#!       JS peer); several may run at once, each on its own ports.
#!       Link checks from the cron are off (LINK_CHECKS_PER_RUN, default 0
#!       here): local links point at shops that do not exist.
#!   stop_worker        stops every worker started (safe to call twice).
#!   devvar NAME        a value from .dev.vars.

WORKER_PIDS=()

devvar() { sed -n "s/^$1=//p" "$ROOT/.dev.vars" | tail -n1; }

start_worker() {
  local state="$1" log="$2" inspector
  shift 2
  PORT="$(bash "$ROOT/scripts/free-port.sh")"
  inspector="$(bash "$ROOT/scripts/free-port.sh")"
  BASE="http://127.0.0.1:$PORT"
  INSPECTOR_PORT="$inspector"
  setsid bash "$ROOT/scripts/wrangler.sh" dev --ip 127.0.0.1 --port "$PORT" --inspector-port "$inspector" \
    --persist-to "$state" --log-level "${WORKER_LOG_LEVEL:-warn}" \
    --var "LINK_CHECKS_PER_RUN:${LINK_CHECKS_PER_RUN:-0}" "$@" >"$log" 2>&1 &
  WORKER_PID=$!
  WORKER_PIDS+=("$WORKER_PID")
  for _ in $(seq 1 240); do
    if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$WORKER_PID" 2>/dev/null; then
      echo "wrangler dev exited early:"; cat "$log"; return 1
    fi
    sleep 0.5
  done
  echo "the worker never became healthy:"; cat "$log"; return 1
}

stop_worker() {
  local pid
  for pid in "${WORKER_PIDS[@]}"; do
    # wrangler runs in its own process group (setsid): stop node and workerd.
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  WORKER_PIDS=()
  WORKER_PID=""
}

# shellcheck shell=bash
#! scripts/local-worker.sh — SOURCE it: the one way scripts run the worker
#! under `wrangler dev` on a free port with local KV and D1.
#!
#!   start_worker STATE LOG [wrangler dev args...]
#!       starts it on 127.0.0.1 with state in STATE (its own process group),
#!       waits for /healthz, and sets PORT, BASE and WORKER_PID; prints LOG
#!       and fails if the worker exits or never answers.
#!   stop_worker        stops node and workerd again (safe to call twice).
#!   devvar NAME        a value from .dev.vars.

devvar() { sed -n "s/^$1=//p" "$ROOT/.dev.vars" | tail -n1; }

start_worker() {
  local state="$1" log="$2" inspector
  shift 2
  PORT="$(bash "$ROOT/scripts/free-port.sh")"
  inspector="$(bash "$ROOT/scripts/free-port.sh")"
  BASE="http://127.0.0.1:$PORT"
  setsid bash "$ROOT/scripts/wrangler.sh" dev --ip 127.0.0.1 --port "$PORT" --inspector-port "$inspector" \
    --persist-to "$state" --log-level warn "$@" >"$log" 2>&1 &
  WORKER_PID=$!
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
  if [ -n "${WORKER_PID:-}" ]; then
    # wrangler runs in its own process group (setsid): stop node and workerd.
    kill -- "-$WORKER_PID" 2>/dev/null || kill "$WORKER_PID" 2>/dev/null || true
    wait "$WORKER_PID" 2>/dev/null || true
    WORKER_PID=""
  fi
}

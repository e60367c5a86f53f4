#!/usr/bin/env bash
# Tessera's benchmark: hot OAuth paths under closed-loop wrk load, per storage backend.
#
#   bench/run.sh                      (from anywhere; see bench/README.md)
#
# For each backend it starts a fresh `tessera serve` on 127.0.0.1:18080 with a throw-away
# database (SQLite file in a temp dir, or a new PostgreSQL database that is dropped again),
# waits for GET /readyz, and runs wrk (a warm-up run, then the measured run with --latency) for:
#   client_credentials  POST /oauth/token grant_type=client_credentials&scope=read
#   refresh_token       POST /oauth/token grant_type=refresh_token (rotating; wrk/refresh.lua)
#   introspect          POST /oauth/introspect token=<a client_credentials access token>
# all with HTTP Basic bench:bench-secret (bench/bootstrap.toml). One line per case:
#   backend, case, requests/s, p50, p99, non-2xx responses (socket errors when there were any).
#
# Environment (defaults in brackets):
#   TESSERA_BIN   server binary [<repo>/target/release/tessera]; build it first with
#                 cargo build --release -p tessera-server
#   BACKENDS      [sqlite postgres]
#   DURATION      measured wrk run [10s]        WARMUP   warm-up wrk run, 0 = none [3s]
#   CONNS         wrk connections [64]          THREADS  wrk threads [2]
#   OUT           when set, append one TSV row per case to this file (set but empty:
#                 bench/results.tsv); a header row is written to a new file
#   KEEP_TMP=1    keep each backend's temp dir (config, server log, SQLite file)
#   PIN=1         pin the server to SERVER_CPUS [1] and wrk to WRK_CPUS [0] with taskset
# PostgreSQL: psql -h 127.0.0.1 -U postgres -d test must work without a password prompt;
# each run creates database tessera_bench_<random> and drops it at exit.
#
# Exit status: 0; 2 on a missing prerequisite; 1 if the server or a sanity check fails;
# 3 if any case saw non-2xx responses or socket errors (the lines are still printed).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
BIN="${TESSERA_BIN:-$ROOT/target/release/tessera}"
BACKENDS="${BACKENDS:-sqlite postgres}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
CONNS="${CONNS:-64}"
THREADS="${THREADS:-2}"
KEEP_TMP="${KEEP_TMP:-0}"
# PIN=1: the server on SERVER_CPUS [1] and wrk on WRK_CPUS [0] (taskset), as the team's yardstick (bench/README.md)
# does: one core for the server, so figures compare with its ceiling.
if [[ "${PIN:-0}" == 1 ]]; then
  SERVER_PIN=(taskset -c "${SERVER_CPUS:-1}")
  WRK_PIN=(taskset -c "${WRK_CPUS:-0}")
else
  SERVER_PIN=()
  WRK_PIN=()
fi
if [[ -n "${OUT+set}" ]]; then
  OUT="${OUT:-$HERE/results.tsv}"
  [[ "$OUT" == /* ]] || OUT="$PWD/$OUT"
else
  OUT=""
fi

# Load only ever goes to this address.
PORT=18080
BASE="http://127.0.0.1:$PORT"
PG_ARGS=(-h 127.0.0.1 -p 5432 -U postgres -d test -v ON_ERROR_STOP=1 -X -q)

# The client and user of bench/bootstrap.toml; exported for the wrk scripts.
export CLIENT_ID=bench CLIENT_SECRET=bench-secret SCOPE=read
export BENCH_USER=bench BENCH_PASSWORD=bench-password
export TOKEN_PATH=/oauth/token INTROSPECT_PATH=/oauth/introspect

die() { echo "run.sh: $*" >&2; exit "${2:-1}"; }

# ---- prerequisites -------------------------------------------------------------------------
[[ -x "$BIN" ]] || { echo "build first: cargo build --release -p tessera-server" >&2
                     echo "(no executable at $BIN; TESSERA_BIN overrides the path)" >&2; exit 2; }
command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk" 2
command -v curl >/dev/null || die "curl not found: apt-get install -y curl" 2
[[ -f "$HERE/bootstrap.toml" ]] || die "missing $HERE/bootstrap.toml" 2
for b in $BACKENDS; do
  case "$b" in
    sqlite) ;;
    postgres)
      command -v psql >/dev/null || die "psql not found (apt-get install -y postgresql-client), or BACKENDS=sqlite" 2
      psql "${PG_ARGS[@]}" -Atc 'SELECT 1' >/dev/null ||
        die "PostgreSQL not reachable as postgres@127.0.0.1:5432/test (or run with BACKENDS=sqlite)" 2;;
    *) die "unknown backend '$b' (sqlite | postgres)" 2;;
  esac
done
if curl -s -o /dev/null --max-time 2 "$BASE/"; then
  die "something already answers on $BASE; stop it first (this script starts its own server)" 2
fi
# TESSERA_<SECTION>__<KEY> variables override the config file; keep them out of the server.
while read -r v; do if [[ -n "$v" ]]; then unset "$v"; fi; done < <(compgen -e | grep -E '^TESSERA_[A-Z0-9_]+__' || true)

# ---- per-backend state and cleanup ---------------------------------------------------------
SPID=""; TMPD=""; PGDB=""

stop_server() {
  [[ -n "$SPID" ]] || return 0
  kill "$SPID" 2>/dev/null || true
  local i
  for i in $(seq 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SPID" 2>/dev/null; then
    echo "run.sh: server $SPID did not stop within 10 s; killing it" >&2
    kill -9 "$SPID" 2>/dev/null || true
  fi
  wait "$SPID" 2>/dev/null || true
  SPID=""
}

teardown() {
  stop_server
  if [[ -n "$PGDB" ]]; then
    psql "${PG_ARGS[@]}" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null ||
      echo "run.sh: could not drop database $PGDB; drop it by hand" >&2
    PGDB=""
  fi
  if [[ -n "$TMPD" ]]; then
    if [[ "$KEEP_TMP" == 1 ]]; then echo "run.sh: kept $TMPD" >&2; else rm -rf "$TMPD"; fi
    TMPD=""
  fi
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server_log_tail() { [[ -n "$TMPD" && -f "$TMPD/server.log" ]] && tail -n 30 "$TMPD/server.log" >&2 || true; }

# ---- helpers -------------------------------------------------------------------------------
json_str() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" | head -n 1; }

token_request() { # form fields... -> response body on stdout
  local args=() f
  for f in "$@"; do args+=(--data-urlencode "$f"); done
  curl -sS --max-time 30 -u "$CLIENT_ID:$CLIENT_SECRET" "${args[@]}" "$BASE$TOKEN_PATH"
}

password_grant() { token_request grant_type=password "username=$BENCH_USER" "password=$BENCH_PASSWORD"; }

write_config() { # backend db_url -> $TMPD/tessera.toml
  cat >"$TMPD/tessera.toml" <<EOF
# Generated by bench/run.sh for backend $1; keys as in docs/reference/configuration.md.
[server]
listen = "127.0.0.1:$PORT"
issuer = "$BASE"
trusted_proxies = []

[log]
level = "warn"

[database]
url = "$2"
max_connections = 16

[keys]
dir = "$TMPD/keys"

[tokens]
access_ttl = "2h"
refresh_ttl = "30d"
auth_code_ttl = "60s"

[login]
hide_unknown_user = true
max_password_failures = 5
lock_duration = "30m"
captcha_after_failures = 3

[captcha]
mode = "image"

[sms]
sender = "log"

[bootstrap]
file = "$HERE/bootstrap.toml"
EOF
}

start_server() {
  "${SERVER_PIN[@]}" "$BIN" serve --config "$TMPD/tessera.toml" >"$TMPD/server.log" 2>&1 &
  SPID=$!
  local deadline=$((SECONDS + 30)) code
  while ((SECONDS < deadline)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/readyz" || true)"
    [[ "$code" == 200 ]] && return 0
    if ! kill -0 "$SPID" 2>/dev/null; then
      wait "$SPID" 2>/dev/null || true; SPID=""
      echo "run.sh: tessera exited during start-up; its log:" >&2; server_log_tail; exit 1
    fi
    sleep 0.2
  done
  echo "run.sh: GET $BASE/readyz did not answer 200 within 30 s (last: $code); server log:" >&2
  server_log_tail; exit 1
}

# Writes n fresh refresh tokens (one password grant each, so one token family each) to file.
seed_refresh_tokens() { # n file
  local i resp rt
  : >"$2"
  for ((i = 0; i < $1; i++)); do
    resp="$(password_grant)"
    rt="$(printf '%s' "$resp" | json_str refresh_token)"
    [[ -n "$rt" ]] || die "password grant gave no refresh_token: $resp"
    printf '%s\n' "$rt" >>"$2"
  done
}

is_zero_duration() { [[ "$1" =~ ^0+[a-z]*$ ]]; }

# Reads wrk's text summary (stdin) -> "rps p50_ms p99_ms requests non2xx sock_errors".
# Latencies are printed with units us/ms/s/m; non-2xx is wrk's count of statuses > 399.
parse_wrk() {
  awk '
    function ms(s,   v) {
      v = s + 0
      if (s ~ /us$/) return v / 1000
      if (s ~ /ms$/) return v
      if (s ~ /[0-9.]s$/) return v * 1000
      if (s ~ /m$/) return v * 60000
      if (s ~ /h$/) return v * 3600000
      return v
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { reqs = $1 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { for (i = 1; i <= NF; i++) { f = $i; sub(/,$/, "", f); if (f ~ /^[0-9]+$/) sock += f } }
    $1 == "Requests/sec:" { rps = $2 }
    END {
      if (rps == "") exit 1
      printf "%.2f %.3f %.3f %d %d %d\n", rps, p50, p99, reqs, non2xx, sock
    }'
}

FAILED=0
GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"

report() { # backend case rps p50 p99 reqs non2xx sock
  local extra=""
  [[ "$8" == 0 ]] || extra="   socket errors $8"
  printf '%-9s %-19s %10s req/s   p50 %8s ms   p99 %8s ms   non-2xx %s%s\n' \
    "$1" "$2" "$3" "$4" "$5" "$7" "$extra"
  [[ "$7" == 0 && "$8" == 0 ]] || FAILED=1
  if [[ -n "$OUT" ]]; then
    mkdir -p "$(dirname "$OUT")"
    [[ -s "$OUT" ]] || printf 'date_utc\tcommit\tbackend\tcase\tconns\tthreads\tduration\trps\tp50_ms\tp99_ms\trequests\tnon2xx\tsock_errors\n' >"$OUT"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$GIT_REV" \
      "$1" "$2" "$CONNS" "$THREADS" "$DURATION" "$3" "$4" "$5" "$6" "$7" "$8" >>"$OUT"
  fi
}

run_case() { # backend case script
  local backend="$1" name="$2" script="$3" raw nums seedn=0
  local wrk_args=(-t"$THREADS" -c"$CONNS" -s "$script")
  if [[ "$name" == refresh_token ]]; then
    # One token per connection plus one spare per thread (see wrk/refresh.lua), fresh for
    # each wrk run: the tokens a run rotates die with it.
    seedn=$(( (CONNS + THREADS - 1) / THREADS * THREADS + THREADS ))
    export WRK_THREADS="$THREADS" REFRESH_SEED="$TMPD/refresh-seed.txt"
  fi
  if ! is_zero_duration "$WARMUP"; then
    ((seedn == 0)) || seed_refresh_tokens "$seedn" "$REFRESH_SEED"
    "${WRK_PIN[@]}" wrk "${wrk_args[@]}" -d"$WARMUP" "$BASE" >/dev/null
  fi
  ((seedn == 0)) || seed_refresh_tokens "$seedn" "$REFRESH_SEED"
  raw="$("${WRK_PIN[@]}" wrk "${wrk_args[@]}" -d"$DURATION" --latency "$BASE")"
  nums="$(printf '%s\n' "$raw" | parse_wrk)" || { printf '%s\n' "$raw" >&2; die "could not parse wrk's output"; }
  read -r rps p50 p99 reqs non2xx sock <<<"$nums"
  if [[ "$name" == refresh_token ]]; then
    # wrk counts only statuses > 399; the script counts every non-200 and seed shortfalls.
    local line
    line="$(printf '%s\n' "$raw" | grep '^REFRESH ' | tail -n 1)"
    [[ -n "$line" ]] || { printf '%s\n' "$raw" >&2; die "no REFRESH line from wrk/refresh.lua"; }
    get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    non2xx="$(get non200)"
    report "$backend" "$name" "$rps" "$p50" "$p99" "$reqs" "$non2xx" "$sock"
    if [[ "$non2xx" != 0 || "$(get no_token)" != 0 || "$(get password_grants)" != 0 ]]; then
      printf '%-9s %-19s (non-200 by status: 400=%s 401=%s 429=%s 503=%s other=%s; 200 without refresh_token=%s; password grants sent=%s)\n' \
        "" "" "$(get s400)" "$(get s401)" "$(get s429)" "$(get s503)" "$(get other)" "$(get no_token)" "$(get password_grants)"
      [[ "$(get no_token)" == 0 ]] || FAILED=1
    fi
    unset REFRESH_SEED WRK_THREADS
  else
    report "$backend" "$name" "$rps" "$p50" "$p99" "$reqs" "$non2xx" "$sock"
  fi
}

# Fails loudly before the load if a grant does not work (a fast 401 is not a result).
sanity_checks() {
  local resp at rt rt2 check
  resp="$(token_request grant_type=client_credentials "scope=$SCOPE")"
  at="$(printf '%s' "$resp" | json_str access_token)"
  [[ -n "$at" ]] || die "client_credentials gave no access_token: $resp"
  check="$(curl -sS --max-time 30 -u "$CLIENT_ID:$CLIENT_SECRET" --data-urlencode "token=$at" "$BASE$INTROSPECT_PATH")"
  grep -Eq '"active" *: *true' <<<"$check" || die "introspection of a fresh access token is not active: $check"
  export TOKEN="$at"   # the token introspected under load (access_ttl 2h outlives the run)

  resp="$(password_grant)"
  rt="$(printf '%s' "$resp" | json_str refresh_token)"
  [[ -n "$rt" ]] || die "password grant gave no refresh_token: $resp"
  resp="$(token_request grant_type=refresh_token "refresh_token=$rt")"
  rt2="$(printf '%s' "$resp" | json_str refresh_token)"
  [[ -n "$rt2" && "$rt2" != "$rt" ]] || die "refresh_token grant did not rotate the token: $resp"
}

# ---- main ----------------------------------------------------------------------------------
echo "tessera bench: $BIN ($GIT_REV), wrk -c $CONNS -t $THREADS, warm-up $WARMUP, measured $DURATION, backends: $BACKENDS"
for backend in $BACKENDS; do
  TMPD="$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench.XXXXXX")"
  case "$backend" in
    sqlite) db_url="sqlite://$TMPD/tessera.db";;
    postgres)
      name="tessera_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
      psql "${PG_ARGS[@]}" -c "CREATE DATABASE $name" >/dev/null
      PGDB="$name"
      db_url="postgres://postgres@127.0.0.1:5432/$PGDB";;
  esac
  write_config "$backend" "$db_url"
  start_server
  sanity_checks
  run_case "$backend" client_credentials "$HERE/wrk/client_credentials.lua"
  run_case "$backend" refresh_token "$HERE/wrk/refresh.lua"
  run_case "$backend" introspect "$HERE/wrk/introspect.lua"
  unset TOKEN
  teardown
done
[[ -z "$OUT" ]] || echo "rows appended to $OUT"
((FAILED == 0)) || { echo "run.sh: some requests failed (non-2xx or socket errors); see above" >&2; exit 3; }

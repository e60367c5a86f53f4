#!/usr/bin/env bash
# Scale of data (issue 7): client_credentials and introspection on an empty SQLite database
# and on one holding USERS users [1,000,000] and TOKENS live tokens [10,000,000], pinned like
# bench/run.sh PIN=1 (server on CPU 1, wrk on CPU 0). The rows are written with the sqlite3
# command line (random 32-byte hashes, as Tessera makes them) into a database Tessera created
# (migrations and bench/bootstrap.toml applied), then Tessera serves it.
#
#   bench/scale.sh            TESSERA_BIN [target/release/tessera]  DURATION [10s]
#   Needs wrk, sqlite3, curl, python3. The database is kept in $DIR [/tmp/tessera-scale].
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
BIN="${TESSERA_BIN:-$ROOT/target/release/tessera}"
USERS="${USERS:-1000000}"
TOKENS="${TOKENS:-10000000}"
DURATION="${DURATION:-10s}"
DIR="${DIR:-/tmp/tessera-scale}"
PORT=18090
BASE="http://127.0.0.1:$PORT"
export CLIENT_ID=bench CLIENT_SECRET=bench-secret TOKEN_PATH=/oauth/token INTROSPECT_PATH=/oauth/introspect

config() { # dir
  cat > "$1/tessera.toml" <<EOF
[server]
listen = "127.0.0.1:$PORT"
issuer = "$BASE"
[log]
level = "warn"
[database]
url = "sqlite://$1/tessera.db"
[keys]
dir = "$1/keys"
[bootstrap]
file = "$HERE/bootstrap.toml"
EOF
}

start() { # dir
  taskset -c 1 "$BIN" serve --config "$1/tessera.toml" > "$1/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 200); do curl -fs "$BASE/readyz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server did not start: $(tail -3 "$1/server.log")" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }

measure() { # label
  local token rss
  taskset -c 0 wrk -c64 -t2 -d3s -s "$HERE/wrk/client_credentials.lua" "$BASE" >/dev/null
  local cc; cc="$(taskset -c 0 wrk -c64 -t2 -d"$DURATION" --latency -s "$HERE/wrk/client_credentials.lua" "$BASE")"
  token="$(curl -fs -u bench:bench-secret -d grant_type=client_credentials -d scope=read "$BASE/oauth/token" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
  export TOKEN="$token"
  taskset -c 0 wrk -c64 -t2 -d3s -s "$HERE/wrk/introspect.lua" "$BASE" >/dev/null
  local it; it="$(taskset -c 0 wrk -c64 -t2 -d"$DURATION" --latency -s "$HERE/wrk/introspect.lua" "$BASE")"
  rss="$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")"
  printf '%s\tclient_credentials\t%s req/s\tp99 %s\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$cc")" "$(awk '$1=="99%" {print $2}' <<<"$cc")"
  printf '%s\tintrospect\t%s req/s\tp99 %s\tRSS %s MiB\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$it")" "$(awk '$1=="99%" {print $2}' <<<"$it")" "$((rss / 1024))"
}

rm -rf "$DIR"; mkdir -p "$DIR"
config "$DIR"
start "$DIR"; measure empty; stop

echo "== writing $USERS users and $TOKENS live tokens (sqlite3)"
now="$(date +%s)"
sqlite3 "$DIR/tessera.db" <<EOF
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -2000000;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS)
INSERT INTO users (id, username, phone, email, password_hash, user_type, source, display_name,
  real_name, gender, birthday, title, employee_number, portrait, state, enabled, active,
  locked_until, expires_at, phone_verified, email_verified, failed_attempts, created_at)
SELECT 100000000 + i, 'scale' || i, printf('139%08d', i), 'scale' || i || '@example.test', NULL,
  'P', 'local', 'Scale ' || i, '', 0, NULL, '', '', '', '', 1, 1, NULL, NULL, 1, 1, 0, $now FROM n;
COMMIT;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $TOKENS)
INSERT INTO tokens (hash, kind, family_id, client_id, user_id, tenant_id, org_id, app_key_id,
  scope, device_id, source_type, session_id, issued_at, expires_at, used_at, revoked_at)
SELECT randomblob(32), CASE WHEN i % 2 = 0 THEN 'access' ELSE 'refresh' END,
  abs(random()) % 9007199254740991 + 1, 'bench', 100000000 + (i % $USERS) + 1, NULL, NULL, NULL,
  'read', NULL, NULL, NULL, $now, $now + 86400, NULL, NULL FROM n;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
EOF
ls -la "$DIR/tessera.db" | awk '{printf "database file: %.1f GiB\n", $5 / 1073741824}'
start "$DIR"; measure "${USERS}u/${TOKENS}t"; stop

#!/usr/bin/env bash
# Schema-driven test of the HTTP surface (issue 6): schemathesis (PyPI) reads /openapi.json and
# sends valid and invalid requests to every documented operation, failing on any 5xx answer
# (`--checks not_a_server_error`). It runs against the real binary (target/debug/tessera, or
# $TESSERA_BIN) started with `--demo` data in a throw-away directory: the admin API with an admin
# token (so that it is exercised past its 401), the rest as the demo-standard client.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin="${TESSERA_BIN:-target/debug/tessera}"
[[ -x "$bin" ]] || { echo "schemathesis: no tessera binary at $bin (cargo build first)" >&2; exit 1; }
venv="${SCHEMATHESIS_VENV:-target/schemathesis-venv}"
if [[ ! -x "$venv/bin/schemathesis" ]]; then
  echo "== schemathesis: installing from PyPI into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis>=4.0,<5'
fi
if [[ ! -x "$venv/bin/openapi-spec-validator" ]]; then
  "$venv/bin/pip" install -q --disable-pip-version-check 'openapi-spec-validator>=0.7,<1'
fi

dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
cat > "$dir/tessera.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
issuer = "$base"
[log]
level = "warn"
[database]
url = "sqlite://$dir/tessera.db"
[keys]
dir = "$dir/keys"
[passwords]
argon2_m_kib = 1024
argon2_t = 1
EOF
"$bin" serve --config "$dir/tessera.toml" --demo > "$dir/server.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  sleep 0.1
done

# The document itself must be valid OpenAPI (unique operation ids, resolvable references), or
# a client generated from it breaks before it sends anything.
echo "== openapi-spec-validator $base/openapi.json"
curl -fsS "$base/openapi.json" > "$dir/openapi.json"
"$venv/bin/openapi-spec-validator" "$dir/openapi.json"

token="$(curl -fsS -u demo-admin:demo-admin-secret -d grant_type=client_credentials \
  -d scope=tessera:admin "$base/oauth/token" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

status=0
# filter_too_much: Hypothesis drops generated path parameters that cannot go into a URL (`.`,
# `..`, empty); with some seeds that was most of them for `/admin/api/v1/clients/{id}`, and the
# run failed a health check instead of a test (CI, 2026-11-22). The requests it does send are
# checked as before.
run() {
  "$venv/bin/schemathesis" run "$base/openapi.json" \
    --checks not_a_server_error \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
    --workers 2 \
    --suppress-health-check=filter_too_much \
    --no-color "$@" || status=$?
}
echo "== schemathesis: the admin API, with an admin token"
run --include-path-regex '^/admin/' --header "Authorization: Bearer $token"
echo "== schemathesis: every other operation, as the demo-standard client (HTTP Basic)"
run --exclude-path-regex '^/admin/' --auth demo-standard:demo-secret
if grep -q "panicked" "$dir/server.log"; then
  echo "schemathesis: the server log shows a panic:" >&2
  grep -A5 "panicked" "$dir/server.log" >&2
  status=1
fi
exit "$status"

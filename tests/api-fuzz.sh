#!/usr/bin/env bash
# The API against its own description: schemathesis generates requests from openapi.yaml and
# sends them to a local stack (porter-dev: moto, the demo tenant), signed in as the demo admin.
# Fails on any 5xx, an undocumented status, or an answer that does not match its schema.
# Prints the number of operations and test cases it ran.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir="${CARGO_TARGET_DIR:-target}/debug"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=
cleanup() { [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin_dir/porter-dev" --port "$port" --moto-port 0 --env-file "$work/local.env" </dev/null >"$work/dev.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q "Press Ctrl-C" "$work/dev.log" 2>/dev/null && break; sleep 0.2; done
grep -q "Press Ctrl-C" "$work/dev.log" || { cat "$work/dev.log"; exit 1; }

base="http://localhost:$port"
cookie=$(python3 tests/fuzz/ready_admin.py "$base")
# Logout, new recovery codes and "sign out everywhere else" end the session the run uses;
# they are fuzzed signed out, as is the OpenID provider's logout (its confirmation posts back).
schemathesis run openapi.yaml --url "$base" \
  --header "Cookie: $cookie" --header "Origin: $base" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /api/logout --exclude-path /api/account/recovery-codes --exclude-path /api/account/sessions \
  --exclude-path /oauth2/logout \
  --max-examples "${FUZZ_EXAMPLES:-25}" --workers 1 --request-timeout 10 \
  --suppress-health-check all --no-color 2>&1 | tee "$work/fuzz.log"
schemathesis run openapi.yaml --url "$base" --header "Origin: $base" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --include-path /api/logout --include-path /api/account/recovery-codes --include-path /api/account/sessions \
  --include-path /oauth2/logout \
  --max-examples 10 --workers 1 --suppress-health-check all --no-color

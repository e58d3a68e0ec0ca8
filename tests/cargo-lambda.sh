#!/usr/bin/env bash
# The README's cargo-lambda commands, run for real: `cargo lambda watch` serves the functions
# (against the dev server's moto, through .porter-style env) and `cargo lambda invoke` sends
# the API Gateway events under tests/events. Prints "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir="${CARGO_TARGET_DIR:-target}/debug"
work=$(mktemp -d)
# Free loopback ports, unless given: two runs side by side never collide.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dev_port=${CL_DEV_PORT:-$(free_port)}
invoke_port=${CL_INVOKE_PORT:-$(free_port)}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # Kept for the secrets scan of the test run's logs.
  if [ -n "${PORTER_LOG_DIR:-}" ]; then cp "$work"/*.log "$PORTER_LOG_DIR"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The dev server brings moto, the table and a sender identity, and writes the environment.
"$bin_dir/porter-dev" --port "$dev_port" --moto-port 0 --no-demo --env-file "$work/local.env" </dev/null >"$work/dev.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "Press Ctrl-C" "$work/dev.log" 2>/dev/null && break; sleep 0.2; done
grep -q "Press Ctrl-C" "$work/dev.log" || { cat "$work/dev.log"; exit 1; }
set -a; . "$work/local.env"; set +a

cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$invoke_port" </dev/null >"$work/watch.log" 2>&1 &
pids+=($!)
ready=
for _ in $(seq 1 150); do
  (echo >"/dev/tcp/127.0.0.1/$invoke_port") 2>/dev/null && { ready=1; break; }
  sleep 0.2
done
[ -n "$ready" ] || { echo "cargo lambda watch did not listen on $invoke_port within 30 s"; tail -20 "$work/watch.log"; exit 1; }

passed=0; failed=0
check() { # function event expected-status expected-text
  local out
  out=$(cargo lambda invoke "$1" --invoke-address 127.0.0.1 --invoke-port "$invoke_port" --data-file "tests/events/$2" 2>&1) || true
  if grep -q "\"statusCode\":$3" <<<"$out" && grep -q "$4" <<<"$out"; then
    echo "ok - $1 $2 -> $3"; passed=$((passed + 1))
  else
    echo "not ok - $1 $2: expected $3 and '$4', got: $out"; failed=$((failed + 1))
  fi
}
check activate activation-unknown-token.json 404 token_invalid
check activate activation-missing-token.json 400 'missing field'
check activate activation-resend.json 202 accepted
check web health.json 200 '\\"status\\":\\"ok\\"'
check web activate-page.json 200 'Choose your password'
# Every other function, once: the answer each gives a caller without a session.
check login identify.json 200 '\\"next\\":\\"password\\"'
check me me-signed-out.json 401 unauthenticated
check mfa-enroll mfa-totp-signed-out.json 401 unauthenticated
check setup setup-signed-out.json 401 unauthenticated
check organizations organizations-signed-out.json 401 unauthenticated
check invite-user add-user-signed-out.json 401 unauthenticated
check users list-users-signed-out.json 401 unauthenticated
check configure-sso sso-config-signed-out.json 401 unauthenticated
check login-callback callback-unknown-state.json 302 'sso_expired'
check api-management platform-config-signed-out.json 401 unauthenticated
check check-license license-check-signed-out.json 401 unauthenticated
check account account-reauth-signed-out.json 401 unauthenticated
check account-password account-password-signed-out.json 401 unauthenticated
check token token-signed-out.json 401 unauthenticated
check token jwks.json 200 '\\"kty\\":\\"EC\\"'
check oauth2 openid-configuration.json 200 'authorization_response_iss_parameter_supported'
check oauth2 oauth2-token-unknown-client.json 401 invalid_client
# The sample product function answers what the authorizer's context says.
check solutions solution-with-context.json 200 '\\"module\\":\\"patching\\"'
# The authorizer answers API Gateway's authorizer requests (simple responses).
for event in authorizer-no-identity.json authorizer-forged-token.json; do
  out=$(cargo lambda invoke authorizer --invoke-address 127.0.0.1 --invoke-port "$invoke_port" --data-file "tests/events/$event" 2>&1) || true
  if grep -q '"isAuthorized":false' <<<"$out"; then
    echo "ok - authorizer $event -> refused"; passed=$((passed + 1))
  else
    echo "not ok - authorizer $event: expected isAuthorized false, got: $out"; failed=$((failed + 1))
  fi
done
# The mailer is fed by SQS, not HTTP: a job for an address nobody has is done (nothing to
# send) and reported as no failure.
out=$(cargo lambda invoke mailer --invoke-address 127.0.0.1 --invoke-port "$invoke_port" --data-file tests/events/mail-job.json 2>&1) || true
if grep -q '"batchItemFailures":\[\]' <<<"$out"; then
  echo "ok - mailer mail-job.json -> no failures"; passed=$((passed + 1))
else
  echo "not ok - mailer mail-job.json: expected no batch item failures, got: $out"; failed=$((failed + 1))
fi
# Operators read one JSON line per request, carrying the invocation's request id.
if grep -q '"message":"answered".*"request_id":"[0-9a-f-]\{8,\}"' "$work/watch.log" \
   || grep -q '"request_id":"[0-9a-f-]\{8,\}".*"message":"answered"' "$work/watch.log"; then
  echo "ok - JSON request lines with the Lambda request id"; passed=$((passed + 1))
else
  echo "not ok - no JSON request line with a request id in the function logs"; failed=$((failed + 1))
fi
echo "cargo-lambda: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || { tail -20 "$work/watch.log"; exit 1; }

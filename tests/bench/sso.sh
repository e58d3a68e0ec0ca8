#!/usr/bin/env bash
# Single sign-on, measured: the warm latency of GET /api/login/callback/{ref} (state taken,
# code exchanged at the provider, ID token checked, session written) against the local OpenID
# provider that `make dev` runs, through the release dev server. Bounded: N sign-ins.
#   bash tests/bench/sso.sh [N]      (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-30}
. tests/bench/devserver.sh
jar="$work/jar"

# One sign-in of the demo SSO admin; prints the callback's time in ms.
sign_in() {
  local redirect loc
  redirect=$(curl -s -c "$jar" -b "$jar" -H 'content-type: application/json' -H "Origin: $base" \
    -d '{"email":"admin@sso.test"}' "$base/api/login/identify" | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a.get("redirect") or sys.exit(f"identify answered {a}"))')
  loc=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" "$redirect")
  # First time only: the provider's sign-in form, then its consent.
  while [[ "$loc" == *"/interaction/"* ]]; do
    local uid=${loc##*/interaction/}
    local page; page=$(curl -s -c "$jar" -b "$jar" "$loc")
    local form
    if grep -q 'name="login"' <<<"$page"; then form="prompt=login&login=admin%40sso.test&password=x"; else form="prompt=consent"; fi
    loc=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" -d "$form" "${loc%/interaction/*}/interaction/$uid")
    loc=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" "$loc")
  done
  [[ "$loc" == "$base/api/login/callback/"*"?"* ]] || { echo "unexpected redirect: $loc" >&2; exit 1; }
  curl -s -o "$work/cb" -w '%{http_code} %{redirect_url} %{time_total}\n' -c "$jar" -b "$jar" "$loc" >"$work/out"
  read -r code to secs <"$work/out"
  # Into the app, or (the demo asks for Porter's factor unless the provider proved two) to it.
  [[ "$code" == 302 && ( "$to" == *"/app"* || "$to" == *"/login?step=mfa_"* ) ]] || { echo "callback answered $code $to" >&2; exit 1; }
  python3 -c "print(round($secs*1000, 2))"
}

sign_in >/dev/null   # cold: JWKS fetched, data structures warmed
for _ in $(seq 1 "$n"); do sign_in; done >"$work/times"
python3 - "$work/times" <<'PY'
import statistics, sys
t = sorted(float(x) for x in open(sys.argv[1]))
print(f"callback, warm, {len(t)} sign-ins: median {statistics.median(t):.1f} ms, "
      f"p90 {t[int(len(t)*0.9)-1]:.1f} ms, min {t[0]:.1f} ms, max {t[-1]:.1f} ms")
PY

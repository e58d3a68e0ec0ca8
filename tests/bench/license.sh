#!/usr/bin/env bash
# Check License, measured: the warm latency of POST /api/license/check (key opened, client
# assertion signed, metadata + token + entitlements fetched from the platform stand-in,
# entitlements stored) through the release dev server. Bounded: N checks.
#   bash tests/bench/license.sh [N]      (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-30}
target=${CARGO_TARGET_DIR:-target}
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=http://127.0.0.1:9 RUST_LOG=warn
cargo build --release -q -p porter-dev
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$target/release/porter-dev" --port "$port" --moto-port 0 --env-file "$work/env" </dev/null >"$work/dev.log" 2>&1 &
dev=$!
trap 'kill -INT $dev 2>/dev/null; wait $dev 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do grep -q "Press Ctrl-C" "$work/dev.log" && break; sleep 0.2; done
grep -q "Press Ctrl-C" "$work/dev.log" || { cat "$work/dev.log"; exit 1; }
python3 tests/bench/license.py "http://localhost:$port" "$work/env" "$(grep -o 'activation link: \S*' "$work/dev.log" | head -1 | cut -d' ' -f3)" "$n"
